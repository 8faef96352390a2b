package testbed

import (
	"os/exec"
	"runtime"
	"sync"
)

// startOnStableThread starts cmd from one OS thread that lives as long as
// the test binary.
//
// Why: Pdeathsig is sent when the thread that forked the process exits,
// not the process. The Go runtime ends a thread whose goroutine locked it
// and returned without unlocking, as runtime/child does for every command
// it starts; a service started earlier from that same thread would then be
// SIGKILLed in the middle of the test (seen: PostgreSQL dying under
// runtime/backup's in-process tests).
func startOnStableThread(cmd *exec.Cmd) error {
	forkerOnce.Do(func() { go forker() })
	done := make(chan error)
	forkRequests <- forkRequest{cmd, done}
	return <-done
}

type forkRequest struct {
	cmd  *exec.Cmd
	done chan<- error
}

var (
	forkerOnce   sync.Once
	forkRequests = make(chan forkRequest)
)

// forker locks itself to its thread and never returns.
func forker() {
	runtime.LockOSThread()
	for r := range forkRequests {
		r.done <- r.cmd.Start()
	}
}
