package generator

import (
	"fmt"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// service is the Consul service of a process that listens (web, push),
// checked over HTTP on its health path, with tags naming the process, the
// job and the release, plus the routing tags of Traefik or Fabio.
func (p *plan) service(proc *jobspec.Process) *api.Service {
	name := p.serviceName(proc)
	tags := []string{"kantree", "process=" + proc.Name, "job=" + p.d.Job, "release=" + p.d.Kantree.Version}
	tags = append(tags, p.lbTags(proc, name)...)
	s := &api.Service{
		Name:       name,
		PortLabel:  "http",
		Provider:   "consul",
		Tags:       tags,
		CanaryTags: append(append([]string(nil), tags...), "canary"),
	}
	if proc.HealthPath != "" {
		s.Checks = []api.ServiceCheck{{
			Name:     name + "-http",
			Type:     "http",
			Path:     proc.HealthPath,
			Interval: proc.CheckInterval,
			Timeout:  proc.CheckTimeout,
		}}
	}
	return s
}

// lbTags are the service tags Traefik or Fabio route by; nginx needs none
// (consul-template reads the services by name).
func (p *plan) lbTags(proc *jobspec.Process, svc string) []string {
	host := p.d.Kantree.ServerName
	switch p.d.LB.Kind {
	case "traefik":
		router := "traefik.http.routers." + svc
		rule := fmt.Sprintf("Host(`%s`)", host)
		if proc.Kind == "push" {
			rule += fmt.Sprintf(" && PathPrefix(`%s`)", defaultPushPath)
		}
		tags := []string{"traefik.enable=true", router + ".rule=" + rule, router + ".entrypoints=" + or(p.d.LB.Entrypoint, "web")}
		if proc.Kind == "push" {
			sticky := "traefik.http.services." + svc + ".loadbalancer.sticky.cookie"
			tags = append(tags, sticky+"=true", sticky+".name="+p.cookieName(), sticky+".httponly=true", sticky+".samesite=lax")
		}
		return tags
	case "fabio":
		if proc.Kind == "push" {
			return []string{"urlprefix-" + host + defaultPushPath}
		}
		return []string{"urlprefix-" + host + "/"}
	}
	return nil
}

// checkLB refuses load-balancer combinations that cannot keep push sticky.
func (p *plan) checkLB() error {
	lb := p.d.LB
	push := p.process("push")
	switch {
	case lb.Kind != "" && lb.Kind != "nginx" && lb.Kind != "traefik" && lb.Kind != "fabio":
		return fmt.Errorf("unknown load balancer %q; use nginx, traefik or fabio", lb.Kind)
	case lb.Sticky != "" && lb.Sticky != "cookie" && lb.Sticky != "ip":
		return fmt.Errorf("unknown sticky mode %q; use cookie or ip", lb.Sticky)
	case lb.Kind == "traefik" && lb.Sticky == "ip":
		return fmt.Errorf("traefik keeps sessions sticky by cookie only; use sticky = \"cookie\" or nginx")
	case lb.Kind == "fabio" && push != nil && push.Count > 1:
		return fmt.Errorf("fabio has no sticky sessions, so push cannot run more than one instance behind it; use nginx or traefik")
	}
	return nil
}
