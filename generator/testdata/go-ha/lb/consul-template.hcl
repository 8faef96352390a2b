# consul-template configuration for the load-balancer hosts of Kantree,
# Nomad job kantree-ha. Put it and nginx.conf.ctmpl in , then
# install lb/consul-template-kantree-ha.service (beside this file) or run:
#   consul-template -config /consul-template.hcl
# Consul token: CONSUL_HTTP_TOKEN in /consul-token.env (a token with
# acl/consul-lb.policy.hcl, only where Consul ACLs are on); never in this file.

consul {
  address = ""

  # Ride out Consul restarts and leader elections: retry for ever, backing off.
  retry {
    enabled     = true
    attempts    = 0
    backoff     = "250ms"
    max_backoff = "1m"
  }
}

log_level = "info"

template {
  source = "/nginx.conf.ctmpl"
  # consul-template writes a staged copy; the command below installs it as
  #  only for as long as nginx accepts it.
  destination = "/site.conf"
  perms       = 0644

  # A render error is logged and the previous file kept; consul-template stays up.
  error_fatal = false

  # Install the new site (keeping the previous one), test nginx's whole
  # configuration, then reload. A failing test puts the previous site back
  # (or removes the new one when there was none), so nginx keeps running
  # on, and restarts with, a good configuration. The command always exits
  # 0: a failed command would make consul-template exit.
  command         = ["/bin/sh", "-c", "rm -f /site.previous; if [ -f  ]; then cp -p  /site.previous; fi; cp /site.conf ./...tmp && mv -f ./...tmp  || { echo 'kantree-nomad: cannot install ' >&2; exit 0; }; if ; then  || echo 'kantree-nomad: nginx reload failed; the site is in place but not loaded' >&2; else echo 'kantree-nomad: nginx -t failed; previous site restored, nginx keeps its running configuration' >&2; if [ -f /site.previous ]; then cp -p /site.previous ./...tmp && mv -f ./...tmp ; else rm -f ; fi; fi; true"]
  command_timeout = "30s"

  # Quiescence: render once the catalog has been still for 0s, at most
  # 0s after a change. kantree.hcl derives web's and push's shutdown_delay
  # from wait_max + reload_time (0s): raise one, the other follows.
  wait {
    min = "0s"
    max = "0s"
  }
}
