package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a release number major.minor[.patch][-pre][+build], as Kantree
// and Nomad write them. Build metadata is kept but never compared.
//
// This is the one grammar of a release: kantree.hcl's kantree.version
// (jobspec), the -release flags of migrate and preflight, the migration
// ledger and the operator's checks all parse with ParseVersion, so what
// validate accepts every task accepts.
type Version struct {
	Major, Minor, Patch int
	Pre                 string // "" for a release; "rc1", "beta.2"...
	Build               string
	text                string
}

// ParseVersion parses "8.4", "8.4.1", "9.0.0-rc1", "1.6.1+ent"; a leading
// "v" is accepted. Numbers have no leading zero ("08.4" and "8.4.01" are
// refused: they would compare equal to 8.4 and 8.4.1 while naming another
// release); pre-release and build are dot-separated identifiers of ASCII
// letters, digits and '-'.
func ParseVersion(s string) (Version, error) {
	v := Version{text: s}
	rest := strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		rest, v.Build = rest[:i], rest[i+1:]
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		rest, v.Pre = rest[:i], rest[i+1:]
		if err := checkIdents(v.Pre); err != nil {
			return Version{}, fmt.Errorf("version %q: pre-release %q: %w", s, v.Pre, err)
		}
	}
	if i := strings.IndexByte(s, '+'); i >= 0 {
		if err := checkIdents(v.Build); err != nil {
			return Version{}, fmt.Errorf("version %q: build %q: %w", s, v.Build, err)
		}
	}
	parts := strings.Split(rest, ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("version %q: want major.minor or major.minor.patch", s)
	}
	nums := []*int{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" || (len(p) > 1 && p[0] == '0') {
			return Version{}, fmt.Errorf("version %q: %q is not a number without leading zeros", s, p)
		}
		*nums[i] = n
	}
	return v, nil
}

// checkIdents checks dot-separated identifiers of [0-9A-Za-z-].
func checkIdents(s string) error {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return fmt.Errorf("empty identifier")
		}
		for _, r := range id {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return fmt.Errorf("%q is not an ASCII letter, digit or '-'", r)
			}
		}
	}
	return nil
}

// String returns the version as it was written.
func (v Version) String() string { return v.text }

// Compare returns -1, 0 or +1 as v is older than, the same release as, or
// newer than w. A pre-release is older than its release; pre-releases
// compare as strings, dot-separated numeric parts as numbers.
func (v Version) Compare(w Version) int {
	for _, d := range []int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d != 0 {
			return sign(d)
		}
	}
	switch {
	case v.Pre == w.Pre:
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	}
	return comparePre(v.Pre, w.Pre)
}

func comparePre(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		an, aerr := strconv.Atoi(as[i])
		bn, berr := strconv.Atoi(bs[i])
		switch {
		case aerr == nil && berr == nil && an != bn:
			return sign(an - bn)
		case aerr == nil && berr != nil:
			return -1
		case aerr != nil && berr == nil:
			return 1
		case as[i] != bs[i]:
			return strings.Compare(as[i], bs[i])
		}
	}
	return sign(len(as) - len(bs))
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// CompareVersions parses and compares two versions; see Version.Compare.
func CompareVersions(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}
