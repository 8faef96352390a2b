package generator

import (
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// Policies shared by the groups. Service groups restart a failed task a few
// times in place, then Nomad reschedules the allocation elsewhere, with an
// exponential back-off, for ever.
var (
	serviceRestart = func() *api.RestartPolicy {
		return &api.RestartPolicy{Attempts: new(3), Interval: new(5 * time.Minute), Delay: new(10 * time.Second), Mode: new("fail")}
	}
	serviceReschedule = func() *api.ReschedulePolicy {
		return &api.ReschedulePolicy{Delay: new(30 * time.Second), DelayFunction: new("exponential"), MaxDelay: new(10 * time.Minute), Unlimited: new(true)}
	}
)

// job fills the fields the two jobs share.
func (p *plan) job(id, typ string) *api.Job {
	d := p.d
	j := &api.Job{
		ID:          new(id),
		Name:        new(id),
		Type:        new(typ),
		Datacenters: append([]string(nil), d.Datacenters...),
		Meta: map[string]string{
			"kantree_version": d.Kantree.Version,
			"generated_by":    "kantree-nomad",
		},
	}
	if len(j.Datacenters) == 0 {
		j.Datacenters = []string{"*"}
	}
	if d.Region != "" {
		j.Region = new(d.Region)
	}
	if d.Namespace != "" {
		j.Namespace = new(d.Namespace)
	}
	if d.NodePool != "" {
		j.NodePool = new(d.NodePool)
	}
	return j
}

func (p *plan) serviceJob() (*api.Job, error) {
	j := p.job(p.d.Job, "service")
	for _, proc := range p.d.Processes {
		g, err := p.group(proc)
		if err != nil {
			return nil, err
		}
		j.TaskGroups = append(j.TaskGroups, g)
	}
	return j, nil
}

// group builds the task group of one process: placement, network, Consul
// service, update and restart policies, the preflight task and the process.
func (p *plan) group(proc *jobspec.Process) (*api.TaskGroup, error) {
	g := &api.TaskGroup{
		Name:             new(proc.Name),
		Count:            new(proc.Count),
		Constraints:      constraints(proc),
		Spreads:          spreads(proc),
		RestartPolicy:    serviceRestart(),
		ReschedulePolicy: serviceReschedule(),
		Update:           updateStrategy(proc, p.d.LB.PushCanary),
	}
	if proc.Port > 0 {
		g.Networks = []*api.NetworkResource{p.network(proc)}
		g.Services = []*api.Service{p.service(proc)}
		if proc.ShutdownDelay > 0 {
			g.ShutdownDelay = new(proc.ShutdownDelay)
		}
	}
	// The scheduler group has no disconnect settings, on purpose: the
	// Consul lock keeps it single, and Nomad's may only add availability.
	// A client that stops hearing from the servers keeps its scheduler; if
	// the supervisor also loses Consul it fences its child by itself, and
	// the replacement Nomad places elsewhere waits for the lock. A
	// stop_after_client_disconnect shorter than the client's heartbeat TTL
	// (10s against 12-16s measured on one node) made Nomad stop holder and
	// standby together every few heartbeats while every check was green.
	pre, err := p.preflightTask()
	if err != nil {
		return nil, err
	}
	main, err := p.processTask(proc)
	if err != nil {
		return nil, err
	}
	g.Tasks = []*api.Task{pre, main}
	return g, nil
}

// updateStrategy: web and push roll out through one canary each, promoted when
// healthy and reverted when not; workers roll one at a time. The scheduler
// rolls one at a time too, by task state, so that a deployment sees a
// supervisor that cannot start (no Consul, a bad token): min_healthy_time
// outlasts supervise's bounded wait for Consul at start. The lock, not the
// rollout, keeps it single: the new one waits for the old one's lock.
// Push has no canary when pushCanary is false (Fabio, no stickiness): a
// release then stops the old instance before placing the new one, so two
// push instances are never routed at once.
func updateStrategy(proc *jobspec.Process, pushCanary bool) *api.UpdateStrategy {
	u := &api.UpdateStrategy{MaxParallel: new(1), AutoRevert: new(true), MinHealthyTime: new(proc.MinHealthyTime),
		HealthyDeadline: new(proc.HealthyDeadline), ProgressDeadline: new(proc.ProgressDeadline)}
	switch {
	case proc.Kind == "scheduler" || proc.Kind == "worker":
		u.HealthCheck = new("task_states")
	case proc.Kind == "push" && !pushCanary:
		u.HealthCheck, u.Canary = new("checks"), new(0)
	default:
		u.HealthCheck, u.Canary, u.AutoPromote = new("checks"), new(1), new(true)
	}
	return u
}

// constraints places a group: its node class, distinct hosts, then its
// own constraints, each once.
func constraints(proc *jobspec.Process) []*api.Constraint {
	var out []*api.Constraint
	seen := map[api.Constraint]bool{}
	add := func(c api.Constraint) {
		if !seen[c] {
			seen[c] = true
			out = append(out, &c)
		}
	}
	if proc.NodeClass != "" {
		add(api.Constraint{LTarget: "${node.class}", Operand: "=", RTarget: proc.NodeClass})
	}
	if proc.DistinctHosts {
		add(api.Constraint{Operand: "distinct_hosts", RTarget: "true"})
	}
	for _, c := range proc.Constraints {
		add(api.Constraint{LTarget: c.Attribute, Operand: c.Operator, RTarget: c.Value})
	}
	return out
}

func spreads(proc *jobspec.Process) []*api.Spread {
	var out []*api.Spread
	for _, s := range proc.Spreads {
		sp := &api.Spread{Attribute: s.Attribute}
		if s.Weight != 0 {
			sp.Weight = new(int8(s.Weight))
		}
		values := slices.Sorted(maps.Keys(s.Targets))
		for _, v := range values {
			sp.SpreadTarget = append(sp.SpreadTarget, &api.SpreadTarget{Value: v, Percent: uint8(s.Targets[v])})
		}
		out = append(out, sp)
	}
	return out
}

// network: one dynamic port "http". The exec drivers bind the host port
// itself; Docker maps it to the process's port inside the container.
func (p *plan) network(proc *jobspec.Process) *api.NetworkResource {
	port := api.Port{Label: "http"}
	if p.d.Kantree.Docker != nil {
		port.To = proc.Port
	}
	return &api.NetworkResource{DynamicPorts: []api.Port{port}}
}
