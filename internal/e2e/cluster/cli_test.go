//go:build cluster

package cluster_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// startCLI starts kantree-nomad with args as an operator would, against
// the cluster's Nomad server and Consul (NOMAD_ADDR, CONSUL_HTTP_ADDR),
// its stdout and stderr stamped line by line; the test's end kills it if
// it still runs. Both streams share one pipe (one writer, so os/exec
// gives the child the same descriptor for both), so the lines arrive in
// the order the command wrote them: with two pipes a last stdout line
// could be read after the stderr hint printed after it.
func (e *env) startCLI(t *testing.T, args ...string) *cliRun {
	t.Helper()
	cmd := exec.Command(e.binary, args...)
	cmd.Env = append(os.Environ(), "NOMAD_ADDR="+e.cl.Server.Addr(), "CONSUL_HTTP_ADDR="+e.cl.Consul.HTTPAddr)
	r := &cliRun{cmd: cmd, out: &stampedLines{}, done: make(chan struct{})}
	w := r.out.writer()
	cmd.Stdout, cmd.Stderr = w, w
	r.start = time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.err = cmd.Wait()
		r.end = time.Now()
		close(r.done)
	}()
	t.Cleanup(func() {
		if !r.exited() {
			_ = cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

// cliRun is one run of the kantree-nomad command line.
type cliRun struct {
	cmd        *exec.Cmd
	out        *stampedLines
	start, end time.Time
	err        error
	done       chan struct{}
}

func (r *cliRun) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

func (r *cliRun) took() time.Duration { return r.end.Sub(r.start) }

// name is the command line's verb: "kantree-nomad deploy".
func (r *cliRun) name() string { return "kantree-nomad " + r.cmd.Args[1] }

// wait waits for the command's end and returns its exit code.
func (r *cliRun) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("%s still running after %s:\n%s", r.name(), timeout, r.text())
	}
	t.Logf("%s (exit %d after %.1fs):\n%s", r.name(), r.cmd.ProcessState.ExitCode(), r.took().Seconds(), r.text())
	var ee *exec.ExitError
	if r.err != nil && !errors.As(r.err, &ee) {
		t.Fatal(r.err)
	}
	return r.cmd.ProcessState.ExitCode()
}

// text is the output with each line's time since the start.
func (r *cliRun) text() string {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	var b strings.Builder
	for _, l := range r.out.lines {
		fmt.Fprintf(&b, "  %6.1fs  %s\n", l.at.Sub(r.start).Seconds(), l.text)
	}
	return b.String()
}

// last is the last non-empty line of the output.
func (r *cliRun) last() string {
	r.out.mu.Lock()
	defer r.out.mu.Unlock()
	for i := len(r.out.lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(r.out.lines[i].text); s != "" {
			return s
		}
	}
	return ""
}

// stampedLines collects the lines of a command's stdout and stderr with
// the time each arrived.
type stampedLines struct {
	mu    sync.Mutex
	lines []stampedLine
}

type stampedLine struct {
	at   time.Time
	text string
}

// writer returns a writer of the combined output (its partial line kept
// until the newline arrives).
func (s *stampedLines) writer() *lineWriter { return &lineWriter{s: s} }

type lineWriter struct {
	s       *stampedLines
	partial bytes.Buffer
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.partial.Write(p)
	for {
		line, err := w.partial.ReadString('\n')
		if err != nil {
			w.partial.WriteString(line) // not yet a whole line
			return len(p), nil
		}
		w.s.lines = append(w.s.lines, stampedLine{time.Now(), strings.TrimSuffix(line, "\n")})
	}
}

// when returns when the first line containing sub arrived.
func (s *stampedLines) when(sub string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l.text, sub) {
			return l.at, true
		}
	}
	return time.Time{}, false
}

// line returns the first line containing sub.
func (s *stampedLines) line(sub string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l.text, sub) {
			return l.text
		}
	}
	return ""
}

func (s *stampedLines) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, l := range s.lines {
		b.WriteString(l.text + "\n")
	}
	return b.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
