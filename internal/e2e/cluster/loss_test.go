//go:build cluster

package cluster_test

import (
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
)

// TestNodeLossOfTheHolder cuts the power of the node that holds the
// scheduler lock (link down, every process killed at once), under load
// through nginx, with one standby and then with none: never two
// schedulers, the gap within lossGapBound with a standby, no failed GET,
// and the time until Nomad has replaced the lost allocations printed. The
// node is brought back afterwards.
func TestNodeLossOfTheHolder(t *testing.T) {
	e := shared(t)
	for _, standbys := range []int{1, 0} {
		name := map[int]string{0: "no standby", 1: "one standby"}[standbys]
		t.Run(name, func(t *testing.T) {
			d := e.render(t, spec{job: "kt-loss" + name[:2], standbys: standbys})
			d.start(t)
			db := d.db(t)
			lb := e.startLB(t, d.bundle.Files, d.listen)
			old := holder(t, db)
			nd := e.cl.Node(e.alloc(t, old.InstanceID).NodeID)
			t.Logf("losing %s, which runs the holder %s and %v", nd.Name, old.InstanceID[:8], e.groupsOn(t, d.dep.Job, nd.NodeID))
			ld := lb.StartLoad(4, 100*time.Millisecond)
			time.Sleep(2 * time.Second)
			lostAt := time.Now()
			if err := nd.Lose(); err != nil {
				t.Fatal(err)
			}
			defer nd.Revive(t)
			next := nextRun(t, db, old, 3*time.Minute)
			gapSeen := time.Since(lostAt)
			e.waitReplaced(t, d.dep.Job, nd.NodeID, 4*time.Minute)
			replacedAfter := time.Since(lostAt)
			time.Sleep(2 * time.Second)
			reqs, fails, samples := ld.Stop()
			late := ld.FailedSentAfter(lostAt.Add(lbStale))
			window := ld.FailedSentAfter(lostAt) - late
			runs := schedulerRuns(t, db)
			gap := next.First.Sub(lastBeat(t, db, old.RunID))
			figure(t, "node loss of %s (%d standby): scheduler gap %.1fs (new scheduler seen %.1fs after the cut), overlap %s; %d GETs, %d failed (%d in flight at the cut, %d sent within %s after it, %d later; sent at %s); lost allocations replaced %.1fs after the cut",
				nd.Name, standbys, gap.Seconds(), gapSeen.Seconds(), kantreestub.Overlap(runs), reqs, fails, int(fails)-late-window, window, lbStale, late, ld.FailedOffsets(lostAt), replacedAfter.Seconds())
			if ov := kantreestub.Overlap(runs); ov > 0 {
				t.Errorf("two schedulers ran at once for %s", ov)
			}
			if standbys == 1 && gap > lossGapBound {
				t.Errorf("scheduler gap %s after the loss of the holder's node, with a standby; bound %s", gap, lossGapBound)
			}
			if late > 0 {
				t.Errorf("%d GETs sent more than %s after the node loss failed (%d of %d in all):\n%s", late, lbStale, fails, reqs, samples)
			}
		})
	}
}
