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
	// secretParam finds password parameters: in a URL query the value ends
	// at '&' or '#', in a key=value DSN at white space (or it is quoted).
	secretQuery = regexp.MustCompile(`(?i)\b((?:ssl|sentinel_)?password|pass|pwd)=([^&#]*)`)
	secretKV    = regexp.MustCompile(`(?i)\b((?:ssl|sentinel_)?password|pass|pwd)(\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)`)
)

// Redact returns s with every password it can recognise replaced by Mask:
// the password in the user info of URLs (postgres://, postgresql://,
// redis://, rediss://, redis-sentinel://, multi-host forms included),
// password query parameters, and password=... in key=value DSNs. When a URL
// is ambiguous it masks too much rather than too little.
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

func redactKV(s string) string {
	return secretKV.ReplaceAllString(s, "${1}${2}"+Mask)
}

// redactURL masks the password of the user info and of query parameters.
// The user info ends at the last '@' before the query; when the part before
// the first '?' holds no '@', the last '@' anywhere is taken (a password may
// contain an unescaped '?').
func redactURL(u string) string {
	i := strings.Index(u, "://") + 3
	scheme, rest := u[:i], u[i:]
	at := strings.LastIndex(cut(rest, "?"), "@")
	if at < 0 {
		at = strings.LastIndex(rest, "@")
	}
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

func cut(s, sep string) string {
	before, _, _ := strings.Cut(s, sep)
	return before
}

// Secrets returns the passwords found in a URL or DSN (decoded, as the
// server receives them), so that output can be filtered for them as a last
// line of defence. Empty passwords are not returned.
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
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		at := strings.LastIndex(cut(rest, "?"), "@")
		if at < 0 {
			at = strings.LastIndex(rest, "@")
		}
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
	for _, m := range secretKV.FindAllStringSubmatch(dsn, -1) {
		v := m[3]
		if strings.HasPrefix(v, "'") {
			v = strings.TrimSuffix(strings.TrimPrefix(v, "'"), "'")
			v = strings.NewReplacer(`\'`, "'", `\\`, `\`).Replace(v)
		}
		add(v)
	}
	return out
}
