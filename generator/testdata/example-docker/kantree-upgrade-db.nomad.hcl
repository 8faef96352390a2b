job "kantree-upgrade-db" {
  type        = "batch"
  datacenters = ["dc1"]
  meta {
    generated_by    = "kantree-nomad"
    kantree_version = "8.4.1"
  }
  group "upgrade-db" {
    count = 1
    volume "backups" {
      type   = "host"
      source = "kantree-backups"
    }
    restart {
      attempts = 0
      mode     = "fail"
    }
    reschedule {
      attempts       = 2
      interval       = "1h"
      delay          = "30s"
      delay_function = "constant"
      unlimited      = false
    }
    task "upgrade-db" {
      driver       = "docker"
      kill_timeout = "30s"
      config {
        args    = ["migrate", "-release", "8.4.1", "-backup-dir", "/kantree-backups", "-backup-keep", "5", "-backup-timeout", "1h0m0s", "--", "/local/bin/kantree-nomad", "launch", "-root", "/opt/kantree", "--", "./platform", "upgrade_db"]
        command = "/local/bin/kantree-nomad"
        image   = "registry.example.com/kantree:8.4.1"
        mount {
          readonly = true
          source   = "local/config-prod.yml"
          target   = "/opt/kantree/config-prod.yml"
          type     = "bind"
        }
        mount {
          readonly = true
          source   = "local/license.txt"
          target   = "/opt/kantree/license.txt"
          type     = "bind"
        }
      }
      env {
        KANTREE_CONFIG      = "/opt/kantree/config-prod.yml"
        KANTREE_INSTANCE_ID = "$${NOMAD_ALLOC_ID}"
        KANTREE_VERSION     = "8.4.1"
      }
      resources {
        cpu    = 500
        memory = 1536
      }
      artifact {
        source      = "https://releases.example.com/kantree-nomad/kantree-nomad_linux_amd64"
        mode        = "file"
        destination = "local/bin/kantree-nomad"
        options {
          checksum = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        }
      }
      template {
        destination = "local/config-prod.yml"
        data        = <<EOT
# config-prod.yml for Kantree 8.4.1, job kantree: rendered by Nomad.
# Secret values come from nomad (nomad/jobs/kantree) when the task starts.
server_name: "kantree.example.com"
web_port: 5000
push_port: 4000
{{ with nomadVar "nomad/jobs/kantree" -}}
database_url: {{ index . "database_url" | toJSON }}
redis_url: {{ index . "redis_url" | toJSON }}
secret_key: {{ index . "secret_key" | toJSON }}
{{ end -}}
EOT
        change_mode = "noop"
        perms       = "0640"
      }
      template {
        destination = "local/license.txt"
        data        = "{{ with nomadVar \"nomad/jobs/kantree\" }}{{ index . \"license\" }}{{ end }}\n"
        change_mode = "noop"
        perms       = "0640"
      }
      template {
        destination = "secrets/kantree.env"
        data        = <<EOT
{{ with nomadVar "nomad/jobs/kantree" -}}
DATABASE_URL={{ index . "database_url" }}
REDIS_URL={{ index . "redis_url" }}
{{ end -}}
EOT
        change_mode = "noop"
        perms       = "0600"
        env         = true
      }
      volume_mount {
        volume      = "backups"
        destination = "/kantree-backups"
      }
    }
  }
}
