//go:build cluster

package cluster_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// partitionFor is how long the holder's node stays cut off: longer than
// Nomad's heartbeat grace, so that the servers mark it down and replace
// its allocations.
const partitionFor = 60 * time.Second

// TestPartitionOfTheHolder cuts the holder's node off (link down, every
// process keeps running) for a minute under load through nginx, then
// brings it back: never two schedulers (also after the link returns),
// the gap and the failed GETs printed and bounded, and how long the
// node's old processes run on after the link returns printed.
func TestPartitionOfTheHolder(t *testing.T) {
	e := shared(t)
	d := e.render(t, spec{job: "kt-part", standbys: 1})
	d.start(t)
	db := d.db(t)
	lb := e.startLB(t, d.bundle.Files, d.listen)
	old := holder(t, db)
	nd := e.cl.Node(e.alloc(t, old.InstanceID).NodeID)
	t.Logf("cutting %s off, which runs the holder %s and %v", nd.Name, old.InstanceID[:8], e.groupsOn(t, d.dep.Job, nd.NodeID))
	ld := lb.StartLoad(4, 100*time.Millisecond)
	time.Sleep(2 * time.Second)
	watch := watchScheduler(nd, d.dep.Job)
	defer watch.stop()
	cutAt, heal := nd.Cut(t)
	next := nextRun(t, db, old, partitionFor)
	seen := time.Since(cutAt)
	downAfter := e.waitNodeStatus(t, nd, "down", cutAt, partitionFor-10*time.Second)
	out, code := d.cli(t, "status")
	if last := lastLine(out); code != 3 || !strings.Contains(out, "  "+nd.Name+" (") || !strings.Contains(last, "node "+nd.Name+" is down") {
		t.Errorf("status while %s is cut off and down: exit %d, want 3, the node named in Nodes and the last line:\n%s", nd.Name, code, out)
	}
	time.Sleep(partitionFor - time.Since(cutAt))
	before := jobProcs(nd, d.dep.Job)
	fenced := watch.stop() // before the heal: Nomad may place a new scheduler there afterwards
	healAt := heal()
	stopped := waitNoJobProcs(nd, d.dep.Job, 3*time.Minute)
	e.waitDeploymentSettled(t, d.dep.Job, 3*time.Minute)
	time.Sleep(5 * time.Second)
	reqs, fails, samples := ld.Stop()
	if out, code := d.cli(t, "status"); code != 0 || lastLine(out) != "Status: ok" {
		t.Errorf("status after the heal: exit %d, want 0 and \"Status: ok\":\n%s", code, out)
	}
	late := ld.FailedSentAfter(cutAt.Add(lbStale))
	window := ld.FailedSentAfter(cutAt) - late
	runs, lateRows := clampLateWrites(t, db, old.RunID, healAt)
	gap := next.First.Sub(beatBefore(t, db, old.RunID, healAt))
	figure(t, "partition of %s for %s: scheduler gap %.1fs (new scheduler seen %.1fs after the cut), overlap %s; %d GETs, %d failed (%d in flight at the cut, %d sent within %s after it, %d later; sent at %s); after the link returned its %d old task processes ran on for %s",
		nd.Name, partitionFor, gap.Seconds(), seen.Seconds(), kantreestub.Overlap(runs), reqs, fails, int(fails)-late-window, window, lbStale, late, ld.FailedOffsets(cutAt), before, stopped.Round(100*time.Millisecond))
	figure(t, "Nomad marked %s down %.1fs after the cut; status named it (exit 3) while down", nd.Name, downAfter.Seconds())
	figure(t, "the cut-off holder's scheduler was last seen running %.1fs after the cut, %.1fs before the new one's first heartbeat; %s",
		fenced.Sub(cutAt).Seconds(), next.First.Sub(fenced).Seconds(), lateRows)
	if ov := kantreestub.Overlap(runs); ov > 0 {
		t.Errorf("two schedulers ran at once for %s", ov)
	}
	if !fenced.Before(next.First) {
		t.Errorf("the cut-off node's scheduler still ran at %s, after the new one started at %s", fenced.Format(time.RFC3339Nano), next.First.Format(time.RFC3339Nano))
	}
	if gap > lossGapBound {
		t.Errorf("scheduler gap %s after the holder was cut off; bound %s", gap, lossGapBound)
	}
	if late > 0 {
		t.Errorf("%d GETs sent more than %s after the cut failed (%d of %d in all):\n%s", late, lbStale, fails, reqs, samples)
	}
}

// beatBefore is the run's last heartbeat stamped before t.
func beatBefore(t *testing.T, db *pgx.Conn, runID string, before time.Time) time.Time {
	t.Helper()
	var at time.Time
	err := db.QueryRow(context.Background(), "SELECT max(at) FROM kantree_stub_heartbeats WHERE run_id = $1 AND at < $2", runID, before).Scan(&at)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// clampLateWrites handles the rows of the cut-off run that PostgreSQL
// stamped after the link came back: the run's process was gone by then
// (the watch saw it), but the bytes of its last INSERT (its "stop" row,
// written when its supervisor fenced it) sat in the node's kernel send
// queue and reached PostgreSQL, which stamps clock_timestamp() on arrival,
// once the link was up. They are counted and reported, and the run ends at
// its last row stamped before the heal for the overlap.
func clampLateWrites(t *testing.T, db *pgx.Conn, runID string, heal time.Time) ([]kantreestub.SchedulerRun, string) {
	t.Helper()
	var n int
	var kinds string
	err := db.QueryRow(context.Background(), "SELECT count(*), coalesce(string_agg(kind, ','), '') FROM kantree_stub_heartbeats WHERE run_id = $1 AND at >= $2", runID, heal).Scan(&n, &kinds)
	if err != nil {
		t.Fatal(err)
	}
	runs := schedulerRuns(t, db)
	if n == 0 {
		return runs, "no write of the cut-off run arrived after the heal"
	}
	end := beatBefore(t, db, runID, heal)
	for i := range runs {
		if runs[i].RunID == runID {
			runs[i].Last = end
		}
	}
	return runs, fmt.Sprintf("%d row(s) of the cut-off run (%s) sent before it was fenced reached PostgreSQL only after the heal", n, kinds)
}

// schedWatch records when a node last ran the job's scheduler process
// (`platform run scheduler`), polling every 50 ms: the cut-off node's
// scheduler cannot write heartbeats, so its processes are the record.
type schedWatch struct {
	done chan struct{}
	last chan time.Time
}

func watchScheduler(nd *testbed.ClusterNode, job string) *schedWatch {
	w := &schedWatch{done: make(chan struct{}), last: make(chan time.Time, 1)}
	go func() {
		var last time.Time
		for {
			if schedulerRunning(nd, job) {
				last = time.Now()
			}
			select {
			case <-w.done:
				w.last <- last
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return w
}

// stop ends the watch and returns when the scheduler was last seen (once).
func (w *schedWatch) stop() time.Time {
	select {
	case <-w.done:
		return time.Time{}
	default:
	}
	close(w.done)
	return <-w.last
}

func schedulerRunning(nd *testbed.ClusterNode, job string) bool {
	for _, pid := range nd.PIDs() {
		cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if !strings.Contains(string(cmd), "run\x00scheduler") || strings.Contains(string(cmd), "supervise") {
			continue
		}
		env, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if strings.Contains(string(env), "\x00NOMAD_JOB_ID="+job+"\x00") {
			return true
		}
	}
	return false
}

// jobProcs counts the node's processes that belong to an allocation of
// the job (their environment names it).
func jobProcs(nd *testbed.ClusterNode, job string) int {
	n := 0
	for _, pid := range nd.PIDs() {
		env, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if strings.Contains(string(env), "\x00NOMAD_JOB_ID="+job+"\x00") {
			n++
		}
	}
	return n
}

// waitNoJobProcs waits until none of the job's processes runs on the node
// and returns how long that took (timeout if they never stop).
func waitNoJobProcs(nd *testbed.ClusterNode, job string, timeout time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < timeout && jobProcs(nd, job) > 0 {
		time.Sleep(250 * time.Millisecond)
	}
	return time.Since(start)
}

// waitNodeStatus waits until Nomad gives the node the status and returns
// how long after since that was seen; it fails the test after timeout.
func (e *env) waitNodeStatus(t *testing.T, nd *testbed.ClusterNode, status string, since time.Time, timeout time.Duration) time.Duration {
	t.Helper()
	for time.Since(since) < timeout {
		n, _, err := e.nomad().Nodes().Info(nd.NodeID, nil)
		if err == nil && n.Status == status {
			return time.Since(since)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("Nomad did not mark %s %s within %s", nd.Name, status, timeout)
	return 0
}

// cli runs kantree-nomad with args and the deployment's file as an
// operator would and returns its output and exit code.
func (d *deployment) cli(t *testing.T, args ...string) (string, int) {
	t.Helper()
	if d.file == "" {
		d.file = writeFile(t, "kantree.hcl", []byte(d.e.kantreeHCL(d.spec)))
	}
	r := d.e.startCLI(t, append(args, d.file)...)
	code := r.wait(t, 2*time.Minute)
	return r.out.String(), code
}
