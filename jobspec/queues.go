package jobspec

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// QueueSettings are the config-prod.yml settings by which Kantree routes a
// kind of task to a named queue (its scaling guide). Each takes one queue
// name, a string.
var QueueSettings = []string{
	"queue_automations", "queue_batch_actions", "queue_compute_formulas",
	"queue_project_hooks", "queue_refresh_charts", "queue_related_cards",
}

// DefaultQueue is the queue `./platform run worker` serves without --queue,
// and the one Kantree routes to when no queue_* setting says otherwise.
const DefaultQueue = "default"

// ServedQueues returns the queues the worker processes of dep serve, as
// their command lines say (--queue Q, or DefaultQueue without one), each
// with the range that makes it so.
func (d *Deployment) ServedQueues() map[string]hcl.Range {
	out := map[string]hcl.Range{}
	for _, p := range d.Processes {
		if p.Kind != "worker" {
			continue
		}
		qs := commandQueues(p.Command)
		if len(qs) == 0 {
			qs = []string{DefaultQueue}
		}
		for _, q := range qs {
			if _, ok := out[q]; !ok {
				out[q] = p.QueuesRange
			}
		}
	}
	return out
}

// commandQueues reads the --queue Q (or --queue=Q) arguments of a worker
// command line.
func commandQueues(cmd []string) []string {
	var out []string
	for i, a := range cmd {
		switch {
		case a == "--queue" && i+1 < len(cmd):
			out = append(out, cmd[i+1])
		case strings.HasPrefix(a, "--queue="):
			out = append(out, strings.TrimPrefix(a, "--queue="))
		}
	}
	return out
}

// settingRanges maps each key of a literal settings map to its key's
// range; keys of any other expression point at the whole value.
func (d *decoder) settingRanges(attr *hcl.Attribute) map[string]hcl.Range {
	out := map[string]hcl.Range{}
	obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return out
	}
	for _, item := range obj.Items {
		k, diags := item.KeyExpr.Value(d.ctx)
		if diags.HasErrors() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
			continue
		}
		out[k.AsString()] = item.KeyExpr.Range()
	}
	return out
}

// settingRange is the range of setting k.
func (c *Config) settingRange(k string, fallback hcl.Range) hcl.Range {
	if r, ok := c.SettingRanges[k]; ok {
		return r
	}
	return fallback
}

// checkQueueSettingTypes refuses a queue_* setting that is not a string
// (Kantree reads a queue name); the map's own conversion would have
// turned a number or a bool into one silently.
func (d *decoder) checkQueueSettingTypes(attr *hcl.Attribute, ranges map[string]hcl.Range) {
	v, diags := attr.Expr.Value(d.ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
		return
	}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		name := k.AsString()
		rng, ok := ranges[name]
		if !ok {
			rng = attr.Expr.Range()
		}
		switch {
		case slices.Contains(QueueSettings, name) && e.Type() != cty.String:
			d.add(DiagSettingType(name, e.Type().FriendlyName(), "a string: the name of a queue", rng))
		case !slices.Contains(QueueSettings, name) && strings.HasPrefix(name, "queue_"):
			d.add(DiagUnknownQueueSetting(name, rng))
		}
	}
}

// checkQueues refuses a queue_* setting that routes to a queue no worker
// serves (its tasks would wait for ever) unless config.external_queues
// names it, and warns about a worker group whose queue nothing routes to.
func (d *decoder) checkQueues(dep *Deployment) {
	served := dep.ServedQueues()
	cfg := &dep.Config
	routed := map[string]bool{DefaultQueue: true}
	for _, k := range QueueSettings {
		q, ok := cfg.Settings[k]
		if !ok {
			continue
		}
		routed[q] = true
		if _, ok := served[q]; ok || slices.Contains(cfg.ExternalQueues, q) {
			continue
		}
		d.add(DiagUnservedQueue(k, q, sortedKeys(served), cfg.settingRange(k, dep.DefRange)))
	}
	for _, p := range dep.Processes {
		for _, q := range p.Queues {
			if !routed[q] {
				d.add(DiagUnroutedQueue(p.Name, q, p.QueuesRange))
			}
		}
	}
}

func sortedKeys(m map[string]hcl.Range) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
