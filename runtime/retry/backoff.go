package retry

import (
	"math/rand/v2"
	"time"
)

// Clock is the time source of the retry loop, injected for tests.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Backoff is capped exponential backoff with "equal jitter": the wait
// before attempt n+1 is drawn from [d/2, d) where d = min(Max,
// Initial*Factor^(n-1)), so waits grow, never exceed Max, and copies of the
// job started together spread out.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
	Factor  float64
	Rand    func() float64 // uniform in [0, 1); injected for tests
}

// DefaultBackoff starts at 250ms, doubles, and caps at max (10s when max
// is not positive), with math/rand/v2 as the jitter source.
func DefaultBackoff(max time.Duration) Backoff {
	if max <= 0 {
		max = 10 * time.Second
	}
	return Backoff{Initial: 250 * time.Millisecond, Max: max, Factor: 2, Rand: rand.Float64}
}

// Delay returns the wait after failed attempt n (1-based).
func (b Backoff) Delay(n int) time.Duration {
	d := float64(b.Initial)
	for i := 1; i < n && d < float64(b.Max); i++ {
		d *= b.Factor
	}
	d = min(d, float64(b.Max))
	return time.Duration(d/2 + b.Rand()*d/2)
}
