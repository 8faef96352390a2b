package operator

import (
	"strings"
	"testing"

	nomadapi "github.com/hashicorp/nomad/api"
)

// TestNodeState: which node states status names, and which it acts on
// (the cluster scenarios check the whole section on a real down node).
func TestNodeState(t *testing.T) {
	for _, tc := range []struct {
		node     nomadapi.Node
		want     string // prefix of the state; "" when nothing is wrong
		act      bool
		wantAddr string
	}{
		{nomadapi.Node{Status: "ready", SchedulingEligibility: "eligible", HTTPAddr: "10.0.0.1:4646"}, "", false, "10.0.0.1"},
		{nomadapi.Node{Status: "down", StatusUpdatedAt: 1796000000, HTTPAddr: "[fd00::1]:4646"}, "down since 2026-", true, "[fd00::1]"},
		{nomadapi.Node{Status: "disconnected", ID: "0123456789abcdef"}, "disconnected", true, "01234567"},
		{nomadapi.Node{Status: "initializing"}, "initializing", false, ""},
		{nomadapi.Node{Status: "ready", Drain: true, SchedulingEligibility: "ineligible"}, "draining", false, ""},
		{nomadapi.Node{Status: "ready", SchedulingEligibility: "ineligible"}, "ineligible", false, ""},
	} {
		state, act := nodeState(&tc.node)
		if !strings.HasPrefix(state, tc.want) || (tc.want == "") != (state == "") || act != tc.act {
			t.Errorf("%s/%s drain=%v: state %q act %v, want %q... act %v", tc.node.Status, tc.node.SchedulingEligibility, tc.node.Drain, state, act, tc.want, tc.act)
		}
		if tc.wantAddr != "" {
			if got := nodeAddr(&tc.node); got != tc.wantAddr {
				t.Errorf("nodeAddr(%q) = %q, want %q", tc.node.HTTPAddr, got, tc.wantAddr)
			}
		}
	}
}
