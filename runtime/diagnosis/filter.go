package diagnosis

import (
	"io"
	"strings"
	"sync"
)

// minSecretLen is the shortest secret the Filter masks: masking every "ab"
// in the output would make it unreadable, and Redact already masks short
// passwords where they appear in URLs and DSNs.
const minSecretLen = 4

// Filter is a writer that masks known secrets in everything written through
// it. It is the last line of defence behind Redact, for text built from
// errors of libraries that might echo a connection string. It is safe for
// concurrent use; each Write is filtered on its own, so a secret split
// across two writes is not caught.
type Filter struct {
	mu       sync.Mutex
	w        io.Writer
	replacer *strings.Replacer
}

// NewFilter returns a Filter writing to w that masks each secret.
func NewFilter(w io.Writer, secrets ...string) *Filter {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= minSecretLen {
			pairs = append(pairs, s, Mask)
		}
	}
	return &Filter{w: w, replacer: strings.NewReplacer(pairs...)}
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
