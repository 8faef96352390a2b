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
	name := proc.Service
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
			rule += fmt.Sprintf(" && PathPrefix(`%s`)", p.d.LB.PushPath)
		}
		tags := []string{"traefik.enable=true", router + ".rule=" + rule, router + ".entrypoints=" + p.d.LB.Entrypoint}
		if proc.Kind == "push" {
			sticky := "traefik.http.services." + svc + ".loadbalancer.sticky.cookie"
			tags = append(tags, sticky+"=true", sticky+".name="+p.d.LB.CookieName, sticky+".httponly=true", sticky+".samesite=lax")
		}
		return tags
	case "fabio":
		if proc.Kind == "push" {
			return []string{"urlprefix-" + host + p.d.LB.PushPath}
		}
		return []string{"urlprefix-" + host + "/"}
	}
	return nil
}
