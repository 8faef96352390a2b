job "kantree-docker-upgrade-db" {
  region      = "europe"
  namespace   = "apps"
  type        = "batch"
  datacenters = ["dc1"]
  node_pool   = "kantree"
  meta {
    generated_by    = "kantree-nomad"
    kantree_version = "9.1.0"
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
      driver       = "docker"
      kill_timeout = "30s"
      config {
        args    = ["migrate", "-release", "9.1.0", "--", "/usr/local/bin/kantree-nomad", "launch", "-root", "/opt/kantree", "--", "./platform", "upgrade_db"]
        command = "/usr/local/bin/kantree-nomad"
        image   = "registry.example.com/kantree:9.1.0"
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
        KANTREE_VERSION     = "9.1.0"
      }
      resources {
        cpu    = 500
        memory = 512
      }
      template {
        destination = "local/config-prod.yml"
        data        = <<EOT
# config-prod.yml for Kantree 9.1.0, job kantree-docker: rendered by Nomad.
# Secret values come from nomad (nomad/jobs/kantree-docker) when the task starts.
server_name: "kantree.example.com"
web_port: 5000
push_port: 4000
default_language: "en"
max_upload_mb: 100
signup_enabled: false
{{ with nomadVar "nomad/jobs/kantree-docker" -}}
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
        data        = "{{ with nomadVar \"nomad/jobs/kantree-docker\" }}{{ index . \"license\" }}{{ end }}\n"
        change_mode = "noop"
        perms       = "0640"
      }
      template {
        destination = "secrets/kantree.env"
        data        = <<EOT
{{ with nomadVar "nomad/jobs/kantree-docker" -}}
DATABASE_URL={{ index . "database_url" }}
REDIS_URL={{ index . "redis_url" }}
{{ end -}}
EOT
        change_mode = "noop"
        perms       = "0600"
        env         = true
      }
    }
  }
}
