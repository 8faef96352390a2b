[[- /* consul-template configuration for the load-balancer hosts. Data: LBView. */ -]]
# consul-template configuration for the load-balancer hosts of Kantree,
# Nomad job [[ .Job ]]. Copy nginx.conf.ctmpl next to it and run:
#   consul-template -config [[ .ConfigPath ]]
# Consul token: export CONSUL_HTTP_TOKEN (a token with acl/consul-lb.policy.hcl);
# never write it in this file.

consul {
  address = [[ hclstr .ConsulAddr ]]

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
  source      = [[ hclstr .TemplatePath ]]
  destination = [[ hclstr .NginxConfPath ]]
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
  command         = ["/bin/sh", "-c", [[ hclstr .ReloadScript ]]]
  command_timeout = "30s"

  # Quiescence: render once the catalog has been still for 2s (at most 10s).
  wait {
    min = "2s"
    max = "10s"
  }
}
