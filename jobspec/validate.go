package jobspec

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// validate runs the checks that involve more than one block. It runs only
// on a deployment that decoded without errors, so every value is set.
func (d *decoder) validate(dep *Deployment) {
	d.checkLock(dep)
	d.checkLoadBalancer(dep)
	d.checkPorts(dep)
	d.checkQueues(dep)
}

// checkLock applies CheckLockTimings, the rule the supervisor applies
// again at run time, and points at the attribute it names.
func (d *decoder) checkLock(dep *Deployment) {
	l := dep.Lock
	sched := dep.Process("scheduler")
	err := rules.CheckLockTimings(rules.LockTimings{TTL: l.TTL, LockDelay: l.LockDelay, KillGrace: l.KillGrace, KillTimeout: sched.KillTimeout})
	if err != nil {
		rng := map[string]hcl.Range{"ttl": l.TTLRange, "lock_delay": l.LockDelayRange,
			"kill_grace": l.KillGraceRange, "kill_timeout": sched.KillTimeoutRange}[err.Field]
		d.add(DiagLockTiming(err, rng))
		return
	}
	if l.CheckTTL >= l.TTL {
		d.add(DiagCheckTTL(l.CheckTTL.String(), l.TTL.String(), l.CheckTTLRange))
	}
}

// checkLoadBalancer refuses balancers that cannot keep push clients
// sticky, and web or push shutdown delays shorter than the time the
// balancer takes to stop sending requests to a deregistered instance.
func (d *decoder) checkLoadBalancer(dep *Deployment) {
	push := dep.Process("push")
	switch {
	case dep.LB.Kind == "fabio" && push.Count > 1:
		d.add(DiagFabioSticky(push.Name, push.Count, push.CountRange, dep.LB.KindRange))
	case dep.LB.Kind == "traefik" && dep.LB.Sticky == "ip":
		d.add(DiagStickyTraefik(dep.LB.StickyRange))
	}
	need := dep.LB.Reaction + DrainMargin
	for _, p := range dep.Processes {
		if p.Port > 0 && !shutdownDelayUnset(p) && p.ShutdownDelay < need {
			d.add(DiagCannotDrain(p.Name, p.ShutdownDelay, need, dep.LB.Kind, dep.LB.Reaction, p.ShutdownDelayRange, dep.LB.ReactionRange))
		}
	}
}

// checkPorts refuses two listening processes on one port: on a host
// network they would collide whenever Nomad places them on the same node.
func (d *decoder) checkPorts(dep *Deployment) {
	byPort := map[int]*Process{}
	for _, p := range dep.Processes {
		if p.Port == 0 {
			continue
		}
		if other, dup := byPort[p.Port]; dup {
			d.add(DiagPortCollision(p.Port, other.Name, p.PortRange, other.PortRange))
			continue
		}
		byPort[p.Port] = p
	}
}
