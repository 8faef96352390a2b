# A small Kantree deployment: the release archive run by Nomad's exec
# driver, nginx in front (rendered by consul-template), secrets in Nomad
# Variables at nomad/jobs/kantree.
#
# Render it with:
#   kantree-nomad render -o deploy examples/basic/kantree.hcl

variable "datacenter" {
  description = "Nomad datacenter the job runs in."
  type        = string
  default     = "dc1"
}

job         = "kantree"
datacenters = [var.datacenter]

kantree {
  version     = "8.4.1"
  server_name = "kantree.example.com"

  archive {
    url      = "https://releases.example.com/kantree/kantree-8.4.1.tar.gz"
    checksum = "sha256:4d7b2a0e1c9f8e3a6b5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"
  }
}

process "web" {
  count  = 2
  cpu    = 1000
  memory = 2048
}

process "worker" {
  count = 2
}

process "scheduler" {
  cpu    = 200
  memory = 512
}

process "push" {
  count = 1
}

load_balancer {
  kind   = "nginx"
  sticky = "cookie"
  listen = 80
}
