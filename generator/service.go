package generator

import (
	"fmt"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// service is the Consul service of a process that listens (web, push),
// checked over HTTP on its health path, with tags naming the process, the
// job and the release, plus the routing tags of the load balancer. A
// canary carries the same tags minus what routes traffic to it when
// canaries are held until promotion.
func (p *plan) service(proc *jobspec.Process) *api.Service {
	name := proc.Service
	tags := []string{"kantree", "process=" + proc.Name, "job=" + p.d.Job, "release=" + p.d.Kantree.Version}
	canary := append(append([]string(nil), tags...), "canary")
	routed, held := p.lbTags(proc, name)
	tags = append(tags, routed...)
	if p.d.LB.Canaries == "route" {
		canary = append(canary, routed...)
	} else {
		canary = append(canary, held...)
	}
	s := &api.Service{
		Name:       name,
		PortLabel:  "http",
		Provider:   "consul",
		Tags:       tags,
		CanaryTags: canary,
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

// lbTags are the service tags the load balancer routes an instance by
// (nginx: the routed tag its site selects on; Traefik and Fabio: their
// routing tags), and the tags of a canary held out of traffic.
func (p *plan) lbTags(proc *jobspec.Process, svc string) (routed, held []string) {
	host := p.d.Kantree.ServerName
	switch p.d.LB.Kind {
	case "traefik":
		router := "traefik.http.routers." + svc
		rule := fmt.Sprintf("Host(`%s`)", host)
		if proc.Kind == "push" {
			rule += fmt.Sprintf(" && PathPrefix(`%s`)", p.d.LB.PushPath)
		}
		tags := []string{router + ".rule=" + rule, router + ".entrypoints=" + p.d.LB.Entrypoint}
		if t := p.d.LB.TLS; t != nil {
			// HTTPS on the router; the certificate is Traefik's (its file
			// provider's default certificate, or the named resolver's).
			tags = append(tags, router+".tls=true")
			if t.CertResolver != "" {
				tags = append(tags, router+".tls.certresolver="+t.CertResolver)
			}
		}
		if proc.Kind == "push" {
			sticky := "traefik.http.services." + svc + ".loadbalancer.sticky.cookie"
			tags = append(tags, sticky+"=true", sticky+".name="+p.d.LB.CookieName, sticky+".httponly=true", sticky+".samesite=lax")
		}
		// Traefik exposes services by default: a held canary says so explicitly.
		return append([]string{"traefik.enable=true"}, tags...), append([]string{"traefik.enable=false"}, tags...)
	case "fabio":
		if proc.Kind == "push" {
			return []string{"urlprefix-" + host + p.d.LB.PushPath}, nil
		}
		return []string{"urlprefix-" + host + "/"}, nil
	}
	return []string{p.d.LB.RoutedTag}, nil
}
