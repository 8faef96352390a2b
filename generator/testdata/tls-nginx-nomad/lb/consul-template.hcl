# consul-template configuration for the load-balancer hosts of Kantree,
# Nomad job kantree. Put it and nginx.conf.ctmpl in /etc/consul-template.d/kantree, then
# install lb/consul-template-kantree.service (beside this file) or run:
#   consul-template -config /etc/consul-template.d/kantree/consul-template.hcl
# Consul token: CONSUL_HTTP_TOKEN in /etc/consul-template.d/kantree/consul-token.env (a token with
# acl/consul-lb.policy.hcl, only where Consul ACLs are on); never in this file.

consul {
  address = "127.0.0.1:8500"

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
  source = "/etc/consul-template.d/kantree/nginx.conf.ctmpl"
  # consul-template writes a staged copy; the command below installs it as
  # /etc/nginx/conf.d/kantree.conf only for as long as nginx accepts it.
  destination = "/etc/consul-template.d/kantree/site.conf"
  perms       = 0644

  # A render error is logged and the previous file kept; consul-template stays up.
  error_fatal = false

  # Install the new site (keeping the previous one), test nginx's whole
  # configuration, then reload. A failing test puts the previous site back
  # (or removes the new one when there was none), so nginx keeps running
  # on, and restarts with, a good configuration. The command always exits
  # 0: a failed command would make consul-template exit.
  command         = ["/bin/sh", "-c", "rm -f /etc/consul-template.d/kantree/site.previous; if [ -f /etc/nginx/conf.d/kantree.conf ]; then cp -p /etc/nginx/conf.d/kantree.conf /etc/consul-template.d/kantree/site.previous; fi; cp /etc/consul-template.d/kantree/site.conf /etc/nginx/conf.d/.kantree.conf.tmp && mv -f /etc/nginx/conf.d/.kantree.conf.tmp /etc/nginx/conf.d/kantree.conf || { echo 'kantree-nomad: cannot install /etc/nginx/conf.d/kantree.conf' >&2; exit 0; }; if nginx -t -q; then nginx -s reload || echo 'kantree-nomad: nginx reload failed; the site is in place but not loaded' >&2; else echo 'kantree-nomad: nginx -t failed; previous site restored, nginx keeps its running configuration' >&2; if [ -f /etc/consul-template.d/kantree/site.previous ]; then cp -p /etc/consul-template.d/kantree/site.previous /etc/nginx/conf.d/.kantree.conf.tmp && mv -f /etc/nginx/conf.d/.kantree.conf.tmp /etc/nginx/conf.d/kantree.conf; else rm -f /etc/nginx/conf.d/kantree.conf; fi; fi; true"]
  command_timeout = "30s"

  # Quiescence: render once the catalog has been still for 200ms, at most
  # 1s after a change. kantree.hcl derives web's and push's shutdown_delay
  # from wait_max + reload_time (2s): raise one, the other follows.
  wait {
    min = "200ms"
    max = "1s"
  }
}
