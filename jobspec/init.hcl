# kantree.hcl: one Kantree deployment on Nomad and Consul.
#
# Check it:   kantree-nomad validate kantree.hcl
# Render it:  kantree-nomad render -o deploy kantree.hcl
#
# Every value below that is commented out shows its default. Durations are
# strings such as "500ms", "10s" or "2m". Secrets never go in this file:
# tasks read them at run time from Nomad Variables (or Vault), see "secrets".

# Variables are set with -var name=value, -var-file FILE or the environment
# variable KANTREE_NOMAD_VAR_<name>, and used as var.<name>.
variable "datacenter" {
  description = "Nomad datacenter the job runs in."
  type        = string
  default     = "dc1"
}

job         = "kantree"          # Nomad job name; the migration job is kantree-upgrade-db
datacenters = [var.datacenter]   # default ["*"]
# region    = "global"
# namespace = "default"
# node_pool = "default"
# nomad_version = "1.10"         # the Nomad the jobs are for (1.6 or later); see `nomad version`

kantree {
  version     = "8.4.1"               # releases from 9.0 on name the push process "realtime"
  server_name = "kantree.example.com" # Kantree's SERVER_NAME and nginx's server_name
  # root      = "local/kantree"       # PATH_TO_KANTREE_ROOT inside the task ("/opt/kantree" for docker)

  # The release archive, fetched by Nomad and run by the exec driver.
  archive {
    url = "https://releases.example.com/kantree/kantree-8.4.1.tar.gz"
    # checksum = "sha256:<64 hex digits>"
    # driver   = "exec"   # or "raw_exec"
  }
  # Or a Docker image instead of the archive:
  # docker {
  #   image = "registry.example.com/kantree:8.4.1"
  # }
}

# One block per process; a process without a block runs with its defaults.
process "web" {
  count  = 2
  # cpu          = 500      # MHz
  # memory       = 1024     # MB
  # port         = 5000
  # health_path  = "/health"
  # kill_timeout = "30s"
  # shutdown_delay = "3s"   # derived from the load balancer: its reaction time + 1s
  # env          = { TZ = "UTC" }
}

process "worker" {
  count = 2
}

# The scheduler runs once in the whole cluster, under a Consul lock: its
# count is 1 + scheduler_lock.standbys.
process "scheduler" {
  # kill_timeout = "10s"    # must exceed scheduler_lock.kill_grace + 1s
}

process "push" {
  count = 1                 # port 4000; sticky at the load balancer
}

# Extra workers for named queues run ./platform run worker --queue <queue>.
# worker_group "low" {
#   queues = ["low"]
#   count  = 1
# }

secrets {
  provider = "nomad"        # or "vault"
  # path   = "nomad/jobs/kantree"
  # Keys read there: database_url, redis_url, license, secret_key.
}

config {
  # Extra keys for config-prod.yml (not secrets).
  settings = {
    # queue_compute_formulas = "low"
  }
  # license_file = "license.txt"
}

scheduler_lock {
  # key        = "kantree/kantree/scheduler"
  # ttl        = "10s"   # Consul session TTL
  # lock_delay = "8s"    # at least kill_grace + 2s
  # kill_grace = "2s"    # SIGTERM to SIGKILL
  # check_ttl  = "2s"
  standbys = 0           # hot standby schedulers, each on another node than the
                         # holder (process "scheduler" { distinct_hosts = false } allows one node)
}

load_balancer {
  kind     = "nginx"     # or "traefik", "fabio"
  sticky   = "cookie"    # or "ip"
  canaries = "hold"      # canaries get traffic once promoted; "route": as soon as healthy
  # listen = 80
  # Where nginx lives on the load-balancer hosts (Debian/Ubuntu defaults):
  # nginx {
  #   site           = "/etc/nginx/conf.d/kantree.conf"
  #   reload_command = ["nginx", "-s", "reload"]
  #   wait_max       = "1s"   # web/push shutdown_delay is derived from this
  # }
  # Or run nginx as a Nomad system job on nodes of class "lb":
  # system_job { node_class = "lb" }
}

# How the scheduler's supervisor reaches the node's Consul agent.
# consul {
#   address = "127.0.0.1:8500"   # or "unix:///run/consul/http.sock"; docker: the node's address
#   # tls = true, ca_file = "/etc/consul.d/tls/ca.pem"
# }

# Where tasks get kantree-nomad itself.
# kantree_nomad {
#   path = "/usr/local/bin/kantree-nomad"
#   # or: url = "https://..." and checksum = "sha256:..."
# }
