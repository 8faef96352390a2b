package rules

import (
	"errors"
	"fmt"
	"testing"
)

func TestCheckLockKey(t *testing.T) {
	tests := []struct {
		name, key string
		ok        bool
	}{
		{name: "default", key: "kantree/kantree/scheduler", ok: true},
		{name: "dots and dashes", key: "a.b/c-d/e_f", ok: true},
		{name: "empty", key: ""},
		{name: "leading slash", key: "/kantree/x"},
		{name: "trailing slash", key: "kantree/x/"},
		{name: "double slash", key: "kantree//x"},
		{name: "dot dot", key: "kantree/../../other/lock"},
		{name: "dot", key: "kantree/./x"},
		{name: "space", key: "kantree/a b"},
		{name: "quote", key: `kantree/a"b`},
		{name: "template", key: "kantree/{{x}}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckLockKey(tc.key)
			if (err == nil) != tc.ok {
				t.Errorf("CheckLockKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"8.4.1", "8.4.1", 0},
		{"8.4", "8.4.0", 0},
		{"8.10", "8.9.9", 1},
		{"9.0.0-rc1", "9.0.0", -1},
		{"9.0.0-rc.10", "9.0.0-rc.9", 1},
		{"9.0.0-rc.1", "9.0.0-rc.1.1", -1},
		{"v1.6.1", "1.6.1+ent", 0},
		{"1.10.0", "1.6.1", 1},
	}
	for _, tc := range tests {
		t.Run(tc.a+"_vs_"+tc.b, func(t *testing.T) {
			got, err := CompareVersions(tc.a, tc.b)
			if err != nil || got != tc.want {
				t.Errorf("CompareVersions(%q, %q) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
			}
			back, _ := CompareVersions(tc.b, tc.a)
			if back != -tc.want {
				t.Errorf("CompareVersions(%q, %q) = %d; want %d (antisymmetric)", tc.b, tc.a, back, -tc.want)
			}
		})
	}
	for _, bad := range []string{"", "8", "8.x", "8.4.1.2", "08.1", "08.4", "8.4.01", "8.4-", "1..2", "8.4+", "8.4-rc..1", "8.4-a b", "8.4-${x}", "8.4-{{x}}", "8.4+é"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
}

func TestHint(t *testing.T) {
	base := errors.New("boom")
	err := fmt.Errorf("outer: %w", WithHint(base, "do this"))
	if got := Hint(err); got != "do this" {
		t.Errorf("Hint = %q, want %q", got, "do this")
	}
	if !errors.Is(err, base) {
		t.Error("WithHint does not wrap")
	}
	if Hint(base) != "" || WithHint(nil, "x") != nil {
		t.Error("no hint expected")
	}
	lt := CheckLockTimings(LockTimings{TTL: 10e9, LockDelay: 1e9, KillGrace: 2e9})
	if lt == nil || Hint(lt) == "" {
		t.Errorf("lock timing error %v carries no hint", lt)
	}
}

func TestLedgerLineRoundTrip(t *testing.T) {
	out := "noise\n" + LedgerLine("8.4.1", "8.4.1", 2) + "\n" + LedgerLine("8.4.2", "8.5.0", 1) + "\nkantree-nomad-ledger: garbage\n"
	rec, ok := FindLedgerLine(out, "8.4.1")
	if !ok || rec != (LedgerRecord{Release: "8.4.1", Status: "succeeded", Schema: "8.4.1", Attempt: 2}) {
		t.Errorf("8.4.1: got %+v %v", rec, ok)
	}
	if rec, ok := FindLedgerLine(out, "8.4.2"); !ok || rec.Schema != "8.5.0" {
		t.Errorf("8.4.2: got %+v %v", rec, ok)
	}
	if _, ok := FindLedgerLine(out, "8.4"); ok {
		t.Errorf("a release that no line names was found")
	}
}

// TestUnknownLedgerLine: deploy reads migrate's refusal line back with the
// same parser, status and attempt intact, and never takes it for a success.
func TestUnknownLedgerLine(t *testing.T) {
	out := LedgerLine("8.4.0", "8.4.0", 1) + "\nkantree-nomad: error: ...\n" + UnknownLedgerLine("8.4.1", 3) + "\n"
	rec, ok := FindLedgerLine(out, "8.4.1")
	if !ok || rec.Status != LedgerUnknown || rec.Attempt != 3 {
		t.Errorf("got %+v %v, want status %s attempt 3", rec, ok, LedgerUnknown)
	}
	if rec.Status == LedgerSucceeded {
		t.Errorf("an unknown line read as a success")
	}
}
