package generator

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// TestNodeLossSettingsPerNomadVersion pins what the multi-node scenarios
// (internal/e2e/cluster, make test-cluster) measured and the runbook's
// "Nodes" section explains, for every Nomad version the renderer targets:
// no group carries disconnect settings (max_client_disconnect,
// stop_after_client_disconnect, or from 1.8 the disconnect block), so a
// node whose heartbeats stop has its allocations marked lost and replaced,
// and they are stopped when it returns; the scheduler stays single by its
// Consul lock alone. Rescheduling never gives up, so a lost holder's group
// is always placed again.
func TestNodeLossSettingsPerNomadVersion(t *testing.T) {
	versions := []string{rules.OldestNomad, "1.7", rules.DisconnectBlock.Since, "1.9", rules.NewestNomad}
	for _, v := range versions {
		exs := examplesFor(t, v)
		if len(exs) == 0 {
			t.Fatalf("no example renders for Nomad %s", v)
		}
		for _, tc := range exs {
			b, err := Generate(tc.d)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			for _, g := range b.Service.TaskGroups {
				name := tc.name + "/" + *g.Name
				if g.MaxClientDisconnect != nil || g.StopAfterClientDisconnect != nil || g.Disconnect != nil {
					t.Errorf("%s: disconnect settings rendered (max_client_disconnect %v, stop_after_client_disconnect %v, disconnect %+v)",
						name, g.MaxClientDisconnect, g.StopAfterClientDisconnect, g.Disconnect)
				}
				if rp := g.ReschedulePolicy; rp == nil || rp.Unlimited == nil || !*rp.Unlimited {
					t.Errorf("%s: reschedule policy %+v, want unlimited", name, rp)
				}
			}
		}
	}
}
