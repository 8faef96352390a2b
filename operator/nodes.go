package operator

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// jobNode is one node that runs, or ran until Nomad marked them lost, some
// of the job's allocations, with the groups they belong to.
type jobNode struct {
	node   *nomadapi.Node
	groups []string
}

// printNodes prints the nodes the job's allocations run on and names those
// that are not ready and eligible: a node that is down or disconnected
// (Nomad has stopped hearing from it; what it ran is lost and placed
// elsewhere, while its processes may still run there, cut off), draining,
// or ineligible. A down or disconnected node, and a group with fewer
// running instances than it wants outside a deployment, are for the
// operator to act on; a drain is the operator's own doing and is only
// shown.
func (c *Cluster) printNodes(ctx context.Context, r *Release, job *nomadapi.Job, allocs []*nomadapi.AllocationListStub, rep *StatusReport) {
	nodes, err := c.jobNodes(ctx, r, allocs)
	if err != nil {
		rep.Unreadable = append(rep.Unreadable, err)
		c.printf("Nodes: unreadable: %v", err)
		return
	}
	var notes []string
	for _, n := range nodes {
		state, act := nodeState(n.node)
		if state == "" {
			continue
		}
		notes = append(notes, fmt.Sprintf("  %s (%s): %s; it runs or ran %s", n.node.Name, nodeAddr(n.node), state, strings.Join(n.groups, ", ")))
		if act {
			rep.act("node %s is %s (it ran %s)", n.node.Name, n.node.Status, strings.Join(n.groups, ", "))
		}
	}
	if len(notes) == 0 {
		c.printf("Nodes: %d run this job's allocations, all ready and eligible", len(nodes))
	} else {
		c.printf("Nodes: %d run this job's allocations", len(nodes))
		for _, l := range notes {
			c.printf("%s", l)
		}
	}
	if rep.deploying {
		return // a deployment places and stops instances: counts move
	}
	running := map[string]int{}
	for _, a := range allocs {
		if a.DesiredStatus == nomadapi.AllocDesiredStatusRun && a.ClientStatus == nomadapi.AllocClientStatusRunning {
			running[a.TaskGroup]++
		}
	}
	for _, g := range job.TaskGroups {
		if name := str(g.Name); running[name] < num(g.Count) {
			rep.act("%s has %d of %d instances running", name, running[name], num(g.Count))
		}
	}
}

// jobNodes reads the nodes of the allocations that Nomad wants running or
// has marked lost or unknown (their node stopped answering), in name order.
func (c *Cluster) jobNodes(ctx context.Context, r *Release, allocs []*nomadapi.AllocationListStub) ([]jobNode, error) {
	byID := map[string]*jobNode{}
	for _, a := range allocs {
		live := a.DesiredStatus == nomadapi.AllocDesiredStatusRun && !terminalClient(a.ClientStatus)
		gone := a.ClientStatus == nomadapi.AllocClientStatusLost || a.ClientStatus == nomadapi.AllocClientStatusUnknown
		if !live && !gone {
			continue
		}
		n := byID[a.NodeID]
		if n == nil {
			n = &jobNode{}
			byID[a.NodeID] = n
		}
		if !slices.Contains(n.groups, a.TaskGroup) {
			n.groups = append(n.groups, a.TaskGroup)
		}
	}
	// One list for every node; a full read (for the time of its last
	// status change) only of a node that is not ready and eligible.
	stubs, _, err := c.Nomad.Nodes().List(r.query(ctx))
	if err != nil {
		return nil, nomadError("list nodes", err)
	}
	var out []jobNode
	for _, st := range stubs {
		n := byID[st.ID]
		if n == nil {
			continue
		}
		n.node = &nomadapi.Node{ID: st.ID, Name: st.Name, Status: st.Status, Drain: st.Drain,
			SchedulingEligibility: st.SchedulingEligibility, HTTPAddr: st.Address}
		if state, _ := nodeState(n.node); state != "" {
			if n.node, _, err = c.Nomad.Nodes().Info(st.ID, r.query(ctx)); err != nil {
				return nil, nomadError("read node "+short(st.ID), err)
			}
		}
		sort.Strings(n.groups)
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].node.Name < out[j].node.Name })
	return out, nil
}

func terminalClient(s string) bool {
	switch s {
	case nomadapi.AllocClientStatusComplete, nomadapi.AllocClientStatusFailed, nomadapi.AllocClientStatusLost:
		return true
	}
	return false
}

// nodeState says what is wrong with a node ("" when it is ready and
// eligible), and whether the operator must act on it.
func nodeState(n *nomadapi.Node) (string, bool) {
	since := ""
	if n.StatusUpdatedAt > 0 {
		since = " since " + time.Unix(n.StatusUpdatedAt, 0).UTC().Format("2006-01-02 15:04:05 UTC")
	}
	switch {
	case n.Status == nomadapi.NodeStatusDown:
		return "down" + since + ": Nomad stopped hearing from it and places what it ran on other nodes; if it is only cut off, its processes run on until it returns and Nomad stops them", true
	case n.Status == nomadapi.NodeStatusDisconnected:
		return "disconnected" + since + ": Nomad stopped hearing from it", true
	case n.Status != nomadapi.NodeStatusReady:
		return n.Status + since, false
	case n.Drain:
		return "draining: its allocations move to other nodes", false
	case n.SchedulingEligibility != nomadapi.NodeSchedulingEligible:
		return "ineligible: Nomad places nothing new there", false
	}
	return "", false
}

// nodeAddr is the node's address as its HTTP address gives it.
func nodeAddr(n *nomadapi.Node) string {
	if i := strings.LastIndex(n.HTTPAddr, ":"); i > 0 {
		return n.HTTPAddr[:i]
	}
	if n.HTTPAddr != "" {
		return n.HTTPAddr
	}
	return short(n.ID)
}
