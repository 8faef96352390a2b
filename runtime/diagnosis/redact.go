package diagnosis

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces every secret that Redact removes.
const Mask = "xxxxx"

var (
	// urlToken finds URL-like tokens in free text: a scheme, "://", and
	// everything up to white space or a quote.
	urlToken = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.\\-]*://[^\\s\"'`]*")
	// urlStart tells a URL from a key=value DSN.
	urlStart = regexp.MustCompile(`^\s*[A-Za-z][A-Za-z0-9+.\-]*://`)
	// secretQuery finds password parameters in a URL query; the value ends
	// at '&' or '#'.
	secretQuery = regexp.MustCompile(`(?i)\b((?:ssl|sentinel_)?password|pass|pwd)=([^&#]*)`)
	// secretKey finds the start of a password in a key=value DSN.
	secretKey = regexp.MustCompile(`(?i)\b((?:ssl|sentinel_)?password|pass|pwd)(\s*=\s*)`)
	// nextKey is what follows a value in a well-formed key=value DSN.
	nextKey = regexp.MustCompile(`^\s+[A-Za-z_][A-Za-z0-9_]*\s*=`)
)

// Redact returns s with every password it can recognise replaced by Mask:
// the password in the user info of URLs (postgres://, postgresql://,
// redis://, rediss://, redis-sentinel://, multi-host forms included),
// password query parameters, and password=... in key=value DSNs. It reads s
// as free text; when s is known to be one URL or DSN, RedactDSN masks more
// reliably. When a URL is ambiguous it masks too much rather than too
// little.
func Redact(s string) string {
	var b strings.Builder
	last := 0
	for _, loc := range urlToken.FindAllStringIndex(s, -1) {
		b.WriteString(redactKV(s[last:loc[0]]))
		b.WriteString(redactURL(s[loc[0]:loc[1]]))
		last = loc[1]
	}
	b.WriteString(redactKV(s[last:]))
	return b.String()
}

// RedactDSN returns dsn, one URL or one key=value DSN, with its passwords
// masked. Unlike Redact it reads the whole string as one URL, so a password
// holding quotes, spaces or '@' is masked whole.
func RedactDSN(dsn string) string {
	if urlStart.MatchString(dsn) {
		return redactURL(dsn)
	}
	return redactKVWhole(dsn, true)
}

// redactKV masks the value of every password key in s, read the way libpq
// and pgx read a key=value DSN: a value runs to the first white space that
// is neither quoted nor escaped with a backslash.
func redactKV(s string) string { return redactKVWhole(s, false) }

// redactKVWhole is redactKV; when whole is true, s is one DSN, and a value
// followed by anything but another key=value (a password with unquoted
// spaces, which the DSN parser rejects) is masked up to the next key.
func redactKVWhole(s string, whole bool) string {
	var b strings.Builder
	for {
		loc := secretKey.FindStringIndex(s)
		if loc == nil {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:loc[1]])
		s = s[loc[1]:]
		end := kvValueEnd(s, whole)
		if end > 0 {
			b.WriteString(Mask)
		}
		s = s[end:]
	}
}

// kvValueEnd returns the length of the value at the start of s. With
// whole, unquoted white space ends the value only before another key= or
// at the end.
func kvValueEnd(s string, whole bool) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++
		case c == '\'':
			quoted = !quoted
		case !quoted && isSpace(c) && (!whole || strings.TrimSpace(s[i:]) == "" || nextKey.MatchString(s[i:])):
			return i
		}
	}
	return len(s)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// kvValue returns the value at the start of s as pgx reads it: quotes
// removed, backslash escapes resolved.
func kvValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		} else if s[i] == '\'' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// redactURL masks the password of the user info and of query parameters.
// The user info ends at the last '@' before the query; when the part before
// the first '?' holds no '@', the last '@' anywhere is taken (a password may
// contain an unescaped '?').
func redactURL(u string) string {
	i := strings.Index(u, "://") + 3
	scheme, rest := u[:i], u[i:]
	at := userinfoEnd(rest)
	if at >= 0 {
		user, _, hasPass := strings.Cut(rest[:at], ":")
		if hasPass {
			rest = user + ":" + Mask + rest[at:]
			at = len(user) + 1 + len(Mask)
		}
	}
	head, query := rest[:at+1], rest[at+1:]
	return scheme + head + secretQuery.ReplaceAllString(query, "${1}="+Mask)
}

// userinfoEnd returns the index of the '@' that ends the user info of rest
// (a URL after "://"), or -1.
func userinfoEnd(rest string) int {
	at := strings.LastIndex(cut(rest, "?"), "@")
	if at < 0 {
		at = strings.LastIndex(rest, "@")
	}
	return at
}

func cut(s, sep string) string {
	before, _, _ := strings.Cut(s, sep)
	return before
}

// Secrets returns the passwords found in a URL or DSN (raw, and decoded as
// the server receives them), so that output can be filtered for them. Empty
// passwords are not returned.
func Secrets(dsn string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if dec, err := url.PathUnescape(s); err == nil && dec != s {
			out = append(out, dec)
		}
	}
	if i := strings.Index(dsn, "://"); i >= 0 && urlStart.MatchString(dsn) {
		rest := dsn[i+3:]
		at := userinfoEnd(rest)
		if at >= 0 {
			if _, pass, ok := strings.Cut(rest[:at], ":"); ok {
				add(pass)
			}
		}
		for _, m := range secretQuery.FindAllStringSubmatch(rest[at+1:], -1) {
			add(m[2])
		}
		return out
	}
	s := dsn
	for loc := secretKey.FindStringIndex(s); loc != nil; loc = secretKey.FindStringIndex(s) {
		s = s[loc[1]:]
		end := kvValueEnd(s, true)
		if raw := s[:end]; raw != "" {
			out = append(out, raw)
			if v := kvValue(raw); v != raw && v != "" {
				out = append(out, v)
			}
		}
		s = s[end:]
	}
	return out
}
