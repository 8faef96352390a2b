//go:build cluster

package cluster_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
	"github.com/kantree-nomad/kantree-nomad/runtime/migrate"
)

// upgradeSeconds is how long the stand-in's upgrade_db takes: longer
// than migrate's fence (the holder's lease, 30s, less 1s and the kill
// grace: SIGTERM 19s after its last renewal), so that a cut early in the
// run always interrupts it.
const upgradeSeconds = 30

// TestPartitionDuringMigration cuts off the node that runs the upgrade-db
// job while `kantree-nomad deploy` waits for the migration, 2s into
// upgrade_db, for partitionFor: upgrade_db never runs twice at once (the
// cut-off node's process, watched every 50ms, is gone before any other
// starts), deploy either completes the release or fails saying so, and
// the ledger says the same. When it fails, the operator does what its
// last line says, and the release completes with upgrade_db run once
// more.
func TestPartitionDuringMigration(t *testing.T) {
	e := shared(t)
	d := e.render(t, spec{job: "kt-mig", extra: fmt.Sprintf("config {\n  settings = {\n    kantree_stub_upgrade_seconds = %q\n  }\n}\n", strconv.Itoa(upgradeSeconds))})
	file := writeFile(t, "kantree.hcl", []byte(e.kantreeHCL(d.spec)))
	db := d.db(t)
	begin := time.Now()
	watch := watchUpgrades(t, e, d.dep.UpgradeJob)
	defer watch.stop()

	first := e.startDeploy(t, file)
	run := firstUpgradeRun(t, db, 3*time.Minute)
	alloc := e.alloc(t, run.InstanceID)
	nd := e.cl.Node(alloc.NodeID)
	time.Sleep(time.Until(run.Started.Add(2 * time.Second)))
	t.Logf("cutting %s off, which runs allocation %s of %s (upgrade_db run %d started at %s)", nd.Name, alloc.ID[:8], d.dep.UpgradeJob, run.ID, run.Started.Format("15:04:05.000"))
	cutAt, heal := nd.Cut(t)
	time.Sleep(time.Until(cutAt.Add(partitionFor)))
	healAt := heal()
	code1 := first.wait(t, 4*time.Minute)
	procs := watch.snapshot()
	t.Logf("first deploy (exit %d):\n%s", code1, first.text())

	fenced := lastSeen(procs, nd.Name, cutAt)
	lost := watch.firstStatus(alloc.ID, "lost")
	figure(t, "migration cut off %.1fs into upgrade_db on %s for %s: its upgrade_db was last seen %.1fs after the cut (%s); Nomad marked the allocation lost %s; deploy exited %d %.1fs after the cut (%s), last line %q",
		cutAt.Sub(run.Started).Seconds(), nd.Name, partitionFor, fenced.Sub(cutAt).Seconds(), fenceCause(t, db, run.ID),
		sinceText(lost, cutAt), code1, first.end.Sub(cutAt).Seconds(), healText(first.end, healAt), first.last())
	figure(t, "allocations of %s: %s", d.dep.UpgradeJob, watch.allocText(e, cutAt))
	checkNoOverlap(t, procs, upgradeRuns(t, db))
	if said := fmt.Sprintf("allocation %s on %s: lost", alloc.ID[:8], nd.Name); !lost.IsZero() && !strings.Contains(first.text(), said) {
		t.Errorf("Nomad marked allocation %s lost, but deploy never said %q", alloc.ID[:8], said)
	}
	// The holder's fence: its command is dead by its last renewal (at
	// the latest the cut) + the lease - 1s, whether or not Nomad or the
	// network ever acts; 50ms for the watch's polling.
	if fenceBound := migrate.DefaultLease - time.Second + 50*time.Millisecond; fenced.IsZero() || fenced.Sub(cutAt) > fenceBound {
		t.Errorf("the cut-off node's upgrade_db was last seen %s after the cut; the lease fence ends it within %s", fenced.Sub(cutAt), fenceBound)
	}

	if es := ledgerEntries(t, db); len(es) > 0 && es[0].LeaseUntil != nil {
		figure(t, "the cut-off attempt's lease (renewed every %s until the cut) ran out %.1fs after the cut",
			migrate.DefaultCheck, es[0].LeaseUntil.Sub(cutAt).Seconds())
	}
	// A failure is reported while the node is still cut off: Nomad
	// replaces the lost allocation (heartbeat TTL up to 20s + 10s grace
	// with three clients), the successor's session takes the lock once
	// the server has ended the silent holder's (migrate asks for it within
	// two thirds of the lease) and waits out the lease + 2s: all well
	// within partitionFor, never "after the link returned".
	if code1 != 0 && !first.end.Before(healAt) {
		t.Errorf("deploy reported the failed migration %.1fs after the heal, not while the node was cut off", first.end.Sub(healAt).Seconds())
	}
	nRuns := len(upgradeRuns(t, db))
	if code1 == 0 {
		checkMigrated(t, d, db, first, "")
		figure(t, "the release completed in one deploy: %d upgrade_db runs; total %.1fs", nRuns, time.Since(begin).Seconds())
		return
	}
	again := checkVisibleFailure(t, db, d, first)
	second := e.startDeploy(t, append(again, file)...)
	code2 := second.wait(t, 5*time.Minute)
	t.Logf("second deploy (exit %d):\n%s", code2, second.text())
	after := upgradeRuns(t, db)
	figure(t, "deploy %s exited %d %.1fs later, last line %q; upgrade_db ran %d time(s) in all, %d by the second deploy; total %.1fs",
		strings.Join(again, " "), code2, second.end.Sub(second.start).Seconds(), second.last(), len(after), len(after)-nRuns, time.Since(begin).Seconds())
	if code2 != 0 {
		t.Fatalf("deploy %s: exit %d, want 0", strings.Join(again, " "), code2)
	}
	if len(after)-nRuns > 1 {
		t.Errorf("upgrade_db ran %d times during the second deploy, want at most once: %+v", len(after)-nRuns, after)
	}
	procs = watch.stop() // every upgrade_db of both deploys, on every node
	checkNoOverlap(t, procs, after)
	if len(procs) != len(after) {
		t.Errorf("%d upgrade_db processes seen on the nodes, %d runs recorded by the stand-in", len(procs), len(after))
	}
	checkMigrated(t, d, db, second, ledger.StatusResolvedRerun)
}

// firstUpgradeRun waits until the stand-in has recorded an upgrade_db run.
func firstUpgradeRun(t *testing.T, db *pgx.Conn, timeout time.Duration) kantreestub.UpgradeRun {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if runs := upgradeRuns(t, db); len(runs) > 0 {
			return runs[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no upgrade_db run recorded within %s", timeout)
	return kantreestub.UpgradeRun{}
}

func upgradeRuns(t *testing.T, db *pgx.Conn) []kantreestub.UpgradeRun {
	t.Helper()
	runs, err := kantreestub.UpgradeRuns(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// fenceCause says how the cut-off run ended, as far as the database
// knows: the stand-in's own record and the ledger's.
func fenceCause(t *testing.T, db *pgx.Conn, runID int64) string {
	t.Helper()
	var stub string
	for _, r := range upgradeRuns(t, db) {
		if r.ID == runID {
			stub = r.Status
		}
	}
	return fmt.Sprintf("stand-in record %q; ledger %s", stub, ledgerText(t, db))
}

// ledgerText lists the ledger's attempts: status (exit code) detail.
func ledgerText(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	var parts []string
	for _, l := range ledgerEntries(t, db) {
		code := "-"
		if l.ExitCode != nil {
			code = strconv.Itoa(*l.ExitCode)
		}
		parts = append(parts, fmt.Sprintf("attempt %d %s (exit %s) %q", l.Attempt, l.Status, code, l.Detail))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func ledgerEntries(t *testing.T, db *pgx.Conn) []ledger.Entry {
	t.Helper()
	es, err := ledger.Entries(context.Background(), db, "8.4.1")
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// checkMigrated: deploy said the release is done (migrated now, or found
// migrated), the schema is at it, and the ledger's last attempt succeeded
// (after one resolved as rerun when resolved is set).
func checkMigrated(t *testing.T, d *deployment, db *pgx.Conn, dp *cliRun, resolved string) {
	t.Helper()
	said := strings.Contains(dp.text(), "migrated to 8.4.1") || strings.Contains(dp.text(), "release 8.4.1 already migrated")
	if !said || !strings.Contains(dp.last(), "successful") {
		t.Errorf("deploy exited 0 without saying the migration and the deployment succeeded; last line %q", dp.last())
	}
	v, err := kantreestub.SchemaVersion(context.Background(), db)
	if err != nil || v != "8.4.1" {
		t.Errorf("schema at %q (%v), want 8.4.1", v, err)
	}
	es := ledgerEntries(t, db)
	if len(es) == 0 || es[len(es)-1].Status != ledger.StatusSucceeded {
		t.Errorf("ledger %s: want the last attempt succeeded", ledgerText(t, db))
	}
	// The cut-off attempt ends as the operator resolved it, or as its own
	// holder recorded it once the link was back, if that record reached
	// PostgreSQL first (ledger.Finish settles an unknown row too).
	if resolved != "" && !hasStatus(es, resolved) && !hasStatus(es, ledger.StatusFenced) {
		t.Errorf("ledger %s: want the cut-off attempt %s (or %s by its holder)", ledgerText(t, db), resolved, ledger.StatusFenced)
	}
	figure(t, "ledger of %s at the end: %s", d.dep.Job, ledgerText(t, db))
}

func hasStatus(es []ledger.Entry, status string) bool {
	for _, e := range es {
		if e.Status == status {
			return true
		}
	}
	return false
}

// checkVisibleFailure: deploy exited non-zero, its last line is a hint
// naming the attempt the ledger holds as unknown and the flag to resolve
// it; the ledger agrees and the schema was not migrated. It returns the
// arguments the hint says to deploy with, chosen as an operator would
// from the database: the cut-off run never recorded its end and the
// schema is not at the release, so it did not complete: rerun.
func checkVisibleFailure(t *testing.T, db *pgx.Conn, d *deployment, dp *cliRun) []string {
	t.Helper()
	last := dp.last()
	if !strings.HasPrefix(last, "kantree-nomad: hint: ") {
		t.Fatalf("deploy failed; last line %q, want a hint", last)
	}
	es := ledgerEntries(t, db)
	var unknown *ledger.Entry
	for i := range es {
		if es[i].Status == ledger.StatusUnknown {
			unknown = &es[i]
		}
	}
	if unknown == nil || hasStatus(es, ledger.StatusSucceeded) {
		t.Fatalf("deploy failed; ledger %s, want an unknown attempt and none succeeded", ledgerText(t, db))
	}
	m := hintedDecision.FindStringSubmatch(last)
	if m == nil || m[1] != strconv.Itoa(unknown.Attempt) || !strings.Contains(dp.text(), fmt.Sprintf("attempt %d", unknown.Attempt)) {
		t.Fatalf("deploy's last line %q does not name -unknown rerun -unknown-attempt %d (the ledger's unknown attempt)", last, unknown.Attempt)
	}
	if v, _ := kantreestub.SchemaVersion(context.Background(), db); v == "8.4.1" {
		t.Fatalf("the schema is at 8.4.1 although no attempt is recorded as succeeded")
	}
	return strings.Fields(m[0])
}

// hintedDecision is the rerun deploy's hint offers.
var hintedDecision = regexp.MustCompile(`-unknown rerun -unknown-attempt (\d+)`)

// checkNoOverlap: the upgrade_db processes seen (all nodes) and the
// stand-in's recorded runs never overlap in time.
func checkNoOverlap(t *testing.T, procs []procSpan, runs []kantreestub.UpgradeRun) {
	t.Helper()
	for i := 1; i < len(procs); i++ {
		if !procs[i].first.After(procs[i-1].last) {
			t.Errorf("two upgrade_db at once: pid %d on %s seen %s..%s, pid %d on %s from %s", procs[i-1].pid, procs[i-1].node,
				procs[i-1].first.Format("15:04:05.000"), procs[i-1].last.Format("15:04:05.000"), procs[i].pid, procs[i].node, procs[i].first.Format("15:04:05.000"))
		}
	}
	for i := 1; i < len(runs); i++ {
		prev, cur := runs[i-1], runs[i]
		if prev.Finished == nil && len(procs) > 0 {
			// The cut-off run never recorded its end: its process is the
			// record (first seen before halfway to the next run's start;
			// the next one's own process is first seen around its start).
			mid := prev.Started.Add(cur.Started.Sub(prev.Started) / 2)
			if end := lastSeenBefore(procs, mid); !cur.Started.After(end) {
				t.Errorf("upgrade_db run %d started at %s while an earlier one ran (last seen %s)", cur.ID, cur.Started.Format("15:04:05.000"), end.Format("15:04:05.000"))
			}
			continue
		}
		if prev.Finished != nil && cur.Started.Before(*prev.Finished) {
			t.Errorf("upgrade_db run %d started at %s before run %d finished at %s", cur.ID, cur.Started.Format("15:04:05.000"), prev.ID, prev.Finished.Format("15:04:05.000"))
		}
	}
}

// procSpan is one upgrade_db process as the watch saw it.
type procSpan struct {
	node        string
	pid         int
	first, last time.Time
}

// lastSeen is when the node's upgrade_db processes that ran before t were
// last seen.
func lastSeen(procs []procSpan, node string, t time.Time) time.Time {
	var last time.Time
	for _, p := range procs {
		if p.node == node && p.first.Before(t) && p.last.After(last) {
			last = p.last
		}
	}
	return last
}

// lastSeenBefore is the last sighting of a process that started before t.
func lastSeenBefore(procs []procSpan, t time.Time) time.Time {
	var last time.Time
	for _, p := range procs {
		if p.first.Before(t) && p.last.After(last) {
			last = p.last
		}
	}
	return last
}

func healText(at, heal time.Time) string {
	if at.Before(heal) {
		return fmt.Sprintf("%.1fs before the heal", heal.Sub(at).Seconds())
	}
	return fmt.Sprintf("%.1fs after the heal", at.Sub(heal).Seconds())
}

func sinceText(at, ref time.Time) string {
	if at.IsZero() {
		return "never (while watched)"
	}
	return fmt.Sprintf("%.1fs after the cut", at.Sub(ref).Seconds())
}

// upgradeWatch polls, every 50ms, every node's processes for the job's
// upgrade_db (`platform upgrade_db` with the job in its environment), and
// every 250ms the job's allocations in Nomad.
type upgradeWatch struct {
	done   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	procs  map[string]*procSpan            // node/pid
	allocs map[string]map[string]time.Time // allocation ID → client status → first seen
	nodes  map[string]string               // allocation ID → node ID
	once   sync.Once
}

func watchUpgrades(t *testing.T, e *env, job string) *upgradeWatch {
	w := &upgradeWatch{done: make(chan struct{}), procs: map[string]*procSpan{},
		allocs: map[string]map[string]time.Time{}, nodes: map[string]string{}}
	w.wg.Add(2)
	go w.loop(50*time.Millisecond, func() { w.pollProcs(e, job) })
	go w.loop(250*time.Millisecond, func() { w.pollAllocs(e, job) })
	return w
}

func (w *upgradeWatch) loop(every time.Duration, f func()) {
	defer w.wg.Done()
	for {
		f()
		select {
		case <-w.done:
			return
		case <-time.After(every):
		}
	}
}

func (w *upgradeWatch) pollProcs(e *env, job string) {
	for _, nd := range e.cl.Nodes {
		for _, pid := range nd.PIDs() {
			if !isUpgradeDB(pid, job) {
				continue
			}
			now := time.Now()
			key := nd.Name + "/" + strconv.Itoa(pid)
			w.mu.Lock()
			if p := w.procs[key]; p != nil {
				p.last = now
			} else {
				w.procs[key] = &procSpan{node: nd.Name, pid: pid, first: now, last: now}
			}
			w.mu.Unlock()
		}
	}
}

// isUpgradeDB: the process is the stand-in's upgrade_db (not migrate or
// launch, whose command lines name it too) of the job.
func isUpgradeDB(pid int, job string) bool {
	cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	args := strings.Split(string(cmd), "\x00")
	if len(args) < 2 || filepath.Base(args[0]) != "platform" || args[1] != "upgrade_db" {
		return false
	}
	env, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	return strings.Contains(string(env), "\x00NOMAD_JOB_ID="+job+"\x00")
}

func (w *upgradeWatch) pollAllocs(e *env, job string) {
	allocs, _, err := e.nomad().Jobs().Allocations(job, true, nil)
	if err != nil {
		return
	}
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range allocs {
		if w.allocs[a.ID] == nil {
			w.allocs[a.ID] = map[string]time.Time{}
		}
		if _, ok := w.allocs[a.ID][a.ClientStatus]; !ok {
			w.allocs[a.ID][a.ClientStatus] = now
		}
		w.nodes[a.ID] = a.NodeID
	}
}

// stop ends the watch and returns the processes seen, by first sighting.
func (w *upgradeWatch) stop() []procSpan {
	w.once.Do(func() {
		close(w.done)
		w.wg.Wait()
	})
	return w.snapshot()
}

// snapshot returns the processes seen so far, by first sighting.
func (w *upgradeWatch) snapshot() []procSpan {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []procSpan
	for _, p := range w.procs {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].first.Before(out[j].first) })
	return out
}

func (w *upgradeWatch) firstStatus(allocID, status string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.allocs[allocID][status]
}

// allocText describes each allocation: node, and each client status with
// when it was first seen relative to ref.
func (w *upgradeWatch) allocText(e *env, ref time.Time) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for id, sts := range w.allocs {
		var s []string
		for st, at := range sts {
			s = append(s, fmt.Sprintf("%s %+.1fs", st, at.Sub(ref).Seconds()))
		}
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		out = append(out, fmt.Sprintf("%s on %s: %s", id[:8], e.nodeName(w.nodes[id]), strings.Join(s, ", ")))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// startDeploy runs `kantree-nomad deploy` with args as an operator would.
func (e *env) startDeploy(t *testing.T, args ...string) *cliRun {
	return e.startCLI(t, append([]string{"deploy"}, args...)...)
}
