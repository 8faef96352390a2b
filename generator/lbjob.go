package generator

import (
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/templates"
)

// lbJob is the load balancer as a Nomad system job: nginx on every node of
// the load-balancer node class, its site rendered by a template block from
// the same catalog queries as lb/nginx.conf.ctmpl, reloaded by SIGHUP (an
// nginx that cannot load a new site keeps the running one), registered in
// Consul with an HTTP check on a path nginx answers itself.
func (p *plan) lbJob() (*api.Job, error) {
	sj := p.d.LB.SystemJob
	view := p.lbView()
	view.InJob, view.TLS = true, tlsViewOf(p.d.LB.TLS, true)
	site, err := templates.Render("lb/nginx.conf.ctmpl", view)
	if err != nil {
		return nil, err
	}
	main, err := templates.Render("lb/nginx-job.conf", view)
	if err != nil {
		return nil, err
	}
	j := p.job(sj.Job, "system")
	j.Constraints = []*api.Constraint{{LTarget: "${node.class}", Operand: "=", RTarget: sj.NodeClass}}
	j.Update = &api.UpdateStrategy{MaxParallel: new(1), Stagger: new(10 * time.Second)}
	g := &api.TaskGroup{
		Name:     new("nginx"),
		Networks: []*api.NetworkResource{{ReservedPorts: p.lbPorts()}},
		Services: []*api.Service{p.lbService(sj)},
		Tasks:    []*api.Task{p.lbTask(sj, string(main), string(site))},
	}
	j.TaskGroups = []*api.TaskGroup{g}
	return j, nil
}

// lbPorts are the ports nginx listens on: http, and https with TLS.
func (p *plan) lbPorts() []api.Port {
	ports := []api.Port{{Label: "http", Value: p.d.LB.Listen}}
	if t := p.d.LB.TLS; t != nil {
		ports = append(ports, api.Port{Label: "https", Value: t.Listen})
	}
	return ports
}

// lbService registers the load balancer with a check on nginx's own
// health location.
func (p *plan) lbService(sj *jobspec.LBSystemJob) *api.Service {
	return &api.Service{
		Name: sj.Service, PortLabel: "http", Provider: "consul", Tags: []string{"kantree", "job=" + p.d.Job, "lb"},
		Checks: []api.ServiceCheck{{Name: sj.Service + "-http", Type: "http", Path: sj.HealthPath,
			Interval: 5 * time.Second, Timeout: 2 * time.Second}},
	}
}

// lbTask runs nginx in the foreground on its files in local/. SIGQUIT
// stops it gracefully (requests in flight complete).
func (p *plan) lbTask(sj *jobspec.LBSystemJob, main, site string) *api.Task {
	n := p.d.LB.Nginx
	config := map[string]any{
		"command": sj.Nginx,
		"args":    []string{"-p", "${NOMAD_TASK_DIR}/", "-c", "${NOMAD_TASK_DIR}/nginx.conf", "-e", "stderr", "-g", "daemon off;"},
	}
	if sj.Driver == "exec" && (p.d.LB.Listen < 1024 || p.d.LB.TLS != nil && p.d.LB.TLS.Listen < 1024) {
		// exec runs nginx as nobody: binding a port below 1024 needs the capability.
		config["cap_add"] = []string{"net_bind_service"}
	}
	t := &api.Task{
		Name: "nginx", Driver: sj.Driver, Config: config,
		KillSignal: "SIGQUIT", KillTimeout: new(30 * time.Second),
		Templates: []*api.Template{
			{EmbeddedTmpl: new(main), DestPath: new("local/nginx.conf"), ChangeMode: new("signal"), ChangeSignal: new("SIGHUP"), Perms: new("0644")},
			{EmbeddedTmpl: new(site), DestPath: new("local/site.conf"), ChangeMode: new("signal"), ChangeSignal: new("SIGHUP"), Perms: new("0644"),
				Splay: new(time.Duration(0)), Wait: &api.WaitConfig{Min: new(n.WaitMin), Max: new(n.WaitMax)}},
		},
		Resources: &api.Resources{CPU: new(200), MemoryMB: new(128)},
	}
	if tls := p.d.LB.TLS; tls != nil {
		if tmpl := tlsTemplate(tls, p.d.Kantree.ServerName); tmpl != nil {
			t.Templates = append(t.Templates, tmpl)
		}
		if tls.Source == jobspec.TLSSourceVaultKV || tls.Source == jobspec.TLSSourceVaultPKI {
			t.Vault = p.task("nginx").Vault
		}
	}
	return t
}
