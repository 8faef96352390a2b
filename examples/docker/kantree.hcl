# Kantree from a Docker image, with Traefik in front: Traefik reads the
# routing (and cookie stickiness for push) from the Consul service tags.
#
#   kantree-nomad render -o deploy examples/docker/kantree.hcl

variable "image" {
  description = "Kantree image, pinned to a release."
  type        = string
  default     = "registry.example.com/kantree:8.4.1"
}

job         = "kantree"
datacenters = ["dc1"]

kantree {
  version     = "8.4.1"
  server_name = "kantree.example.com"
  root        = "/opt/kantree"

  docker {
    image = var.image
  }
}

process "web" {
  count  = 2
  memory = 1536
}

process "worker" {
  count = 2
}

process "push" {
  count = 2   # Traefik keeps each client on one instance with a cookie
}

load_balancer {
  kind       = "traefik"
  sticky     = "cookie"
  entrypoint = "websecure"
}

kantree_nomad {
  url      = "https://releases.example.com/kantree-nomad/kantree-nomad_linux_amd64"
  checksum = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
}
