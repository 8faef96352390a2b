//go:build faults

package supervise_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// startOn starts a supervisor that talks to the agent at addr.
func (r *rig) startOn(name, addr string) *supervisor {
	r.t.Helper()
	args := append([]string{"supervise", "-log-format", "json", "-key", r.key}, r.timings...)
	return r.startCommand(name, append(args, "--", r.platform, "run", "scheduler"), addr)
}

// TestFaultCrashBoth is proof 3: SIGKILL the supervisor, its watchdog and
// its child together; a standby starts within check TTL + lock-delay + 2 s.
func TestFaultCrashBoth(t *testing.T) {
	r := newRig(t, sharedConsul(t).HTTPAddr, sharedPostgres(t), defaultTimings)
	a := r.start("a")
	child := a.childPID(t, 1)
	watchdog := int(a.await(t, "acquired", 1, time.Second).Attrs["watchdog_pid"].(float64))
	b := r.start("b")
	b.await(t, "waiting", 1, 30*time.Second)
	r.awaitRuns(t, 1, 10*time.Second)

	killed := time.Now()
	for _, pid := range []int{a.cmd.Process.Pid, watchdog, child} {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	started := b.await(t, "command started", 1, 30*time.Second).Time.Sub(killed)
	t.Logf("standby's command started %s after supervisor, watchdog and child were killed", started)
	if bound := failoverBound; started > bound {
		t.Errorf("standby started %s after the crash, want under %s", started, bound)
	}
	r.checkRuns(t, r.awaitRuns(t, 2, 10*time.Second))
	awaitReaped(t, sharedConsul(t).Client(), r.key)
}

// awaitReaped waits until the agent has reaped the killed supervisor's
// critical service (DeregisterCriticalServiceAfter, checked by the agent
// every 30s), leaving only the standby's service for the key.
func awaitReaped(t *testing.T, c *api.Client, key string) {
	t.Helper()
	start := time.Now()
	deadline := start.Add(time.Minute + 90*time.Second) // DeregisterCriticalServiceAfter is 1m
	for {
		svcs, err := c.Agent().ServicesWithFilter(fmt.Sprintf("Meta.lock_key == %q", key))
		if err == nil && len(svcs) == 1 {
			t.Logf("the killed supervisor's service was reaped %s after the standby took over", time.Since(start).Round(time.Second))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("services for %s after %s: %d (err %v), want only the standby's", key, time.Since(start), len(svcs), err)
		}
		time.Sleep(time.Second)
	}
}

// TestFaultAgentOutage is proof 5: the holder's agent (the client agent of
// a 3-server cluster) is killed for 5, 20 and 60 s while a standby talks
// to a server. The holder fences its child before the standby can start;
// afterwards it waits again. A pause of the agent shorter than the fence
// deadline does not restart the child.
func TestFaultAgentOutage(t *testing.T) {
	cl := testbed.StartConsulCluster(t)
	r := newRig(t, cl.Client.HTTPAddr, sharedPostgres(t), defaultTimings)
	holder := r.startOn("client-0", cl.Client.HTTPAddr)
	holder.await(t, "command started", 1, 30*time.Second)
	standby := r.startOn("server-0", cl.Servers[0].HTTPAddr)
	standby.await(t, "waiting", 1, 30*time.Second)

	// Shorter than the fence deadline (2s) and than failure detection.
	if err := cl.Client.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := cl.Client.Resume(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	if n := holder.count("command started"); n != 1 || standby.count("command started") != 0 {
		t.Errorf("a 0.5 s agent pause restarted the command (holder started it %d times)", n)
	}

	runs := 1
	for i, outage := range []time.Duration{5 * time.Second, 20 * time.Second, 60 * time.Second} {
		waits, starts := holder.count("waiting"), holder.count("command started")
		stopped := time.Now()
		if err := cl.Client.Kill(); err != nil {
			t.Fatal(err)
		}
		took := standby.await(t, "command started", 1, outage+30*time.Second).Time.Sub(stopped)
		time.Sleep(time.Until(stopped.Add(outage)))
		cl.Client.Restart(t)
		holder.await(t, "waiting", waits+1, 60*time.Second)
		runs++
		t.Logf("agent outage %s: standby took over after %s; the old holder waits again", outage, took)
		// Hand the lock back to the supervisor on the client agent.
		standby.signal(t, syscall.SIGTERM)
		standby.wait(t, 15*time.Second)
		holder.await(t, "command started", starts+1, 15*time.Second)
		runs++
		standby = r.startOn(fmt.Sprintf("server-%d", i+1), cl.Servers[0].HTTPAddr)
		standby.await(t, "waiting", 1, 30*time.Second)
	}
	r.checkRuns(t, r.awaitRuns(t, runs, 10*time.Second))
}

// electionTimings raise the lock-delay to 10s (fence deadline 7s), as the
// ha example does. With the defaults (fence deadline 5s) an election
// whose outage, as the supervisor sees it, passes 5s fences the
// scheduler: safe, but a restart. On the 2-core test machine that
// happened once in 40 elections (the probe's longest outage was 4.4s).
var electionTimings = []string{"-ttl", "10s", "-lock-delay", "10s", "-kill-grace", "2s", "-check-ttl", "2s"}

// TestFaultLeaderElections is proof 6: 20 leader elections (the leader
// server stopped and restarted) while a holder and a standby talk to the
// client agent. No overlap; restarts (goal 0) are counted by cause, and a
// fence without a long silence from Consul fails the test.
func TestFaultLeaderElections(t *testing.T) {
	cl := testbed.StartConsulCluster(t)
	r := newRig(t, cl.Client.HTTPAddr, sharedPostgres(t), electionTimings)
	holder := r.start("a")
	holder.await(t, "command started", 1, 30*time.Second)
	standby := r.start("b")
	standby.await(t, "waiting", 1, 30*time.Second)
	probe := startReadProbe(cl.Client.Client(), r.key)
	checks := startCheckWatch(cl.Client.Client(), cl.Client.Name)

	for i := 0; i < 20; i++ {
		leader := cl.Leader(t)
		if err := leader.Stop(); err != nil {
			t.Fatal(err)
		}
		next := cl.WaitLeader(t, 30*time.Second)
		leader.Restart(t)
		waitHealthy(t, cl)
		t.Logf("election %d: %s -> %s", i+1, leader.Name, next.Name)
	}
	time.Sleep(2 * time.Second)
	worst := probe.stop()
	critical := checks.stop()
	// A fence or a loss is a restart even when the next start falls
	// after the count.
	restarts := max(holder.count("command started")-1+standby.count("command started"),
		holder.count("fenced")+holder.count("lost"))
	t.Logf("20 leader elections: longest consistent-read outage through the client agent %s; %d restarts (holder fenced %d; sessions ended by Consul %d; confirm failures %d)",
		worst, restarts, holder.count("fenced"), holder.count("lost")+standby.count("lost"), holder.count("confirm failed"))
	for _, c := range critical {
		t.Logf("the servers marked %s of the client node critical at %s: %s", c.check, c.at.Format("15:04:05.000"), c.output)
	}
	// The requirement is overlap 0 (checkRuns). Restarts are counted, goal
	// 0, by cause:
	//   - fenced: the holder's own decision, made when Consul was silent
	//     until the fence deadline. A defect unless an election kept
	//     Consul silent for close to that deadline (an election slower
	//     than that fences the scheduler by design).
	//   - lost: Consul ended the session (the key lost its holder). The
	//     sessions are bound to the node's serfHealth and to the
	//     supervisor's TTL check, and Consul invalidates them when the
	//     servers mark either critical, or when the TTL runs out. A
	//     supervisor must follow that, so it is reported, with the
	//     critical checks the watch saw, not failed. (It happened once
	//     in CI on the 2-core machine, where the test bed's fast gossip
	//     timings leave a starved agent little time; not reproduced
	//     locally, even with the cores kept busy.)
	//   - anything else restarting the command is a defect.
	const fence = 7 * time.Second // electionTimings: 10s - 2s - 1s margin
	slack := 2 * fence / 8
	fenced, lost := holder.count("fenced"), holder.count("lost")+standby.count("lost")
	switch {
	case fenced > 0 && worst+slack < fence:
		t.Errorf("the holder fenced %d time(s), yet Consul was silent for at most %s, well inside the fence deadline %s", fenced, worst, fence)
	case fenced > 0:
		t.Logf("%d fence(s): an election kept Consul silent for %s, within %s of the fence deadline %s; the holder fenced as designed", fenced, worst, slack, fence)
	}
	if lost > 0 {
		t.Logf("%d session(s) ended by Consul; the supervisors followed it as designed", lost)
	}
	if restarts > 0 && fenced+lost == 0 {
		t.Errorf("%d restart(s) of the scheduler with no fence and no session ended by Consul", restarts)
	}
	r.checkRuns(t, r.runs(t))
}

// waitHealthy waits until autopilot reports all three servers healthy
// voters again, so that the next stop cannot cost the quorum.
func waitHealthy(t *testing.T, cl *testbed.ConsulCluster) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		h, err := cl.WaitLeader(t, 30*time.Second).Client().Operator().AutopilotServerHealth(nil)
		if err == nil && h.Healthy && h.FailureTolerance >= 1 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("Consul servers not all healthy 60s after a restart")
}

// poller calls probe every period, each call bounded to a second, until
// stop, which returns once the last call has ended.
type poller struct{ done, ended chan struct{} }

func startPoller(period time.Duration, probe func(ctx context.Context)) *poller {
	p := &poller{done: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(p.ended)
		for {
			select {
			case <-p.done:
				return
			case <-time.After(period):
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			probe(ctx)
			cancel()
		}
	}()
	return p
}

func (p *poller) stop() {
	close(p.done)
	<-p.ended
}

// readProbe does a consistent read every 50 ms and records the longest
// time between two successes.
type readProbe struct {
	poll  *poller
	worst time.Duration
}

func startReadProbe(c *api.Client, key string) *readProbe {
	p := &readProbe{}
	last := time.Now()
	p.poll = startPoller(50*time.Millisecond, func(ctx context.Context) {
		sent := time.Now()
		if _, _, err := c.KV().Get(key, (&api.QueryOptions{RequireConsistent: true}).WithContext(ctx)); err == nil {
			p.worst = max(p.worst, sent.Sub(last))
			last = sent
		}
	})
	return p
}

func (p *readProbe) stop() time.Duration {
	p.poll.stop()
	return p.worst
}

// checkWatch polls, as the servers see them (stale reads, so that it goes
// on during an election), the checks of one node: its serfHealth and the
// supervisors' TTL checks, the checks the lock sessions are bound to. It
// records every change to critical.
type checkWatch struct {
	poll     *poller
	critical []criticalCheck
}

type criticalCheck struct {
	at            time.Time
	check, output string
}

func startCheckWatch(c *api.Client, node string) *checkWatch {
	w := &checkWatch{}
	status := map[string]string{}
	w.poll = startPoller(100*time.Millisecond, func(ctx context.Context) {
		hcs, _, err := c.Health().Node(node, (&api.QueryOptions{AllowStale: true}).WithContext(ctx))
		if err != nil {
			return
		}
		for _, hc := range hcs {
			if hc.Status == api.HealthCritical && status[hc.CheckID] != api.HealthCritical {
				w.critical = append(w.critical, criticalCheck{at: time.Now(), check: hc.CheckID, output: hc.Output})
			}
			status[hc.CheckID] = hc.Status
		}
	})
	return w
}

func (w *checkWatch) stop() []criticalCheck {
	w.poll.stop()
	return w.critical
}

// TestFaultHandoffs300 is the full proof 7.
func TestFaultHandoffs300(t *testing.T) {
	handoffs(t, 300)
}
