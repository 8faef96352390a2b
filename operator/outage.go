package operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// DefaultOutage is how long a watch rides out Nomad not answering (a
// server restarting, a leader election) before it stops watching. A
// single server restarted on its data answers again within seconds; a
// leader election among three servers takes a few more.
const DefaultOutage = 2 * time.Minute

// ErrUnreachable is wrapped by the error of a watch that stopped because
// Nomad did not answer for longer than Cluster.Outage. Nothing is known of
// the outcome; the work goes on in Nomad, and the error says how to watch
// it again.
var ErrUnreachable = errors.New("Nomad did not answer")

// maxBackoff bounds the wait between two calls during an outage, so that a
// watch sees Nomad back within seconds of its return.
const maxBackoff = 5 * time.Second

// transient reports whether err is what a call to Nomad gets while a
// server restarts or elects a leader: no connection (refused, reset,
// closed midway), no answer in time, or a 5xx or 429 answer (500 "No
// cluster leader", "rpc error: ..."). A 4xx answer (a missing deployment,
// a denied token) is not: asking again gets the same answer.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var status interface{ StatusCode() int }
	if errors.As(err, &status) && status.StatusCode() != 0 {
		return status.StatusCode() >= 500 || status.StatusCode() == 429
	}
	for _, e := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	// Some calls of the Nomad library flatten the error to text.
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "EOF", "No cluster leader", "rpc error", "Client.Timeout exceeded"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// outage follows the calls of one watch: it lets the watch poll on through
// transient failures for at most Cluster.Outage, saying once on Warn that
// Nomad does not answer and once that it answers again.
type outage struct {
	c      *Cluster
	what   string // what is watched, e.g. "deployment 1a2b3c4d of job kantree"
	resume string // the command that watches it again
	hint   string // what to do once Nomad answers; "" for "watch it to its end with" resume
	fate   string // what is known of it when the watch stops; "" for "<what> goes on in Nomad"
	since  time.Time
	calls  int
	last   error
}

func (c *Cluster) newOutage(what, resume string) *outage {
	return &outage{c: c, what: what, resume: resume}
}

// check takes the error of one call (nil: Nomad answered). It returns
// wait > 0 when the call failed transiently within the bound (the caller
// waits that long, then calls again), or the error to return: err itself
// when it is not transient, an error wrapping ErrUnreachable once the
// bound is passed.
func (o *outage) check(ctx context.Context, op string, err error) (time.Duration, error) {
	c := o.c
	if err == nil {
		if !o.since.IsZero() {
			fmt.Fprintf(c.warn(), "kantree-nomad: Nomad answers again after %s; still watching %s\n", c.Now().Sub(o.since).Round(100*time.Millisecond), o.what)
			o.since, o.calls = time.Time{}, 0
		}
		return 0, nil
	}
	if ctx.Err() != nil || c.Outage <= 0 || !transient(err) {
		return 0, nomadError(op, err)
	}
	now := c.Now()
	if o.since.IsZero() {
		o.since = now
		fmt.Fprintf(c.warn(), "kantree-nomad: warning: Nomad does not answer (%s: %v); %s goes on in Nomad; retrying for up to %s\n", op, err, o.what, c.Outage)
	}
	o.calls++
	o.last = fmt.Errorf("%s: %w", op, err)
	down := now.Sub(o.since)
	if down >= c.Outage {
		return 0, o.lost(down)
	}
	return min(c.Poll<<min(o.calls-1, 6), maxBackoff, c.Outage-down), nil
}

// lost is the error of a watch that gave up on Nomad after down.
func (o *outage) lost(down time.Duration) error {
	fate := o.fate
	if fate == "" {
		fate = o.what + " goes on in Nomad"
	}
	o.c.printf("==> Stopped watching: Nomad did not answer for %s; %s. To watch it again: %s", down.Round(time.Second), fate, o.resume)
	hint := o.hint
	if hint == "" {
		hint = "Once Nomad answers again, watch it to its end with: " + o.resume
	}
	return rules.WithHint(fmt.Errorf("%s: %w for %s (-outage %s; last: %v): the outcome is unknown", o.what, ErrUnreachable, down.Round(time.Second), o.c.Outage, o.last), hint)
}

// warn is where notices that are not progress go: Warn, or Out.
func (c *Cluster) warn() io.Writer {
	if c.Warn != nil {
		return c.Warn
	}
	return c.Out
}
