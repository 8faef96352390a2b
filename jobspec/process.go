package jobspec

import (
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
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
			d.processBody(p, b, processSchema)
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

// processBody decodes the attributes and placement blocks of a process or worker group.
func (d *decoder) processBody(p *Process, b *hcl.Block, schema *hcl.BodySchema) attrs {
	p.Range, p.CountRange, p.PortRange, p.KillTimeoutRange = b.DefRange, b.DefRange, b.DefRange, b.DefRange
	c := d.content(b, schema)
	a := d.attrs(c, b.Type+" \""+b.Labels[0]+"\"", b.DefRange)
	if p.Kind == "scheduler" && a.has("count") {
		d.add(DiagSchedulerCount(a.rangeOf("count")))
	} else if a.integer("count", &p.Count, 1, 0) {
		p.CountRange = a.rangeOf("count")
	}
	a.integer("cpu", &p.CPU, 1, 0)
	a.integer("memory", &p.Memory, 10, 0)
	if a.strList("command", &p.Command) {
		d.nonEmptyList("command", p.Command, a.rangeOf("command"))
	}
	d.listenerAttrs(p, a)
	if a.duration("kill_timeout", &p.KillTimeout, true) {
		p.KillTimeoutRange = a.rangeOf("kill_timeout")
	}
	d.updateTimings(p, a)
	a.str("node_class", &p.NodeClass)
	a.boolean("distinct_hosts", &p.DistinctHosts)
	d.env(p, a)
	for _, cb := range c.Blocks.OfType("constraint") {
		d.constraint(p, cb)
	}
	for _, sb := range c.Blocks.OfType("spread") {
		d.spread(p, sb)
	}
	return a
}

// listenerAttrs decodes what only web and push have: port, check and shutdown delay.
func (d *decoder) listenerAttrs(p *Process, a attrs) {
	if p.Port == 0 {
		for _, name := range []string{"port", "health_path", "check_interval", "check_timeout", "shutdown_delay"} {
			if a.has(name) {
				d.add(DiagNotForProcess(name, p.Name, a.rangeOf(name)))
			}
		}
		return
	}
	if a.integer("port", &p.Port, 1, 65535) {
		p.PortRange = a.rangeOf("port")
	}
	if a.str("health_path", &p.HealthPath) && (!strings.HasPrefix(p.HealthPath, "/") || strings.ContainsAny(p.HealthPath, " ")) {
		d.add(DiagInvalidName("health check path", p.HealthPath, "an absolute URL path starting with '/', without spaces", a.rangeOf("health_path")))
	}
	a.duration("check_interval", &p.CheckInterval, true)
	a.duration("check_timeout", &p.CheckTimeout, true)
	if a.duration("shutdown_delay", &p.ShutdownDelay, false) {
		p.shutdownDelaySet, p.ShutdownDelayRange = true, a.rangeOf("shutdown_delay")
	}
}

// env decodes the env map, refusing names the job sets itself and secrets.
func (d *decoder) env(p *Process, a attrs) {
	if !a.strMap("env", &p.Env) {
		return
	}
	rng := a.rangeOf("env")
	for _, k := range slices.Sorted(maps.Keys(p.Env)) {
		switch {
		case !envKeyRE.MatchString(k):
			d.add(DiagInvalidName("environment variable name", k, "letters, digits and '_', not starting with a digit", rng))
		case reservedEnv[k]:
			d.add(DiagReservedEnv(k, rng))
		case looksSecret(k):
			d.add(DiagSecretLooking("env", k, rng))
		default:
			d.noCredentials("env."+k, p.Env[k], rng)
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
		a := d.processBody(p, b, workerGroupSchema)
		d.queues(p, a, queues)
		if !a.has("command") {
			p.Command = []string{"./platform", "run", "worker"}
			for _, q := range p.Queues {
				p.Command = append(p.Command, "--queue", q)
			}
		}
		dep.Processes = append(dep.Processes, p)
	}
}

// queues decodes a worker group's queue list; a queue may be served by one group only.
func (d *decoder) queues(p *Process, a attrs, seen map[string]hcl.Range) {
	if a.strList("queues", &p.Queues) && len(p.Queues) == 0 {
		d.add(DiagEmptyList("queues", a.rangeOf("queues")))
	}
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
	a := d.attrs(d.content(b, constraintSchema), "constraint", b.DefRange)
	c := Constraint{Operator: "="}
	a.oneOf("operator", &c.Operator, constraintOperators...)
	if c.Operator != "distinct_hosts" {
		a.required("attribute", &c.Attribute)
	} else {
		a.str("attribute", &c.Attribute)
	}
	switch c.Operator {
	case "distinct_hosts", "is_set", "is_not_set":
		a.str("value", &c.Value)
	default:
		a.required("value", &c.Value)
	}
	p.Constraints = append(p.Constraints, c)
}

// spread decodes one spread block with its targets.
func (d *decoder) spread(p *Process, b *hcl.Block) {
	c := d.content(b, spreadSchema)
	a := d.attrs(c, "spread", b.DefRange)
	s := Spread{Weight: DefaultSpreadWeight, Targets: map[string]int{}}
	a.required("attribute", &s.Attribute)
	a.integer("weight", &s.Weight, 0, 100)
	sum := 0
	seen := map[string]hcl.Range{}
	for _, tb := range c.Blocks.OfType("target") {
		if prev, dup := seen[tb.Labels[0]]; dup {
			d.add(DiagDuplicateBlock("target \""+tb.Labels[0]+"\"", tb.DefRange, prev))
			continue
		}
		seen[tb.Labels[0]] = tb.DefRange
		ta := d.attrs(d.content(tb, targetSchema), "target", tb.DefRange)
		pct := 0
		if ta.has("percent") {
			ta.integer("percent", &pct, 0, 100)
		} else {
			d.add(DiagMissingAttribute("percent", "target", tb.DefRange))
		}
		s.Targets[tb.Labels[0]] = pct
		sum += pct
	}
	if sum > 100 {
		d.add(DiagSpreadTargets(sum, b.DefRange))
	}
	p.Spreads = append(p.Spreads, s)
}

// updateTimings decodes the deployment timings, which Nomad wants in
// order: min_healthy_time < healthy_deadline < progress_deadline (or a
// progress_deadline of 0, no deadline).
func (d *decoder) updateTimings(p *Process, a attrs) {
	a.duration("min_healthy_time", &p.MinHealthyTime, false)
	a.duration("healthy_deadline", &p.HealthyDeadline, true)
	a.duration("progress_deadline", &p.ProgressDeadline, false)
	switch {
	case p.MinHealthyTime >= p.HealthyDeadline:
		d.add(DiagTimingOrder("min_healthy_time", p.MinHealthyTime, "healthy_deadline", p.HealthyDeadline, a.rangeOf("min_healthy_time")))
	case p.ProgressDeadline != 0 && p.ProgressDeadline <= p.HealthyDeadline:
		d.add(DiagTimingOrder("healthy_deadline", p.HealthyDeadline, "progress_deadline", p.ProgressDeadline, a.rangeOf("progress_deadline")))
	}
}
