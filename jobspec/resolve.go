package jobspec

import "strings"

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

// resolve fills in every derived value of a valid deployment.
func resolve(dep *Deployment) {
	dep.UpgradeJob = dep.Job + "-upgrade-db"
	dep.Lock.Service = dep.Job + "-scheduler-lock"
	for _, p := range dep.Processes {
		if p.Port > 0 {
			p.Service = dep.Job + "-" + p.Name
		}
	}
	dep.LB.PushPath = DefaultPushPath
	dep.LB.VarPrefix = strings.ReplaceAll(dep.Job, "-", "_")
	dep.LB.CookieName = dep.LB.VarPrefix + "_push"
	dep.Layout = layout(dep)
	if dep.Consul.Address == "" {
		dep.Consul.Address = DefaultConsulAddr
		if dep.Kantree.Docker != nil {
			dep.Consul.Address = DockerConsulAddr
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
