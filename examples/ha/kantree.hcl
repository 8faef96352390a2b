# A highly available Kantree 9 deployment over three datacenters: a hot
# standby scheduler behind the Consul lock, dedicated workers for the slow
# queues, secrets from Vault.
#
#   kantree-nomad render -o deploy examples/ha/kantree.hcl

variable "datacenters" {
  description = "The three datacenters to spread over."
  type        = list(string)
  default     = ["dc1", "dc2", "dc3"]
}

job         = "kantree"
region      = "europe"
datacenters = var.datacenters
namespace   = "kantree"
node_pool   = "apps"

kantree {
  version     = "9.2.0"   # 9.0 and later: the push process is "realtime"
  server_name = "kantree.example.com"

  archive {
    url      = "https://releases.example.com/kantree/kantree-9.2.0.tar.gz"
    checksum = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
  }
}

process "web" {
  count          = 3
  cpu            = 1000
  memory         = 2048
  shutdown_delay = "10s"

  spread {
    attribute = "$${node.datacenter}"
    target "dc1" { percent = 34 }
    target "dc2" { percent = 33 }
    target "dc3" { percent = 33 }
  }
}

process "worker" {
  count = 3

  spread {
    attribute = "$${node.datacenter}"
  }
}

process "scheduler" {
  kill_timeout = "15s"
  node_class   = "apps"

  constraint {
    attribute = "$${node.class}"
    operator  = "="
    value     = "apps"
  }
}

process "realtime" {
  count          = 3
  distinct_hosts = true

  spread {
    attribute = "$${node.datacenter}"
  }
}

worker_group "low" {
  queues = ["low"]
  count  = 2
}

worker_group "automations" {
  queues = ["automations"]
  count  = 1
}

secrets {
  provider   = "vault"
  path       = "secret/data/kantree/prod"
  vault_role = "kantree"
}

config {
  settings = {
    queue_automations      = "automations"
    queue_related_cards    = "low"
    queue_compute_formulas = "low"
    queue_refresh_charts   = "low"
  }
  license_file = "license.txt"
}

scheduler_lock {
  key        = "kantree/prod/scheduler"
  ttl        = "15s"
  lock_delay = "10s"
  kill_grace = "5s"
  check_ttl  = "5s"
  standbys   = 1
}

load_balancer {
  kind   = "nginx"
  sticky = "cookie"
  listen = 80

  # nginx itself runs as a Nomad system job on the nodes of class "lb"
  # (kantree-lb.nomad.hcl), its site rendered by a template block.
  system_job {
    node_class = "lb"
  }
}
