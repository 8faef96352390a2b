[[- /* consul-template configuration for the load-balancer hosts. Data: lbView. */ -]]
# consul-template configuration for the load-balancer hosts of Kantree,
# Nomad job [[ .Job ]]. Put it and nginx.conf.ctmpl in [[ .ConfigDir ]], then
# install lb/[[ .UnitName ]] (beside this file) or run:
#   consul-template -config [[ .ConfigPath ]]
# Consul token: CONSUL_HTTP_TOKEN in [[ .TokenEnvPath ]] (a token with
# acl/consul-lb.policy.hcl, only where Consul ACLs are on); never in this file.

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
  source = [[ hclstr .TemplatePath ]]
  # consul-template writes a staged copy; the command below installs it as
  # [[ .NginxConfPath ]] only for as long as nginx accepts it.
  destination = [[ hclstr .StagedPath ]]
  perms       = 0644

  # A render error is logged and the previous file kept; consul-template stays up.
  error_fatal = false

  # Install the new site (keeping the previous one), test nginx's whole
  # configuration, then reload. A failing test puts the previous site back
  # (or removes the new one when there was none), so nginx keeps running
  # on, and restarts with, a good configuration. The command always exits
  # 0: a failed command would make consul-template exit.
  command         = ["/bin/sh", "-c", [[ hclstr .ReloadScript ]]]
  command_timeout = "30s"

  # Quiescence: render once the catalog has been still for [[ .WaitMin ]], at most
  # [[ .WaitMax ]] after a change. kantree.hcl derives web's and push's shutdown_delay
  # from wait_max + reload_time ([[ .Reaction ]]): raise one, the other follows.
  wait {
    min = [[ hclstr .WaitMin ]]
    max = [[ hclstr .WaitMax ]]
  }
}
