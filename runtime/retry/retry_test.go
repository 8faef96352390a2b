package retry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// fakeClock advances only when the code under test waits.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func TestBackoffDelayGrowsWithJitterAndCap(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Factor: 2}
	tests := []struct {
		name string
		n    int
		rand float64
		want time.Duration
	}{
		{name: "first, no jitter", n: 1, rand: 0, want: 50 * time.Millisecond},
		{name: "first, full jitter", n: 1, rand: 0.999999, want: 99999950 * time.Nanosecond},
		{name: "third", n: 3, rand: 0.5, want: 300 * time.Millisecond},
		{name: "capped", n: 30, rand: 0.5, want: 750 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b.Rand = func() float64 { return tc.rand }
			if got := b.Delay(tc.n); got != tc.want {
				t.Errorf("Delay(%d) with rand %v = %v, want %v", tc.n, tc.rand, got, tc.want)
			}
		})
	}
}

func newTestRetrier(clock *fakeClock, timeout time.Duration, log *bytes.Buffer) *Loop {
	return &Loop{
		Clock:    clock,
		Backoff:  Backoff{Initial: time.Second, Max: 8 * time.Second, Factor: 2, Rand: func() float64 { return 0.5 }},
		Deadline: clock.Now().Add(timeout),
		Attempt:  time.Second,
		Log:      slog.New(slog.NewTextHandler(log, nil)),
	}
}

func TestRetryLogsEachAttemptThenSucceeds(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	var log bytes.Buffer
	r := newTestRetrier(clock, time.Minute, &log)
	calls := 0
	found, err := r.Run(context.Background(), Check{Name: "postgres", Target: "postgres://u:xxxxx@h/k",
		Try: func(context.Context) (string, error) {
			calls++
			if calls < 4 {
				return "", &diagnosis.Diagnosis{Kind: diagnosis.Refused, Service: "postgres", Summary: "refused"}
			}
			return "primary", nil
		}})
	if err != nil || found != "primary" {
		t.Fatalf("run = %q, %v; want primary, nil", found, err)
	}
	if got := strings.Count(log.String(), `msg="not ready"`); got != 3 {
		t.Errorf("%d 'not ready' lines, want 3:\n%s", got, log.String())
	}
	for _, want := range []string{"attempt=1", "attempt=3", "kind=connection-refused", "msg=ready", "attempt=4"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}
	wantWaits := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}
	if !equalDurations(clock.waits, wantWaits) {
		t.Errorf("waits %v, want %v", clock.waits, wantWaits)
	}
}

func TestRetryGivesUpAtDeadlineWithLastDiagnosis(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	var log bytes.Buffer
	r := newTestRetrier(clock, 20*time.Second, &log)
	calls := 0
	_, err := r.Run(context.Background(), Check{Name: "redis", Target: "redis://h",
		Try: func(context.Context) (string, error) {
			calls++
			return "", &diagnosis.Diagnosis{Kind: diagnosis.RedisNoAuth, Service: "redis", Summary: "noauth"}
		}})
	var d *diagnosis.Diagnosis
	if !errors.As(err, &d) || d.Kind != diagnosis.RedisNoAuth {
		t.Fatalf("err = %v, want the NOAUTH diagnosis", err)
	}
	// Waits 0.75, 1.5, 3, 6, 6, then the 2.75s left: 7 attempts in 20s.
	if calls != 7 || !clock.Now().Equal(time.Unix(1020, 0)) {
		t.Errorf("%d attempts ending at %v, want 7 ending at the deadline; waits %v", calls, clock.Now(), clock.waits)
	}
	if !strings.Contains(log.String(), `msg="giving up"`) {
		t.Errorf("no final line:\n%s", log.String())
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRetryKeepsTheTellingDiagnosisOverAFinalTimeout(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	var log bytes.Buffer
	r := newTestRetrier(clock, 5*time.Second, &log)
	calls := 0
	_, err := r.Run(context.Background(), Check{Name: "redis", Target: "redis://h",
		Try: func(context.Context) (string, error) {
			calls++
			if calls == 1 {
				return "", &diagnosis.Diagnosis{Kind: diagnosis.RedisMasterNotFound, Service: "redis"}
			}
			return "", &diagnosis.Diagnosis{Kind: diagnosis.Timeout, Service: "redis"}
		}})
	if KindOf(err) != diagnosis.RedisMasterNotFound {
		t.Errorf("final diagnosis %v, want the master-unknown one from attempt 1", KindOf(err))
	}
}

func TestRetryDoesNotRetryABadURL(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	var log bytes.Buffer
	r := newTestRetrier(clock, time.Minute, &log)
	calls := 0
	_, err := r.Run(context.Background(), Check{Name: "redis", Target: "(not set)",
		Try: func(context.Context) (string, error) {
			calls++
			return "", &diagnosis.Diagnosis{Kind: diagnosis.BadURL, Service: "redis"}
		}})
	if calls != 1 || KindOf(err) != diagnosis.BadURL {
		t.Errorf("%d attempts, err %v; want 1 attempt and the bad-url diagnosis", calls, err)
	}
}
