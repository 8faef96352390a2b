package ledger

import "testing"

func TestNewestComparesVersions(t *testing.T) {
	tests := []struct {
		name     string
		releases []string
		want     string
	}{
		{name: "numeric, not lexical", releases: []string{"8.9.0", "8.10.0", "8.2"}, want: "8.10.0"},
		{name: "release after its pre-release", releases: []string{"9.0.0", "9.0.0-rc1"}, want: "9.0.0"},
		{name: "not versions ignored", releases: []string{"unversioned", "1.2"}, want: "1.2"},
		{name: "none", releases: nil, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Newest(tc.releases); got != tc.want {
				t.Errorf("Newest(%q) = %q, want %q", tc.releases, got, tc.want)
			}
		})
	}
}

func TestAtOrAfter(t *testing.T) {
	tests := []struct {
		applied, want string
		ok            bool
	}{
		{"8.10.0", "8.9.3", true}, {"8.10.0", "8.10", true}, {"8.10.0", "8.10.1", false},
		{"9.0.0-rc1", "9.0.0", false}, {"9.0.0", "9.0.0-rc1", true},
	}
	for _, tc := range tests {
		if got, err := AtOrAfter(tc.applied, tc.want); err != nil || got != tc.ok {
			t.Errorf("AtOrAfter(%s, %s) = %v, %v; want %v", tc.applied, tc.want, got, err, tc.ok)
		}
	}
}
