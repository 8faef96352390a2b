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

  # Test the new file before reloading; a failing test leaves the running
  # nginx on its previous configuration, and "|| true" keeps consul-template
  # running (a failed command would make it exit).
  command         = ["/bin/sh", "-c", "nginx -t -q && nginx -s reload || { echo 'kantree-nomad: nginx -t or reload failed; nginx keeps its running configuration' >&2; true; }"]
  command_timeout = "30s"

  # Quiescence: render once the catalog has been still for 2s (at most 10s).
  wait {
    min = "2s"
    max = "10s"
  }
}
