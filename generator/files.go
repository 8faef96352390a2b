package generator

import (
	"path"
	"strings"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/templates"
)

// lbView is the data of the load-balancer files.
type lbView struct {
	Job, Release, ServerName string
	Listen                   int
	WebService, PushService  string // Consul service names; PushService "" when there is no push process
	RoutedTag, Canaries      string // the tag the site routes by; "hold" or "route"
	PushPath                 string
	Sticky                   string // "cookie" or "ip"
	CookieName               string
	Prefix                   string // prefix of the nginx variables, unique per job
	HealthPath               string // answered by nginx itself
	RetryAfter               int    // seconds, in the maintenance page's Retry-After
	ConsulAddr               string
	ConfigDir                string // on the LB hosts: consul-template.hcl, nginx.conf.ctmpl, the staged render
	ConfigPath               string // ConfigDir/consul-template.hcl
	TemplatePath             string // ConfigDir/nginx.conf.ctmpl
	StagedPath               string // ConfigDir/site.conf: consul-template's output, before nginx -t
	NginxConfPath            string // the nginx site
	TokenEnvPath             string // ConfigDir/consul-token.env: CONSUL_HTTP_TOKEN for the unit
	UnitName                 string // the systemd unit of consul-template
	ConsulTemplateBin        string
	ReloadScript             string
	WaitMin, WaitMax         string // consul-template's quiescence
	Reaction                 string // WaitMax + the reload time
	SystemJob                string // the LB system job's name, "" when not rendered
	TLS                      *tlsView
	InJob                    bool   // the site of the system job (not the hosts' consul-template)
	MaintenanceKey           string // the Consul key of maintenance mode (rules.MaintenanceKey)
}

// maintenanceRetryAfter is the Retry-After of the maintenance page, in
// seconds: about a release's canary wait.
const maintenanceRetryAfter = 30

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
	// What the Nomad clients need: kantree-nomad at BinaryPath (unless
	// BinaryURL fetches it), and a Consul agent at ConsulAddr.
	BinaryPath, BinaryURL, ConsulAddr string
	SchedulerMinHealthy               string
	Backup                            backupView
}

// backupView is what the runbook says about the backup before each upgrade.
type backupView struct {
	Enabled       bool
	Volume, Mount string // host volume and where the task sees it ("" : the command stores it elsewhere)
	HostPath      string // raw_exec: the volume's host directory the task writes to
	Command       string // the operator's command, words joined ("" : pg_dump -Fc)
	Keep          int
	Timeout       string
}

func (p *plan) lbView() lbView {
	d := p.d
	n := d.LB.Nginx
	v := lbView{
		Job: d.Job, Release: d.Kantree.Version, ServerName: d.Kantree.ServerName,
		Listen: d.LB.Listen, RoutedTag: d.LB.RoutedTag, Canaries: d.LB.Canaries, PushPath: d.LB.PushPath, Sticky: d.LB.Sticky,
		CookieName: d.LB.CookieName, Prefix: d.LB.VarPrefix, HealthPath: jobspec.LBHealthPath, RetryAfter: maintenanceRetryAfter,
		ConsulAddr: n.ConsulAddress, ConfigDir: n.ConfigDir,
		ConfigPath: n.ConfigDir + "/consul-template.hcl", TemplatePath: n.ConfigDir + "/nginx.conf.ctmpl",
		StagedPath: n.ConfigDir + "/site.conf", NginxConfPath: n.Site, TokenEnvPath: n.ConfigDir + "/consul-token.env",
		UnitName: "consul-template-" + d.Job + ".service", ConsulTemplateBin: n.ConsulTemplate,
		WaitMin: n.WaitMin.String(), WaitMax: n.WaitMax.String(), Reaction: d.LB.Reaction.String(),
		MaintenanceKey: rules.MaintenanceKey(d.Job),
	}
	v.ReloadScript = reloadScript(v.StagedPath, v.NginxConfPath, n.ConfigDir+"/site.previous", n.TestCommand, n.ReloadCommand)
	if web := d.Process("web"); web != nil {
		v.WebService = web.Service
	}
	if push := d.Process("push"); push != nil {
		v.PushService = push.Service
	}
	if d.LB.SystemJob != nil {
		v.SystemJob = d.LB.SystemJob.Job
	}
	v.TLS = tlsViewOf(d.LB.TLS, false)
	return v
}

// reloadScript is the command consul-template runs after each render of
// the staged site. It installs the site atomically (keeping the previous
// one), and reloads nginx only when test passes; otherwise it puts the
// previous site back, or removes the new one when there was none, so that
// a later restart of nginx does not meet a broken file. It always exits 0:
// a failing command would make consul-template exit. Paths and command
// words hold no shell metacharacters (jobspec checks them).
func reloadScript(staged, site, prev string, test, reload []string) string {
	t, r := strings.Join(test, " "), strings.Join(reload, " ")
	// The temporary file starts with a dot: nginx's include globs
	// (conf.d/*.conf, sites-enabled/*) never pick it up.
	tmp := path.Dir(site) + "/." + path.Base(site) + ".tmp"
	return "rm -f " + prev + "; if [ -f " + site + " ]; then cp -p " + site + " " + prev + "; fi; " +
		"cp " + staged + " " + tmp + " && mv -f " + tmp + " " + site + " || { echo 'kantree-nomad: cannot install " + site + "' >&2; exit 0; }; " +
		"if " + t + "; then " + r + " || echo 'kantree-nomad: nginx reload failed; the site is in place but not loaded' >&2; " +
		"else echo 'kantree-nomad: nginx -t failed; previous site restored, nginx keeps its running configuration' >&2; " +
		"if [ -f " + prev + " ]; then cp -p " + prev + " " + tmp + " && mv -f " + tmp + " " + site + "; else rm -f " + site + "; fi; fi; true"
}

func (p *plan) aclView() aclView {
	d := p.d
	v := aclView{
		Job: d.Job, UpgradeJob: d.UpgradeJob, Namespace: d.Namespace, NodePool: d.NodePool,
		SecretsProvider: p.secrets.Provider, SecretsPath: p.secrets.Path, NomadVariables: p.secrets.Provider == "nomad",
		VaultRole: d.Secrets.VaultRole, LockKey: d.Lock.Key, LockService: d.Lock.Service, ConsulTokenKey: d.Secrets.ConsulTokenKey,
		Scheduler: d.Process("scheduler") != nil, LB: p.lbView(), LBKind: d.LB.Kind,
		BinaryPath: d.Binary.Path, BinaryURL: d.Binary.URL, ConsulAddr: d.Consul.Address,
	}
	if s := d.Process("scheduler"); s != nil {
		v.SchedulerMinHealthy = formatDuration(s.MinHealthyTime)
	}
	b := d.Backup
	v.Backup = backupView{Enabled: b.Enabled, Volume: b.Volume, Command: strings.Join(b.Command, " "),
		Keep: b.Keep, Timeout: formatDuration(b.Timeout), HostPath: b.HostPath}
	if b.Volume != "" {
		v.Backup.Mount = jobspec.BackupMountPath
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
		{"lb/" + acl.LB.UnitName, "lb/consul-template.service", acl.LB, acl.LBKind == "nginx"},
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
