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
      driver       = "exec"
      kill_timeout = "30s"
      config {
        args    = ["migrate", "-release", "8.4.1", "-backup-dir", "/kantree-backups", "-backup-keep", "5", "-backup-timeout", "1h0m0s", "--", "/usr/local/bin/kantree-nomad", "launch", "-root", "$${NOMAD_TASK_DIR}/kantree", "--", "./platform", "upgrade_db"]
        command = "/usr/local/bin/kantree-nomad"
      }
      env {
        KANTREE_CONFIG      = "$${NOMAD_TASK_DIR}/kantree/config-prod.yml"
        KANTREE_INSTANCE_ID = "$${NOMAD_ALLOC_ID}"
        KANTREE_VERSION     = "8.4.1"
      }
      resources {
        cpu    = 500
        memory = 1024
      }
      artifact {
        source      = "https://example.com/kantree-8.4.1.tar.gz"
        destination = "local/kantree"
      }
      template {
        destination = "local/kantree/config-prod.yml"
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
        destination = "local/kantree/license.txt"
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
