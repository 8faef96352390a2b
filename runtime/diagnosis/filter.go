package diagnosis

import (
	"cmp"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
)

// minSecretLen is the shortest secret, or piece of a secret, that the
// Filter masks: masking every "ab" in the output would make it unreadable,
// and Redact already masks short passwords where they appear in URLs and
// DSNs.
const minSecretLen = 4

// Filter is a writer that masks known secrets in everything written through
// it. It is the last line of defence behind Redact, for text built from
// errors of libraries that echo pieces of a connection string. It is safe
// for concurrent use; each Write is filtered on its own, so a secret split
// across two writes is not caught (slog and the CLI write a line at once).
//
// It masks each secret as written, escaped the ways output escapes it
// (Go quoting as slog and %q do, URL encoding), and every piece of those
// forms between the characters where parsers cut (see pieces): a library
// that cuts a URL at a raw '@', a quote or a space still prints the pieces
// intact.
type Filter struct {
	mu       sync.Mutex
	w        io.Writer
	replacer *strings.Replacer
}

// NewFilter returns a Filter writing to w that masks each secret.
func NewFilter(w io.Writer, secrets ...string) *Filter {
	return &Filter{w: w, replacer: newMasker(secrets)}
}

// Write writes p to the underlying writer with secrets masked. It reports
// len(p) on success, as the caller's bytes were all consumed.
func (f *Filter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := io.WriteString(f.w, f.replacer.Replace(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// newMasker returns a replacer of every form of every secret by Mask,
// longest first so that a whole secret wins over its pieces.
func newMasker(secrets []string) *strings.Replacer {
	seen := map[string]bool{}
	for _, s := range secrets {
		for _, form := range forms(s) {
			for _, p := range pieces(form) {
				seen[p] = true
			}
			if len(form) >= minSecretLen {
				seen[form] = true
			}
		}
	}
	all := make([]string, 0, len(seen))
	for s := range seen {
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	pairs := make([]string, 0, 2*len(all))
	for _, s := range all {
		pairs = append(pairs, s, Mask)
	}
	return strings.NewReplacer(pairs...)
}

// forms lists s as output may print it.
func forms(s string) []string {
	quoted := strconv.Quote(s)
	ascii := strconv.QuoteToASCII(s)
	return []string{s, quoted[1 : len(quoted)-1], ascii[1 : len(ascii)-1],
		url.QueryEscape(s), url.PathEscape(s), url.UserPassword("", s).String()[1:]}
}

// pieces splits s where a URL or DSN parser may cut a password: at the
// delimiters of URLs (@ : / ? # & = %), quotes, backslashes and white
// space, keeping the pieces long enough to mask. A password "ss@SECRET"
// written raw in a URL makes a parser take "SECRET@host" for the host: the
// piece "SECRET" is masked wherever it appears.
func pieces(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, isCut) {
		if len(p) >= minSecretLen {
			out = append(out, p)
		}
	}
	return out
}

func isCut(r rune) bool {
	return strings.ContainsRune("@:/?#&=%'\"`\\,;", r) || unicode.IsSpace(r) || !unicode.IsPrint(r)
}
