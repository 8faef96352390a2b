//go:build cluster

package cluster_test

import (
	"slices"
	"testing"
)

// placedProcesses are an operator's placement settings on the test
// cluster (node1 is of class "edge", node2 and node3 of class "app"): web
// on the app nodes, push and the scheduler (holder and standby together,
// distinct_hosts = false) on the edge node, workers pinned to node3 by a
// constraint.
const placedProcesses = `process "web" {
  count          = 2
  cpu            = 100
  memory         = 128
  check_interval = "1s"
  node_class     = "app"
}
process "push" {
  count          = 2
  cpu            = 100
  memory         = 128
  check_interval = "1s"
  node_class     = "edge"
}
process "worker" {
  count  = 2
  cpu    = 100
  memory = 128
  constraint {
    attribute = "$${node.unique.name}"
    operator  = "="
    value     = "node3"
  }
}
process "scheduler" {
  cpu            = 100
  memory         = 128
  node_class     = "edge"
  distinct_hosts = false
}
`

// TestPlacementSettings deploys with every kind of placement setting a
// process block has (count, node_class, a constraint, distinct_hosts
// turned off, the default spread) and checks where Nomad's real scheduler
// put each instance.
func TestPlacementSettings(t *testing.T) {
	e := shared(t)
	d := e.render(t, spec{job: "kt-place", standbys: 1, processes: placedProcesses})
	d.start(t)
	lay := e.layout(t, d.dep.Job)
	t.Logf("placement: %v", lay)
	want := map[string][]string{
		"web":       {"node2", "node3"}, // class app, spread over both
		"push":      {"node1", "node1"}, // class edge: the spread is a preference, the class a rule
		"worker":    {"node3", "node3"}, // the constraint
		"scheduler": {"node1", "node1"}, // class edge, standby allowed beside the holder
	}
	for g, w := range want {
		if !slices.Equal(lay[g], w) {
			t.Errorf("%s placed on %v, want %v", g, lay[g], w)
		}
	}
}
