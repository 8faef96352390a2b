package rules

import (
	"strings"
	"testing"
)

func TestParseClientNetworks(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		want    string
		wantErr string
	}{
		{name: "addresses and prefixes", in: []string{"10.1.2.3/8", " 192.0.2.7 ", "2001:db8::1/32", "::1", ""}, want: "10.0.0.0/8 192.0.2.7/32 2001:db8::/32 ::1/128"},
		{name: "none", in: nil, want: ""},
		{name: "nginx syntax smuggled", in: []string{"10.0.0.0/8 1; } server {"}, wantErr: "neither an address nor a CIDR prefix"},
		{name: "template action", in: []string{"{{ key \"x\" }}"}, wantErr: "neither an address"},
		{name: "hostname", in: []string{"admin.example.com"}, wantErr: "neither an address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClientNetworks(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || Hint(err) == "" {
					t.Errorf("ParseClientNetworks(%q) = %q, %v; want an error with %q and a hint", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != tc.want {
				t.Errorf("ParseClientNetworks(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}
