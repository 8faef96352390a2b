package main

import (
	"strings"
	"testing"
)

func TestSplitArgs(t *testing.T) {
	boolean := map[string]bool{"f": true, "stderr": true}
	tests := []struct {
		name       string
		in         []string
		flags, pos string
	}{
		{name: "flags after positionals", in: []string{"kantree.hcl", "web", "-f", "-n", "5"}, flags: "-f -n 5", pos: "kantree.hcl web"},
		{name: "flags first", in: []string{"-since=1h", "-stderr", "kantree.hcl", "worker"}, flags: "-since=1h -stderr", pos: "kantree.hcl worker"},
		{name: "value flag between", in: []string{"kantree.hcl", "-address", "http://n:4646", "web"}, flags: "-address http://n:4646", pos: "kantree.hcl web"},
		{name: "double dash", in: []string{"-f", "--", "-weird", "web"}, flags: "-f", pos: "-weird web"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			flags, pos := splitArgs(tc.in, boolean)
			if strings.Join(flags, " ") != tc.flags || strings.Join(pos, " ") != tc.pos {
				t.Errorf("splitArgs(%q) = %q, %q; want %q, %q", tc.in, flags, pos, tc.flags, tc.pos)
			}
		})
	}
}
