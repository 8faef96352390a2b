package operator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// TestTransient: what a watch gets from a Nomad server without a leader,
// a stopped one, a connection closed or reset midway and one that never
// answers is transient; a 4xx answer of a live agent and a cancelled
// context are not. Every error comes from a real agent or a real socket.
func TestTransient(t *testing.T) {
	t.Parallel()
	leaderless := testbed.StartLeaderlessNomad(t)
	noLeader := deploymentErr(t, leaderless.Addr(), time.Minute)
	var nothing any
	_, notFound := leaderless.Client().Raw().Query("/v1/no-such-endpoint", &nothing, nil)
	stopped := testbed.StartLeaderlessNomad(t)
	if err := stopped.Process.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, cancelled := leaderless.Client().Deployments().Info("00000000-0000-0000-0000-000000000000", (&nomadapi.QueryOptions{}).WithContext(ctx))
	for _, tc := range []struct {
		name      string
		err       error
		transient bool
		contains  string // in the error, to show it is the one meant ("a|b": either)
	}{
		{"server without a leader", noLeader, true, "No cluster leader"},
		{"stopped server", deploymentErr(t, stopped.Addr(), time.Minute), true, "connection refused"},
		{"connection closed at once", deploymentErr(t, "http://"+closingListener(t, false), time.Minute), true, "EOF|reset"},
		{"connection reset", deploymentErr(t, "http://"+closingListener(t, true), time.Minute), true, "reset"},
		{"no answer within the timeout", deploymentErr(t, "http://"+silentListener(t), 300*time.Millisecond), true, "Client.Timeout"},
		{"unknown endpoint (404)", notFound, false, "404"},
		{"cancelled context", cancelled, false, "context canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !containsAny(tc.err.Error(), strings.Split(tc.contains, "|")) {
				t.Fatalf("error %v, want one containing %q", tc.err, tc.contains)
			}
			t.Logf("%v", tc.err)
			if got := transient(tc.err); got != tc.transient {
				t.Errorf("transient(%v) = %v, want %v", tc.err, got, tc.transient)
			}
		})
	}
}

// deploymentErr reads an unknown deployment from the agent at addr and
// returns the error.
func deploymentErr(t *testing.T, addr string, timeout time.Duration) error {
	t.Helper()
	conf := nomadapi.DefaultConfig()
	conf.Address, conf.HttpClient = addr, &http.Client{Timeout: timeout}
	c, err := nomadapi.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Deployments().Info("00000000-0000-0000-0000-000000000000", nil)
	return err
}

// closingListener accepts connections and closes them at once; with
// reset, with SO_LINGER 0, so that the peer gets a reset.
func closingListener(t *testing.T, reset bool) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if reset {
				buf := make([]byte, 1)
				_, _ = c.Read(buf) // the request has begun
				_ = c.(*net.TCPConn).SetLinger(0)
			}
			c.Close()
		}
	}()
	return l.Addr().String()
}

// TestOutageBound: within Cluster.Outage a transient failure asks the
// watch to wait (backing off, said once on Warn) and Nomad's answer
// afterwards is said once too; beyond it the error wraps ErrUnreachable
// and its hint ends with the command to watch again; with no bound, and
// for an error that is not transient, the first failure is the error.
func TestOutageBound(t *testing.T) {
	t.Parallel()
	refused := deploymentErr(t, fmt.Sprintf("http://127.0.0.1:%d", testbed.FreePort(t)), time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var warn, out bytes.Buffer
	c := &Cluster{Out: &out, Warn: &warn, Now: func() time.Time { return now }, Poll: time.Second, Outage: time.Minute}
	o := c.newOutage("deployment 1a2b3c4d of job kt", "nomad deployment status -monitor 1a2b3c4d-full")
	ctx := context.Background()
	var waits []time.Duration
	for i := 0; i < 4; i++ {
		wait, err := o.check(ctx, "read deployment 1a2b3c4d", refused)
		if err != nil || wait <= 0 {
			t.Fatalf("call %d within the bound: wait %s, error %v", i, wait, err)
		}
		waits = append(waits, wait)
		now = now.Add(wait)
	}
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, maxBackoff}; !slices.Equal(waits, want) {
		t.Errorf("backoff %v, want %v", waits, want)
	}
	if _, err := o.check(ctx, "read deployment 1a2b3c4d", nil); err != nil {
		t.Fatal(err)
	}
	if got := warn.String(); strings.Count(got, "does not answer") != 1 || !strings.Contains(got, "Nomad answers again after 12s") {
		t.Errorf("warnings %q: want one 'does not answer', then 'answers again after 12s'", got)
	}
	gaveUp := false
	for i := 0; i < 100 && !gaveUp; i++ {
		wait, err := o.check(ctx, "read deployment 1a2b3c4d", refused)
		if gaveUp = err != nil; gaveUp {
			if !errors.Is(err, ErrUnreachable) || !strings.HasSuffix(rules.Hint(err), "nomad deployment status -monitor 1a2b3c4d-full") {
				t.Errorf("beyond the bound: %v (hint %q), want ErrUnreachable and the command", err, rules.Hint(err))
			}
			if d := now.Sub(o.since); d < c.Outage {
				t.Errorf("gave up after %s, before the bound %s", d, c.Outage)
			}
			break
		}
		now = now.Add(wait)
	}
	if !gaveUp {
		t.Errorf("still retrying after 100 calls")
	}
	if !strings.Contains(out.String(), "To watch it again: nomad deployment status -monitor 1a2b3c4d-full") {
		t.Errorf("output %q lacks the command", out.String())
	}
	t.Logf("stderr:\n%sstdout:\n%s", warn.String(), out.String())
	c.Outage = 0
	if wait, err := c.newOutage("x", "y").check(ctx, "read", refused); err == nil || wait != 0 || errors.Is(err, ErrUnreachable) {
		t.Errorf("no bound: wait %s, error %v; want the error at once", wait, err)
	}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
