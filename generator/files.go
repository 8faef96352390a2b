package generator

import (
	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/templates"
)

// lbView is the data of the load-balancer files.
type lbView struct {
	Job, Release, ServerName string
	Listen                   int
	WebService, PushService  string // Consul service names; PushService "" when there is no push process
	PushPath                 string
	Sticky                   string // "cookie" or "ip"
	CookieName               string
	Prefix                   string // prefix of the nginx variables, unique per job
	ConsulAddr               string
	ConfigPath               string // where the runbook puts consul-template.hcl
	TemplatePath             string // where the runbook puts nginx.conf.ctmpl
	NginxConfPath            string // the rendered nginx site
	ReloadScript             string
}

// aclView is the data of the ACL policies and the runbook.
type aclView struct {
	Job, UpgradeJob, Namespace, NodePool string
	SecretsProvider, SecretsPath         string
	NomadVariables                       bool
	VaultRole                            string
	LockKey, LockService, ConsulTokenKey string
	LBServices                           []string
	Scheduler                            bool
	LB                                   lbView
	LBKind                               string
}

func (p *plan) lbView() lbView {
	d := p.d
	dir := "/etc/consul-template.d/" + d.Job
	v := lbView{
		Job: d.Job, Release: d.Kantree.Version, ServerName: d.Kantree.ServerName,
		Listen: d.LB.Listen, PushPath: d.LB.PushPath, Sticky: d.LB.Sticky,
		CookieName: d.LB.CookieName, Prefix: d.LB.VarPrefix, ConsulAddr: jobspec.DefaultConsulAddr,
		ConfigPath: dir + "/consul-template.hcl", TemplatePath: dir + "/nginx.conf.ctmpl",
		NginxConfPath: "/etc/nginx/conf.d/" + d.Job + ".conf",
	}
	v.ReloadScript = reloadScript(v.NginxConfPath)
	if web := d.Process("web"); web != nil {
		v.WebService = web.Service
	}
	if push := d.Process("push"); push != nil {
		v.PushService = push.Service
	}
	return v
}

// reloadScript is the command consul-template runs after each render of
// the nginx site at dest (a path of [a-z0-9/.-] only: job names are
// checked). nginx reloads only a configuration that passes nginx -t; one
// that fails is replaced by the previous site (consul-template's backup),
// or removed when there is none, so that a later restart of nginx does not
// meet a broken file. It always exits 0: a failing command would make
// consul-template exit.
func reloadScript(dest string) string {
	return "if nginx -t -q; then nginx -s reload || echo 'kantree-nomad: nginx reload failed; the site is in place but not loaded' >&2; " +
		"else echo 'kantree-nomad: nginx -t failed; previous site restored, nginx keeps its running configuration' >&2; " +
		"cp -p " + dest + ".bak " + dest + " 2>/dev/null || rm -f " + dest + "; fi; true"
}

func (p *plan) aclView() aclView {
	d := p.d
	v := aclView{
		Job: d.Job, UpgradeJob: d.UpgradeJob, Namespace: d.Namespace, NodePool: d.NodePool,
		SecretsProvider: p.secrets.Provider, SecretsPath: p.secrets.Path, NomadVariables: p.secrets.Provider == "nomad",
		VaultRole: d.Secrets.VaultRole, LockKey: d.Lock.Key, LockService: d.Lock.Service, ConsulTokenKey: d.Secrets.ConsulTokenKey,
		Scheduler: d.Process("scheduler") != nil, LB: p.lbView(), LBKind: d.LB.Kind,
	}
	// A policy names its namespace and node pool; a job that leaves them
	// out runs in Nomad's "default" ones.
	if v.Namespace == "" {
		v.Namespace = "default"
	}
	if v.NodePool == "" {
		v.NodePool = "default"
	}
	for _, kind := range []string{"web", "push"} {
		if proc := d.Process(kind); proc != nil {
			v.LBServices = append(v.LBServices, proc.Service)
		}
	}
	return v
}

// files renders the non-job outputs.
func (p *plan) files() ([]File, error) {
	acl := p.aclView()
	type item struct {
		path, tmpl string
		data       any
		when       bool
	}
	items := []item{
		{"README.md", "runbook/README.md", acl, true},
		{"lb/nginx.conf.ctmpl", "lb/nginx.conf.ctmpl", acl.LB, acl.LBKind == "nginx"},
		{"lb/consul-template.hcl", "lb/consul-template.hcl", acl.LB, acl.LBKind == "nginx"},
		{"acl/consul-lb.policy.hcl", "acl/consul-lb.policy.hcl", acl, true},
		{"acl/consul-scheduler-lock.policy.hcl", "acl/consul-scheduler-lock.policy.hcl", acl, acl.Scheduler},
		{"acl/nomad-deploy.policy.hcl", "acl/nomad-deploy.policy.hcl", acl, true},
		{"acl/nomad-workload-variables.policy.hcl", "acl/nomad-workload-variables.policy.hcl", acl, acl.NomadVariables},
		{"acl/vault.policy.hcl", "acl/vault.policy.hcl", acl, !acl.NomadVariables},
	}
	var out []File
	for _, it := range items {
		if !it.when {
			continue
		}
		data, err := templates.Render(it.tmpl, it.data)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: it.path, Data: data})
	}
	return out, nil
}
