package rules

import (
	"fmt"
	"strings"
)

// MaxLockKeyLen bounds a lock key; Consul keys may be longer, but a lock
// key is written into ACL policies and command lines.
const MaxLockKeyLen = 256

// CheckLockKey reports whether key is in the one normal form lock keys
// have: segments of letters, digits, '_', '-' and '.', joined by single
// '/', without a leading or trailing '/', and no "." or ".." segment.
// Anything else is refused rather than normalised: Consul's HTTP server
// cleans a path ("a//b" is stored as "a/b", "a/../b" is redirected), so a
// key that is not already clean names a different key than the ACL policy
// that was rendered for it.
func CheckLockKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("lock key is empty")
	case len(key) > MaxLockKeyLen:
		return fmt.Errorf("lock key is %d bytes long; at most %d", len(key), MaxLockKeyLen)
	case strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/"):
		return fmt.Errorf("lock key %q starts or ends with '/'", key)
	}
	for _, seg := range strings.Split(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("lock key %q has an empty segment ('//')", key)
		case seg == "." || seg == "..":
			return fmt.Errorf("lock key %q has a %q segment", key, seg)
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
				return fmt.Errorf("lock key %q has the character %q; use letters, digits, '_', '-', '.' and '/'", key, r)
			}
		}
	}
	return nil
}
