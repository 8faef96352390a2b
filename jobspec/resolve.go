package jobspec

import (
	"strings"
	"time"
)

// Names and paths derived from a deployment's settings. They are computed
// here, once, so that the generator only translates.
const (
	// DefaultPushPath is the URL path of Kantree's push (socket.io) endpoint.
	DefaultPushPath = "/socket.io/"
	// BinaryInTask is where a kantree-nomad fetched by URL lands, relative
	// to the task directory (the exec drivers) or mounted (Docker: /local).
	BinaryInTask = "local/bin/kantree-nomad"
	// DefaultConsulAddr is a stock Consul agent's HTTP address, which tasks
	// that share the host's network (exec, raw_exec) reach.
	DefaultConsulAddr = "127.0.0.1:8500"
	// DockerConsulAddr is the node's address: a container's 127.0.0.1 is
	// its own, so the agent must also listen there (client_addr).
	DockerConsulAddr = "${attr.unique.network.ip-address}:8500"
)

// Load-balancer defaults: Debian's and Ubuntu's nginx package, HashiCorp's
// consul-template package, and the reaction times of Traefik's and
// Fabio's Consul catalog providers with their own defaults.
const (
	DefaultCanaries       = "hold"
	DefaultNginxBin       = "nginx"
	DefaultConsulTemplate = "/usr/bin/consul-template"
	DefaultWaitMin        = 200 * time.Millisecond
	DefaultWaitMax        = time.Second
	// DefaultReloadTime bounds nginx -t plus the reload of a stock
	// Debian nginx with this site (measured: well under 100 ms).
	DefaultReloadTime = time.Second
	// DefaultTraefikReaction is Traefik's consulCatalog refreshInterval (15s).
	DefaultTraefikReaction = 15 * time.Second
	// DefaultFabioReaction: Fabio watches the catalog with blocking queries.
	DefaultFabioReaction = 2 * time.Second
	// DrainMargin is added to the reaction time for the Consul agent to
	// pass the deregistration on and for clocks and scheduling.
	DrainMargin = time.Second
	// DefaultLBNodeClass, DefaultLBNginx: the system job's placement and nginx.
	DefaultLBNodeClass = "lb"
	DefaultLBNginx     = "/usr/sbin/nginx"
	// LBHealthPath is answered by nginx itself, for the system job's check.
	LBHealthPath = "/.kantree-lb/health"
	// RoutedTag marks the service instances the nginx site routes to.
	RoutedTag = "routed"
)

// defaultNginxHost is the layout of a Debian or Ubuntu load-balancer host.
func defaultNginxHost(job string) NginxHost {
	return NginxHost{
		Site: "/etc/nginx/conf.d/" + job + ".conf", ConfigDir: "/etc/consul-template.d/" + job,
		TestCommand: []string{DefaultNginxBin, "-t", "-q"}, ReloadCommand: []string{DefaultNginxBin, "-s", "reload"},
		ConsulTemplate: DefaultConsulTemplate, ConsulAddress: DefaultConsulAddr,
		WaitMin: DefaultWaitMin, WaitMax: DefaultWaitMax, ReloadTime: DefaultReloadTime,
	}
}

// defaultReaction is the reaction time of a balancer kind with its defaults.
func defaultReaction(lb *LoadBalancer) time.Duration {
	switch lb.Kind {
	case "traefik":
		return DefaultTraefikReaction
	case "fabio":
		return DefaultFabioReaction
	}
	return lb.Nginx.WaitMax + lb.Nginx.ReloadTime
}

// shutdownDelayUnset says whether the file leaves p's shutdown_delay out:
// it is then derived from the load balancer.
func shutdownDelayUnset(p *Process) bool { return !p.shutdownDelaySet }

// NodeSpreadAttribute is what web and push spread over by default: the
// node, so that losing or draining one node takes only its share.
const NodeSpreadAttribute = "${node.unique.id}"

// resolvePlacement applies the placement defaults a cluster needs (measured
// on the multi-node test bed, internal/e2e/cluster):
//   - the scheduler's standbys run on other nodes than the holder
//     (distinct_hosts), unless the file sets distinct_hosts: a standby on
//     the holder's node dies with it, and the gap after a node loss is then
//     Nomad's time to replace the holder (about a minute) instead of the
//     lock's handover (about 15 s). The price is a standby that cannot be
//     placed while fewer nodes than 1 + standbys are eligible: Nomad reports
//     it as a placement failure, the holder keeps running.
//   - web and push, when the file has no spread block, spread over nodes
//     (soft: a smaller cluster still places every instance), so that a
//     drain or a node loss takes one share of them, not all.
func resolvePlacement(p *Process) {
	if p.Kind == "scheduler" && p.Count > 1 && !p.distinctHostsSet {
		p.DistinctHosts = true
	}
	if (p.Kind == "web" || p.Kind == "push") && len(p.Spreads) == 0 {
		p.Spreads = []Spread{{Attribute: NodeSpreadAttribute, Weight: DefaultSpreadWeight, Targets: map[string]int{}}}
	}
}

// resolve fills in every derived value of a valid deployment.
func resolve(dep *Deployment) {
	dep.UpgradeJob = dep.Job + "-upgrade-db"
	dep.Lock.Service = dep.Job + "-scheduler-lock"
	for _, p := range dep.Processes {
		if p.Port > 0 {
			p.Service = dep.Job + "-" + p.Name
		}
		resolvePlacement(p)
	}
	dep.LB.PushPath = DefaultPushPath
	dep.LB.VarPrefix = strings.ReplaceAll(dep.Job, "-", "_")
	dep.LB.CookieName = dep.LB.VarPrefix + "_push"
	resolveLB(dep)
	dep.Layout = layout(dep)
	if dep.Consul.Address == "" {
		dep.Consul.Address = DefaultConsulAddr
		if dep.Kantree.Docker != nil {
			dep.Consul.Address = DockerConsulAddr
		}
	}
}

// resolveLB derives what the load balancer imposes on the jobs: the
// shutdown delay of web and push, whether push may have a canary, the
// tag the nginx site routes by, and the system job's names.
func resolveLB(dep *Deployment) {
	lb := &dep.LB
	lb.MinShutdownDelay = lb.Reaction + DrainMargin
	lb.PushCanary = lb.Kind != "fabio"
	lb.RoutedTag = RoutedTag
	for _, p := range dep.Processes {
		if p.Port > 0 && shutdownDelayUnset(p) {
			p.ShutdownDelay = lb.MinShutdownDelay
		}
	}
	if sj := lb.SystemJob; sj != nil {
		sj.Job = dep.Job + "-lb"
		sj.Service = sj.Job
		sj.HealthPath = LBHealthPath
		if t := lb.TLS; t != nil && t.Path == "" {
			t.Path = defaultTLSPath(t.Source, sj.Job)
		}
	}
}

// layout places Kantree and kantree-nomad in the task. An archive unpacks
// under the task's local/ directory; an image holds Kantree at an absolute
// root, and the rendered files are written to local/ and mounted into it.
func layout(dep *Deployment) Layout {
	root := dep.Kantree.Root
	l := Layout{Root: root, RootInTask: root, FilesDir: root, Binary: dep.Binary.Path}
	if dep.Kantree.Archive != nil {
		l.RootInTask = "${NOMAD_TASK_DIR}/" + strings.TrimPrefix(root, "local/")
		if dep.Binary.URL != "" {
			l.Binary = BinaryInTask
		}
	} else {
		l.FilesDir = "local"
		if dep.Binary.URL != "" {
			l.Binary = "/" + BinaryInTask
		}
	}
	l.ConfigPath = l.RootInTask + "/config-prod.yml"
	return l
}

// Process returns the first process group of the given kind ("web",
// "worker", "scheduler", "push"), or nil.
func (dep *Deployment) Process(kind string) *Process {
	for _, p := range dep.Processes {
		if p.Kind == kind {
			return p
		}
	}
	return nil
}
