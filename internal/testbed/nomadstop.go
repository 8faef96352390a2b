package testbed

import (
	"context"
	"errors"
	"fmt"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// drainTimeout bounds how long Stop waits for Nomad to stop the jobs'
// allocations before it kills what is left. Rendered jobs have kill
// timeouts of up to 30 s.
const drainTimeout = 60 * time.Second

// ready: a leader is elected and this agent's node is ready, with raw_exec
// (and, as root, exec) healthy and, with a Consul, Consul fingerprinted.
func (n *Nomad) ready(ctx context.Context) error {
	c := n.Client()
	q := (&nomadapi.QueryOptions{}).WithContext(ctx)
	var leader string
	if _, err := c.Raw().Query("/v1/status/leader", &leader, q); err != nil {
		return fmt.Errorf("nomad: status/leader: %w", err)
	}
	if leader == "" {
		return errors.New("nomad: no leader yet")
	}
	nodes, _, err := c.Nodes().List(q)
	if err != nil {
		return fmt.Errorf("nomad: list nodes: %w", err)
	}
	if len(nodes) != 1 || nodes[0].Status != "ready" {
		return fmt.Errorf("nomad: want 1 ready node, have %d", len(nodes))
	}
	node, _, err := c.Nodes().Info(nodes[0].ID, q)
	if err != nil {
		return fmt.Errorf("nomad: node %s: %w", nodes[0].ID, err)
	}
	if err := n.nodeComplete(node); err != nil {
		return err
	}
	n.NodeID = node.ID
	return nil
}

// nodeComplete checks what the node must have fingerprinted.
func (n *Nomad) nodeComplete(node *nomadapi.Node) error {
	for _, d := range n.drivers() {
		info := node.Drivers[d]
		if info == nil || !info.Detected || !info.Healthy {
			return fmt.Errorf("nomad: driver %s not healthy yet (%+v)", d, info)
		}
	}
	if n.consul != nil && node.Attributes["consul.version"] == "" {
		return errors.New("nomad: Consul not fingerprinted yet")
	}
	return nil
}

// drivers are the task drivers readiness waits for: exec needs root.
func (n *Nomad) drivers() []string {
	if isRoot() {
		return []string{"raw_exec", "exec"}
	}
	return []string{"raw_exec"}
}

// StopJobs deregisters every job and waits until no allocation runs on
// the node (or timeout passes).
func (n *Nomad) StopJobs(timeout time.Duration) error {
	c := n.Client()
	jobs, _, err := c.Jobs().List(nil)
	if err != nil {
		return fmt.Errorf("nomad: stop jobs: %w", err)
	}
	for _, j := range jobs {
		q := &nomadapi.WriteOptions{Namespace: j.Namespace}
		if _, _, err := c.Jobs().Deregister(j.ID, false, q); err != nil {
			return fmt.Errorf("nomad: stop job %s: %w", j.ID, err)
		}
	}
	return n.waitAllocsTerminal(timeout)
}

// waitAllocsTerminal waits until every allocation has finished on the
// client (complete, failed or lost).
func (n *Nomad) waitAllocsTerminal(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		live, err := n.liveAllocs()
		if err == nil && len(live) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nomad: allocations still running %s after stopping their jobs: %v (%v)", timeout, live, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// liveAllocs lists the allocations (all namespaces) that have not
// finished on the client.
func (n *Nomad) liveAllocs() ([]string, error) {
	allocs, _, err := n.Client().Allocations().List(&nomadapi.QueryOptions{Namespace: "*"})
	if err != nil {
		return nil, err
	}
	var live []string
	for _, a := range allocs {
		switch a.ClientStatus {
		case "complete", "failed", "lost":
		default:
			live = append(live, a.ID[:8]+" "+a.JobID+"/"+a.TaskGroup+" "+a.ClientStatus)
		}
	}
	return live, nil
}

// Stop stops every job and waits for their allocations (up to 60 s), then
// kills the agent and every process it started that is still there:
// executors and tasks run in their own sessions, and what a raw_exec task
// forks away is found through its task's cgroup. A dev agent keeps nothing
// worth a graceful shutdown, which would cost 6 to 12 s. Stop on a stopped
// agent only kills leftovers of its last run.
func (n *Nomad) Stop() error {
	var errs []error
	if n.Running() {
		n.reaper.record(n.PID())
		errs = append(errs, n.StopJobs(drainTimeout))
	}
	errs = append(errs, n.Kill())
	return errors.Join(errs...)
}

// Kill kills the agent (SIGKILL) with every process it started, without
// stopping its jobs first, and waits until they are gone.
func (n *Nomad) Kill() error {
	if pid := n.PID(); pid != 0 {
		n.reaper.record(pid)
	}
	err := n.Process.Kill()
	if rerr := n.reaper.reap(); rerr != nil {
		err = errors.Join(err, fmt.Errorf("nomad: %w", rerr))
	}
	if uerr := unmountUnder(n.DataDir); uerr != nil {
		err = errors.Join(err, fmt.Errorf("nomad: %w", uerr))
	}
	return err
}
