job "kantree-upgrade-db" {
  region      = "europe"
  namespace   = "kantree"
  type        = "batch"
  datacenters = ["dc1", "dc2", "dc3"]
  node_pool   = "apps"
  meta {
    generated_by    = "kantree-nomad"
    kantree_version = "9.2.0"
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
      driver       = "exec"
      kill_timeout = "30s"
      config {
        args    = ["migrate", "-release", "9.2.0", "-backup-dir", "/kantree-backups", "-backup-keep", "5", "-backup-timeout", "1h0m0s", "--", "/usr/local/bin/kantree-nomad", "launch", "-root", "$${NOMAD_TASK_DIR}/kantree", "--", "./platform", "upgrade_db"]
        command = "/usr/local/bin/kantree-nomad"
      }
      env {
        KANTREE_CONFIG      = "$${NOMAD_TASK_DIR}/kantree/config-prod.yml"
        KANTREE_INSTANCE_ID = "$${NOMAD_ALLOC_ID}"
        KANTREE_VERSION     = "9.2.0"
      }
      resources {
        cpu    = 1000
        memory = 2048
      }
      artifact {
        source      = "https://releases.example.com/kantree/kantree-9.2.0.tar.gz"
        destination = "local/kantree"
        options {
          checksum = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
        }
      }
      vault {
        role        = "kantree"
        env         = false
        change_mode = "restart"
      }
      template {
        destination = "local/kantree/config-prod.yml"
        data        = <<EOT
# config-prod.yml for Kantree 9.2.0, job kantree: rendered by Nomad.
# Secret values come from vault (secret/data/kantree/prod) when the task starts.
server_name: "kantree.example.com"
web_port: 5000
push_port: 4000
queue_automations: "automations"
queue_compute_formulas: "low"
queue_refresh_charts: "low"
queue_related_cards: "low"
{{ with secret "secret/data/kantree/prod" -}}
database_url: {{ index .Data.data "database_url" | toJSON }}
redis_url: {{ index .Data.data "redis_url" | toJSON }}
secret_key: {{ index .Data.data "secret_key" | toJSON }}
{{ end -}}
EOT
        change_mode = "noop"
        perms       = "0640"
      }
      template {
        destination = "local/kantree/license.txt"
        data        = "{{ with secret \"secret/data/kantree/prod\" }}{{ index .Data.data \"license\" }}{{ end }}\n"
        change_mode = "noop"
        perms       = "0640"
      }
      template {
        destination = "secrets/kantree.env"
        data        = <<EOT
{{ with secret "secret/data/kantree/prod" -}}
DATABASE_URL={{ index .Data.data "database_url" }}
REDIS_URL={{ index .Data.data "redis_url" }}
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
