package kantreestub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"
)

// newID returns a random hex id of n bytes.
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// deadlineSoon is the deadline of a best-effort write at shutdown.
func deadlineSoon() time.Time { return time.Now().Add(time.Second) }
