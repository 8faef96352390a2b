package operator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// LogOptions are the flags of `logs`.
type LogOptions struct {
	Follow bool          // stream on, and pick up allocations that start later
	Stderr bool          // the tasks' stderr instead of stdout
	Since  time.Duration // only allocations running, or ended less than Since ago (0: all Nomad still has)
	Lines  int           // the last Lines lines of each allocation (0: all Nomad keeps)
}

// logSource is the task whose logs a PROCESS name means.
type logSource struct{ job, group, task string }

// logSourceOf maps a process name to its job, group and task: a group of
// the service job (web, worker, worker-<name>, scheduler, push), the
// migration ("upgrade-db") or the load balancer's system job ("lb").
func logSourceOf(r *Release, process string) (logSource, error) {
	switch process {
	case "upgrade-db":
		return logSource{r.Dep.UpgradeJob, "upgrade-db", "upgrade-db"}, nil
	case "lb", "nginx":
		if r.Dep.LB.SystemJob != nil {
			return logSource{r.Dep.LB.SystemJob.Job, "nginx", "nginx"}, nil
		}
	}
	var names []string
	for _, p := range r.Dep.Processes {
		if p.Name == process {
			return logSource{r.Dep.Job, p.Name, p.Name}, nil
		}
		names = append(names, p.Name)
	}
	names = append(names, "upgrade-db")
	if r.Dep.LB.SystemJob != nil {
		names = append(names, "lb")
	}
	return logSource{}, rules.WithHint(fmt.Errorf("logs: no process %q in %s", process, r.Dep.Job),
		"The processes of this deployment are: "+strings.Join(names, ", ")+".")
}

// Logs prints the logs of every allocation of a process, each line
// prefixed with the allocation's group, short ID and node, in the order
// the allocations were created. With Follow it streams every running
// allocation's log and starts streaming allocations placed later, until
// ctx ends (Ctrl-C), which is a clean end: it returns nil.
func (c *Cluster) Logs(ctx context.Context, r *Release, process string, o LogOptions) error {
	src, err := logSourceOf(r, process)
	if err != nil {
		return err
	}
	w := &lineWriter{out: c.Out}
	seen := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for first := true; ; first = false {
		allocs, err := c.logAllocs(ctx, r, src, o.Since)
		if err != nil {
			if o.Follow && ctx.Err() != nil {
				return nil
			}
			return err
		}
		if first && len(allocs) == 0 && !o.Follow {
			return rules.WithHint(fmt.Errorf("logs: job %s has no allocation of %s", src.job, src.group),
				"kantree-nomad status shows what runs; -f waits for allocations to start.")
		}
		for _, a := range allocs {
			if seen[a.ID] {
				continue
			}
			seen[a.ID] = true
			lines := o.Lines
			if !first {
				lines = 0 // an allocation that started after us: all of it
			}
			if !o.Follow {
				if err := c.printAllocLog(ctx, r, src, a, o.Stderr, lines, false, w); err != nil {
					return err
				}
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.printAllocLog(ctx, r, src, a, o.Stderr, lines, true, w); err != nil && ctx.Err() == nil {
					w.line(prefix(a), fmt.Sprintf("(log stream ended: %v)", err))
				}
			}()
		}
		if !o.Follow {
			return nil
		}
		if err := c.sleep(ctx); err != nil {
			return nil // Ctrl-C: a clean end
		}
	}
}

// logAllocs lists the allocations of the source's group, oldest first;
// with since, only those running or changed less than since ago.
func (c *Cluster) logAllocs(ctx context.Context, r *Release, src logSource, since time.Duration) ([]*nomadapi.AllocationListStub, error) {
	qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stubs, _, err := c.Nomad.Jobs().Allocations(src.job, true, r.query(qctx))
	if err != nil {
		return nil, nomadError("list allocations of "+src.job, err)
	}
	var out []*nomadapi.AllocationListStub
	cutoff := c.Now().Add(-since).UnixNano()
	for _, a := range stubs {
		if a.TaskGroup != src.group {
			continue
		}
		if since > 0 && a.ClientStatus != nomadapi.AllocClientStatusRunning && a.ModifyTime < cutoff {
			continue
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreateIndex < out[j].CreateIndex })
	return out, nil
}

// printAllocLog prints one allocation's log: the last lines (all when
// 0), then, with follow, what the task writes next until ctx ends or
// the allocation stops.
func (c *Cluster) printAllocLog(ctx context.Context, r *Release, src logSource, stub *nomadapi.AllocationListStub, stderr bool, lines int, follow bool, w *lineWriter) error {
	a, err := c.startedAlloc(ctx, r, stub.ID, src.task, follow)
	if a == nil || err != nil {
		return err
	}
	kind := "stdout"
	if stderr {
		kind = "stderr"
	}
	origin, offset := nomadapi.OriginStart, int64(0)
	if lines > 0 {
		origin, offset = nomadapi.OriginEnd, int64(lines)*1024
	}
	var rctx context.Context = ctx
	if !follow {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, time.Minute)
		defer cancel()
	}
	frames, errs := c.Nomad.AllocFS().Logs(a, follow, src.task, kind, origin, offset, rctx.Done(), (&nomadapi.QueryOptions{}).WithContext(rctx))
	s := &lineSplitter{prefix: prefix(stub), w: w, offset: offset, keep: lines, buffered: !follow || lines > 0}
	defer s.flush()
	for {
		select {
		case f, ok := <-frames:
			if !ok {
				return nil
			}
			s.write(f.Data)
			if follow && s.buffered && len(frames) == 0 {
				s.release() // caught up with the end of the file
			}
		case err, ok := <-errs:
			if !ok {
				errs = nil
			} else if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		case <-rctx.Done():
			return nil
		}
	}
}

// startedAlloc returns the allocation once its task has started; nil when
// it never started (at once without follow; with follow, once the
// allocation is terminal or ctx ends).
func (c *Cluster) startedAlloc(ctx context.Context, r *Release, id, task string, follow bool) (*nomadapi.Allocation, error) {
	for {
		ictx, cancel := context.WithTimeout(ctx, 30*time.Second)
		a, _, err := c.Nomad.Allocations().Info(id, r.query(ictx))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			return nil, nomadError("read allocation "+short(id), err)
		}
		if ts := a.TaskStates[task]; ts != nil && !ts.StartedAt.IsZero() {
			return a, nil
		}
		if !follow || a.ClientTerminalStatus() {
			return nil, nil
		}
		if c.sleep(ctx) != nil {
			return nil, nil
		}
	}
}

func prefix(a *nomadapi.AllocationListStub) string {
	return fmt.Sprintf("%s %s %s", a.TaskGroup, short(a.ID), a.NodeName)
}

// lineWriter writes whole lines from several streams to out, one at a time.
type lineWriter struct {
	mu  sync.Mutex
	out io.Writer
}

func (w *lineWriter) line(prefix, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fmt.Fprintf(w.out, "[%s] %s\n", prefix, text)
}

// lineSplitter cuts a log stream into lines. buffered keeps the lines
// until release (or flush), so that only the last keep are printed. A
// read that began offset bytes before the end starts mid-line when the
// log was longer than that: the first line is then dropped.
type lineSplitter struct {
	prefix   string
	w        *lineWriter
	partial  []byte
	offset   int64
	received int64
	keep     int
	buffered bool
	held     []string
}

func (s *lineSplitter) write(data []byte) {
	s.received += int64(len(data))
	s.partial = append(s.partial, data...)
	for {
		i := bytes.IndexByte(s.partial, '\n')
		if i < 0 {
			return
		}
		text := string(s.partial[:i])
		s.partial = s.partial[i+1:]
		if s.buffered {
			s.held = append(s.held, text)
			continue
		}
		s.w.line(s.prefix, text)
	}
}

// release prints the held lines (the last keep of them) and stops holding.
func (s *lineSplitter) release() {
	held := s.held
	if s.offset > 0 && s.received >= s.offset && len(held) > 0 {
		held = held[1:]
	}
	if s.keep > 0 && len(held) > s.keep {
		held = held[len(held)-s.keep:]
	}
	for _, l := range held {
		s.w.line(s.prefix, l)
	}
	s.held, s.buffered = nil, false
}

func (s *lineSplitter) flush() {
	s.release()
	if len(s.partial) > 0 {
		s.w.line(s.prefix, string(s.partial))
		s.partial = nil
	}
}
