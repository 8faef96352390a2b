package testbed

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// Command describes a program to run as a service with StartCommand, for
// programs the testbed has no Start function for (the stand-in platform,
// kantree-nomad itself).
type Command struct {
	Name       string   // short name for messages and the log file name
	Path       string   // executable
	Args       []string // arguments
	Dir        string   // working directory; "" for a fresh t.TempDir()
	Env        []string // added to the test's environment ("KEY=value")
	StopSignal syscall.Signal
	// Ready is polled every 50 ms until it returns nil; nil means ready as
	// soon as started.
	Ready func(ctx context.Context) error
}

// StartCommand starts c in its own process group, with its output in a log
// file (Process.LogPath), waits until Ready succeeds, and stops it at the
// end of the test. It fails t when the program exits or is not ready in
// 90 s, with the end of its log in the message.
func StartCommand(t testing.TB, c Command) *Process {
	t.Helper()
	if c.Dir == "" {
		c.Dir = t.TempDir()
	}
	if c.Ready == nil {
		c.Ready = func(context.Context) error { return nil }
	}
	return startProcess(t, procSpec{name: c.Name, path: c.Path, args: c.Args, dir: c.Dir,
		logDir: t.TempDir(), env: c.Env, stopSig: c.StopSignal, ready: c.Ready})
}

// HTTPReady returns a readiness probe that succeeds once GET url answers
// 2xx.
func HTTPReady(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		return nil
	}
}

// TCPReady returns a readiness probe that succeeds once addr accepts a TCP
// connection.
func TCPReady(addr string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if !dialable(addr, time.Second) {
			return fmt.Errorf("connect to %s: refused or timed out", addr)
		}
		return nil
	}
}
