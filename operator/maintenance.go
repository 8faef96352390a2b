package operator

import (
	"context"
	"fmt"
	"slices"
	"strings"

	consulapi "github.com/hashicorp/consul/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// MaintenanceMode is the state of the maintenance switch in Consul.
type MaintenanceMode struct {
	On    bool
	Allow []string // client networks that still reach Kantree while on
}

// String is the mode as status prints it.
func (m MaintenanceMode) String() string {
	if !m.On {
		return "off"
	}
	if len(m.Allow) == 0 {
		return "on (every client gets the maintenance page)"
	}
	return "on (still reaching Kantree: " + strings.Join(m.Allow, ", ") + ")"
}

// SetMaintenance switches every load balancer that renders the generated
// nginx site (consul-template on LB hosts, the LB system job) to the
// maintenance page, or back: on writes the Consul key
// rules.MaintenanceKey with the allowed client networks, one a line; off
// deletes it. No Nomad job is touched, so no instance restarts and health
// checks keep running. The load balancers follow within their reaction
// time (consul-template's wait plus an nginx reload); this call returns
// once Consul has the new value.
func (c *Cluster) SetMaintenance(ctx context.Context, r *Release, on bool, allow []string) error {
	key := rules.MaintenanceKey(r.Dep.Job)
	nets, err := rules.ParseClientNetworks(allow)
	if err != nil {
		return err
	}
	want := MaintenanceMode{On: on, Allow: nets}
	for tries := 1; ; tries++ {
		err := c.writeMaintenance(ctx, key, want)
		if err == nil {
			break
		}
		if ctx.Err() != nil || !transient(err) {
			return err
		}
		// Consul's answer was lost: the write may have been applied. The
		// key says which; the write is idempotent, so one not applied is
		// made again.
		now, rerr := c.Maintenance(ctx, r)
		switch {
		case rerr != nil:
			return rules.WithHint(fmt.Errorf("%w; reading the key back failed too (%v): whether maintenance mode is %s is unknown", err, rerr, onOff(on)),
				"Once Consul answers, 'kantree-nomad status' says the mode; running the same command again is safe.")
		case now.equal(want):
			fmt.Fprintf(c.warn(), "kantree-nomad: warning: Consul's answer was lost (%v), but key %s shows the change was made\n", err, key)
		case tries > maxResubmit:
			return fmt.Errorf("%w: Consul's answer was lost %d times and the key was not changed: maintenance mode is still %s", err, tries, now)
		default:
			fmt.Fprintf(c.warn(), "kantree-nomad: warning: Consul's answer was lost (%v), and key %s is unchanged; writing it again\n", err, key)
			continue
		}
		break
	}
	if on {
		c.printf("==> Maintenance mode %s (Consul key %s)", want, key)
	} else {
		c.printf("==> Maintenance mode off (Consul key %s deleted)", key)
	}
	c.printf("    %s", c.lbReaction(r))
	return nil
}

// writeMaintenance writes the maintenance key for mode m (on: the allowed
// networks, one a line), or deletes it (off).
func (c *Cluster) writeMaintenance(ctx context.Context, key string, m MaintenanceMode) error {
	wopts := (&consulapi.WriteOptions{}).WithContext(ctx)
	if !m.On {
		if _, err := c.Consul.KV().Delete(key, wopts); err != nil {
			return consulError("delete "+key, err)
		}
		return nil
	}
	value := strings.Join(m.Allow, "\n")
	if _, err := c.Consul.KV().Put(&consulapi.KVPair{Key: key, Value: []byte(value)}, wopts); err != nil {
		return consulError("write "+key, err)
	}
	return nil
}

// equal reports whether two modes are the same.
func (m MaintenanceMode) equal(o MaintenanceMode) bool {
	return m.On == o.On && (!m.On || slices.Equal(m.Allow, o.Allow))
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// lbReaction says when the load balancers follow a change in Consul.
func (c *Cluster) lbReaction(r *Release) string {
	switch r.Dep.LB.Kind {
	case "nginx":
		return fmt.Sprintf("nginx follows within its reaction time (about %s: consul-template's wait, then a reload); check with kantree-nomad status", r.Dep.LB.Reaction)
	}
	return fmt.Sprintf("the load balancer is %s: it does not read the maintenance key (only the generated nginx site does)", r.Dep.LB.Kind)
}

// Maintenance reads the maintenance switch from Consul.
func (c *Cluster) Maintenance(ctx context.Context, r *Release) (MaintenanceMode, error) {
	key := rules.MaintenanceKey(r.Dep.Job)
	kv, _, err := c.Consul.KV().Get(key, consulQuery(ctx))
	if err != nil {
		return MaintenanceMode{}, consulError("read "+key, err)
	}
	if kv == nil {
		return MaintenanceMode{}, nil
	}
	m := MaintenanceMode{On: true}
	for _, n := range strings.Split(string(kv.Value), "\n") {
		if n = strings.TrimSpace(n); n != "" {
			m.Allow = append(m.Allow, n)
		}
	}
	return m, nil
}

// printMaintenance is status's line on maintenance mode.
func (c *Cluster) printMaintenance(ctx context.Context, r *Release) {
	m, err := c.Maintenance(ctx, r)
	if err != nil {
		c.printf("Maintenance mode: unknown (%v)", err)
		return
	}
	c.printf("Maintenance mode: %s", m)
}
