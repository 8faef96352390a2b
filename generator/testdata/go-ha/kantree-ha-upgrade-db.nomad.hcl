job "kantree-ha-upgrade-db" {
  type        = "batch"
  datacenters = ["dc1", "dc2", "dc3"]
  meta {
    generated_by    = "kantree-nomad"
    kantree_version = "8.4.1"
  }
  group "upgrade-db" {
    count = 1
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
      driver       = "raw_exec"
      kill_timeout = "30s"
      config {
        args    = ["migrate", "-release", "8.4.1", "--", "local/bin/kantree-nomad", "launch", "-root", "$${NOMAD_TASK_DIR}/kantree", "--", "./platform", "upgrade_db"]
        command = "local/bin/kantree-nomad"
      }
      env {
        KANTREE_CONFIG      = "$${NOMAD_TASK_DIR}/kantree/config-prod.yml"
        KANTREE_INSTANCE_ID = "$${NOMAD_ALLOC_ID}"
        KANTREE_VERSION     = "8.4.1"
      }
      resources {
        cpu    = 500
        memory = 512
      }
      artifact {
        source      = "https://downloads.example.com/kantree-8.4.1.tar.gz"
        destination = "local/kantree"
        options {
          checksum = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        }
      }
      artifact {
        source      = "https://downloads.example.com/kantree-nomad"
        mode        = "file"
        destination = "local/bin/kantree-nomad"
        options {
          checksum = "sha256:00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff"
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
# config-prod.yml for Kantree 8.4.1, job kantree-ha: rendered by Nomad.
# Secret values come from vault (secret/data/kantree) when the task starts.
server_name: "kantree.example.com"
web_port: 5000
push_port: 4000
default_language: "en"
max_upload_mb: 100
signup_enabled: false
{{ with secret "secret/data/kantree" -}}
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
        data        = "{{ with secret \"secret/data/kantree\" }}{{ index .Data.data \"license\" }}{{ end }}\n"
        change_mode = "noop"
        perms       = "0640"
      }
      template {
        destination = "secrets/kantree.env"
        data        = <<EOT
{{ with secret "secret/data/kantree" -}}
DATABASE_URL={{ index .Data.data "database_url" }}
REDIS_URL={{ index .Data.data "redis_url" }}
{{ end -}}
EOT
        change_mode = "noop"
        perms       = "0600"
        env         = true
      }
    }
  }
}
