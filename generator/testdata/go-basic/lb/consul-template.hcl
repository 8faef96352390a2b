# consul-template configuration for the load-balancer hosts of Kantree,
# Nomad job kantree. Copy nginx.conf.ctmpl next to it and run:
#   consul-template -config /etc/consul-template.d/kantree/consul-template.hcl
# Consul token: export CONSUL_HTTP_TOKEN (a token with acl/consul-lb.policy.hcl);
# never write it in this file.

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
  source      = "/etc/consul-template.d/kantree/nginx.conf.ctmpl"
  destination = "/etc/nginx/conf.d/kantree.conf"
  perms       = 0644

  # A render error is logged and the previous file kept; consul-template stays up.
  error_fatal = false

  # Keep the previous site as <destination>.bak: the command below puts it
  # back when the new one fails nginx -t.
  backup = true

  # Test the new file before reloading. A failing test restores the
  # previous site, so nginx keeps running (and restarts) on a good
  # configuration; the command always exits 0, because a failed command
  # would make consul-template exit.
  command         = ["/bin/sh", "-c", "if nginx -t -q; then nginx -s reload || echo 'kantree-nomad: nginx reload failed; the site is in place but not loaded' >&2; else echo 'kantree-nomad: nginx -t failed; previous site restored, nginx keeps its running configuration' >&2; cp -p /etc/nginx/conf.d/kantree.conf.bak /etc/nginx/conf.d/kantree.conf 2>/dev/null || rm -f /etc/nginx/conf.d/kantree.conf; fi; true"]
  command_timeout = "30s"

  # Quiescence: render once the catalog has been still for 2s (at most 10s).
  wait {
    min = "2s"
    max = "10s"
  }
}
