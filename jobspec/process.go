package jobspec

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

var (
	groupNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	queueRE     = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]*$`)
	envKeyRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// processKinds are the process kinds, in the order of Deployment.Processes.
var processKinds = []string{"web", "worker", "scheduler", "push"}

// reservedEnv are environment variables the generated jobs set themselves.
var reservedEnv = map[string]bool{
	"DATABASE_URL": true, "REDIS_URL": true, "PORT": true, "KANTREE_CONFIG": true,
	"KANTREE_INSTANCE_ID": true, "KANTREE_VERSION": true, "KANTREE_LOCK_HELD": true,
	"KANTREE_FENCING_TOKEN": true, "BIND_ADDR": true,
	// The scheduler's supervisor reads these; the command never sees a token.
	"CONSUL_HTTP_TOKEN": true, "CONSUL_HTTP_TOKEN_FILE": true, "CONSUL_HTTP_ADDR": true,
	"CONSUL_HTTP_SSL": true, "CONSUL_CACERT": true, "CONSUL_TLS_SERVER_NAME": true,
}

// pushName is the group name of the push process for this release.
func pushName(k Kantree) string {
	if k.Realtime {
		return "realtime"
	}
	return "push"
}

// processes decodes the process and worker_group blocks; kinds that are not
// declared get a default group.
func (d *decoder) processes(dep *Deployment, procs, groups hcl.Blocks, file hcl.Range) {
	byKind := map[string]*hcl.Block{}
	for _, b := range procs {
		kind, ok := d.processKind(dep.Kantree, b)
		if !ok {
			continue
		}
		if prev, dup := byKind[kind]; dup {
			d.add(DiagDuplicateProcess("process", b.Labels[0], b.DefRange, prev.DefRange))
			continue
		}
		byKind[kind] = b
	}
	for _, kind := range processKinds {
		name := kind
		if kind == "push" {
			name = pushName(dep.Kantree)
		}
		p := newProcess(kind, name, file)
		if b := byKind[kind]; b != nil {
			d.processBody(p, b)
		}
		if kind == "scheduler" {
			p.Count = 1 + dep.Lock.Standbys
		}
		dep.Processes = append(dep.Processes, p)
	}
	d.workerGroups(dep, groups, file)
}

// processKind maps a process block's label to its kind, checking the
// push/realtime naming against the release.
func (d *decoder) processKind(k Kantree, b *hcl.Block) (string, bool) {
	label, rng := b.Labels[0], b.LabelRanges[0]
	switch label {
	case "web", "worker", "scheduler":
		return label, true
	case "push", "realtime":
		if _, known := versionMajor(k.Version); known && label != pushName(k) {
			d.add(DiagPushNaming(label, pushName(k), k.Version, rng))
			return "", false
		}
		return "push", true
	}
	d.add(DiagUnknownProcess(label, rng, k.Realtime))
	return "", false
}

// newProcess is a process group with every default of its kind.
func newProcess(kind, name string, file hcl.Range) *Process {
	def := kindDefaults[kind]
	p := &Process{Name: name, Kind: kind, Count: 1, CPU: def.cpu, Memory: def.memory,
		Command: []string{"./platform", "run", name}, Env: map[string]string{},
		Port: def.port, HealthPath: def.healthPath, KillTimeout: def.killTimeout,
		MinHealthyTime: def.minHealthy, HealthyDeadline: DefaultHealthyDeadline, ProgressDeadline: DefaultProgressDeadline,
		Range: file, CountRange: file, PortRange: file, KillTimeoutRange: file}
	if def.port != 0 {
		p.CheckInterval, p.CheckTimeout = DefaultCheckInterval, DefaultCheckTimeout
	}
	return p
}

// placementBlocks are the blocks of a process or worker group.
var placementBlocks = []hcl.BlockHeaderSchema{{Type: "constraint"}, {Type: "spread"}}

// processBody decodes the attributes and placement blocks of a process or
// worker group; more are the worker group's own fields.
func (d *decoder) processBody(p *Process, b *hcl.Block, more ...field) attrs {
	p.Range, p.CountRange, p.PortRange, p.KillTimeoutRange = b.DefRange, b.DefRange, b.DefRange, b.DefRange
	a, blocks := d.block(b, b.Type+" \""+b.Labels[0]+"\"", append(processFields(p), more...), placementBlocks...)
	d.checkTimings(p, a)
	for _, cb := range blocks.OfType("constraint") {
		d.constraint(p, cb)
	}
	for _, sb := range blocks.OfType("spread") {
		d.spread(p, sb)
	}
	return a
}

// processFields are the attributes of a process or worker group.
func processFields(p *Process) []field {
	return []field{
		{"count", guarded(schedulerCount(p), ranged(&p.CountRange, integer(&p.Count, 1, rules.MaxCount)))},
		{"cpu", integer(&p.CPU, 1, rules.MaxCPU)},
		{"memory", integer(&p.Memory, 10, rules.MaxMemoryMB)},
		{"command", nonEmptyList(&p.Command)},
		// What only web and push have: port, check and shutdown delay.
		{"port", guarded(listener(p), ranged(&p.PortRange, integer(&p.Port, 1, 65535)))},
		{"health_path", guarded(listener(p), valid(str, &p.HealthPath, func(s string) bool { return strings.HasPrefix(s, "/") && !strings.ContainsAny(s, " ") },
			"health check path", "an absolute URL path starting with '/', without spaces"))},
		{"check_interval", guarded(listener(p), duration(&p.CheckInterval, true))},
		{"check_timeout", guarded(listener(p), duration(&p.CheckTimeout, true))},
		{"shutdown_delay", guarded(listener(p), then(ranged(&p.ShutdownDelayRange, duration(&p.ShutdownDelay, false)),
			func(attrs, string) { p.shutdownDelaySet = true }))},
		{"kill_timeout", ranged(&p.KillTimeoutRange, duration(&p.KillTimeout, true))},
		{"min_healthy_time", duration(&p.MinHealthyTime, false)},
		{"healthy_deadline", duration(&p.HealthyDeadline, true)},
		{"progress_deadline", duration(&p.ProgressDeadline, false)},
		{"node_class", str(&p.NodeClass)},
		{"distinct_hosts", then(boolean(&p.DistinctHosts), func(attrs, string) { p.distinctHostsSet = true })},
		{"env", then(strMap(&p.Env), func(a attrs, name string) { a.d.checkEnv(p.Env, a.rangeOf(name)) })},
	}
}

// schedulerCount refuses a count on the scheduler: it is 1 + standbys.
func schedulerCount(p *Process) func(a attrs, name string) *hcl.Diagnostic {
	return func(a attrs, name string) *hcl.Diagnostic {
		if p.Kind != "scheduler" {
			return nil
		}
		return DiagSchedulerCount(a.rangeOf(name))
	}
}

// listener refuses the attributes of a listening process on one that
// does not listen.
func listener(p *Process) func(a attrs, name string) *hcl.Diagnostic {
	return func(a attrs, name string) *hcl.Diagnostic {
		if p.Port != 0 {
			return nil
		}
		return DiagNotForProcess(name, p.Name, a.rangeOf(name))
	}
}

// checkEnv refuses environment variable names the job sets itself or that
// look like secrets, and values that carry credentials.
func (d *decoder) checkEnv(env map[string]string, rng hcl.Range) {
	for _, k := range slices.Sorted(maps.Keys(env)) {
		switch {
		case !envKeyRE.MatchString(k):
			d.add(DiagInvalidName("environment variable name", k, "letters, digits and '_', not starting with a digit", rng))
		case reservedEnv[k]:
			d.add(DiagReservedEnv(k, rng))
		case looksSecret(k):
			d.add(DiagSecretLooking("env", k, rng))
		default:
			d.noCredentials("env."+k, env[k], rng)
		}
	}
}

// workerGroups decodes worker_group blocks: extra workers on named queues.
func (d *decoder) workerGroups(dep *Deployment, groups hcl.Blocks, file hcl.Range) {
	seen := map[string]hcl.Range{}
	queues := map[string]hcl.Range{}
	for _, b := range groups {
		name := b.Labels[0]
		if !groupNameRE.MatchString(name) {
			d.add(DiagInvalidName("worker group name", name, "lower-case letters, digits and '-', starting with a letter or digit", b.LabelRanges[0]))
			continue
		}
		if prev, dup := seen[name]; dup {
			d.add(DiagDuplicateProcess("worker_group", name, b.DefRange, prev))
			continue
		}
		seen[name] = b.DefRange
		p := newProcess("worker", "worker-"+name, file)
		p.Queues = []string{name}
		a := d.processBody(p, b, field{"queues", then(strList(&p.Queues), func(a attrs, name string) {
			if len(p.Queues) == 0 {
				d.add(DiagEmptyList(name, a.rangeOf(name)))
			}
		})})
		d.queues(p, a, queues)
		p.QueuesRange = a.rangeOf("queues")
		if !a.has("command") {
			p.Command = []string{"./platform", "run", "worker"}
			for _, q := range p.Queues {
				p.Command = append(p.Command, "--queue", q)
			}
		}
		dep.Processes = append(dep.Processes, p)
	}
}

// queues checks a worker group's queue names; a queue may be served by
// one group only, which no one group's table can say.
func (d *decoder) queues(p *Process, a attrs, seen map[string]hcl.Range) {
	rng := a.rangeOf("queues")
	if !a.has("queues") {
		rng = a.rng
	}
	for _, q := range p.Queues {
		if !queueRE.MatchString(q) {
			d.add(DiagInvalidName("queue name", q, "letters, digits, '_', '.', ':' and '-'", rng))
			continue
		}
		if prev, dup := seen[q]; dup {
			d.add(DiagDuplicateQueue(q, rng, prev))
			continue
		}
		seen[q] = rng
	}
}

var constraintOperators = []string{"=", "!=", ">", ">=", "<", "<=", "distinct_hosts", "distinct_property",
	"regexp", "set_contains", "set_contains_all", "set_contains_any", "version", "semver", "is_set", "is_not_set"}

// constraint decodes one constraint block.
func (d *decoder) constraint(p *Process, b *hcl.Block) {
	c := Constraint{Operator: "="}
	d.block(b, "constraint", []field{
		{"operator", oneOf(&c.Operator, constraintOperators...)},
		// Whether attribute and value are required depends on the operator.
		{"attribute", requiredUnless(func() bool { return c.Operator == "distinct_hosts" }, &c.Attribute)},
		{"value", requiredUnless(func() bool { return slices.Contains([]string{"distinct_hosts", "is_set", "is_not_set"}, c.Operator) }, &c.Value)},
	})
	p.Constraints = append(p.Constraints, c)
}

// requiredUnless decodes a string that is required unless optional().
func requiredUnless(optional func() bool, dst *string) decodeFunc {
	return func(a attrs, name string) bool {
		if optional() {
			return a.str(name, dst)
		}
		return required(dst)(a, name)
	}
}

// spread decodes one spread block with its targets.
func (d *decoder) spread(p *Process, b *hcl.Block) {
	s := Spread{Weight: DefaultSpreadWeight, Targets: map[string]int{}}
	_, targets := d.block(b, "spread", []field{
		{"attribute", required(&s.Attribute)},
		{"weight", integer(&s.Weight, 0, 100)},
	}, hcl.BlockHeaderSchema{Type: "target", LabelNames: []string{"value"}})
	sum := 0
	seen := map[string]hcl.Range{}
	for _, tb := range targets.OfType("target") {
		if prev, dup := seen[tb.Labels[0]]; dup {
			d.add(DiagDuplicateBlock("target \""+tb.Labels[0]+"\"", tb.DefRange, prev))
			continue
		}
		seen[tb.Labels[0]] = tb.DefRange
		pct := 0
		d.block(tb, "target", []field{{"percent", mandatory(integer(&pct, 0, 100))}})
		s.Targets[tb.Labels[0]] = pct
		sum += pct
	}
	if sum > 100 {
		d.add(DiagSpreadTargets(sum, b.DefRange))
	}
	p.Spreads = append(p.Spreads, s)
}

// checkTimings checks the deployment timings, which Nomad wants in
// order: min_healthy_time < healthy_deadline < progress_deadline (or a
// progress_deadline of 0, no deadline).
func (d *decoder) checkTimings(p *Process, a attrs) {
	switch {
	case p.MinHealthyTime >= p.HealthyDeadline:
		d.add(DiagTimingOrder("min_healthy_time", p.MinHealthyTime, "healthy_deadline", p.HealthyDeadline, a.rangeOf("min_healthy_time")))
	case p.ProgressDeadline != 0 && p.ProgressDeadline <= p.HealthyDeadline:
		d.add(DiagTimingOrder("healthy_deadline", p.HealthyDeadline, "progress_deadline", p.ProgressDeadline, a.rangeOf("progress_deadline")))
	}
}
