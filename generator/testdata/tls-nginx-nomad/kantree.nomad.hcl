job "kantree" {
  type        = "service"
  datacenters = ["dc1"]
  meta {
    generated_by    = "kantree-nomad"
    kantree_version = "8.4.1"
  }
  group "web" {
    count          = 1
    shutdown_delay = "3s"
    spread {
      attribute = "$${node.unique.id}"
      weight    = 50
    }
    restart {
      interval = "5m"
      attempts = 3
      delay    = "10s"
      mode     = "fail"
    }
    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }
    update {
      max_parallel      = 1
      health_check      = "checks"
      min_healthy_time  = "10s"
      healthy_deadline  = "5m"
      progress_deadline = "10m"
      canary            = 1
      auto_revert       = true
      auto_promote      = true
    }
    network {
      port "http" {
      }
    }
    service {
      name        = "kantree-web"
      tags        = ["kantree", "process=web", "job=kantree", "release=8.4.1", "routed"]
      canary_tags = ["kantree", "process=web", "job=kantree", "release=8.4.1", "canary"]
      port        = "http"
      provider    = "consul"
      check {
        name     = "kantree-web-http"
        type     = "http"
        path     = "/health"
        interval = "10s"
        timeout  = "2s"
      }
    }
    task "preflight" {
      driver = "exec"
      lifecycle {
        hook = "prestart"
      }
      config {
        args    = ["preflight", "-timeout", "5m", "-release", "8.4.1"]
        command = "/usr/local/bin/kantree-nomad"
      }
      resources {
        cpu    = 100
        memory = 64
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
    }
    task "web" {
      driver       = "exec"
      kill_timeout = "30s"
      config {
        args    = ["launch", "-root", "$${NOMAD_TASK_DIR}/kantree", "--", "./platform", "run", "web"]
        command = "/usr/local/bin/kantree-nomad"
      }
      env {
        BIND_ADDR           = "$${NOMAD_IP_http}"
        KANTREE_CONFIG      = "$${NOMAD_TASK_DIR}/kantree/config-prod.yml"
        KANTREE_INSTANCE_ID = "$${NOMAD_ALLOC_ID}"
        KANTREE_VERSION     = "8.4.1"
        PORT                = "$${NOMAD_PORT_http}"
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
    }
  }
  group "worker" {
    count = 1
    restart {
      interval = "5m"
      attempts = 3
      delay    = "10s"
      mode     = "fail"
    }
    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }
    update {
      max_parallel      = 1
      health_check      = "task_states"
      min_healthy_time  = "10s"
      healthy_deadline  = "5m"
      progress_deadline = "10m"
      auto_revert       = true
    }
    task "preflight" {
      driver = "exec"
      lifecycle {
        hook = "prestart"
      }
      config {
        args    = ["preflight", "-timeout", "5m", "-release", "8.4.1"]
        command = "/usr/local/bin/kantree-nomad"
      }
      resources {
        cpu    = 100
        memory = 64
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
    }
    task "worker" {
      driver       = "exec"
      kill_timeout = "30s"
      config {
        args    = ["launch", "-root", "$${NOMAD_TASK_DIR}/kantree", "--", "./platform", "run", "worker"]
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
    }
  }
  group "scheduler" {
    count = 1
    restart {
      interval = "5m"
      attempts = 3
      delay    = "10s"
      mode     = "fail"
    }
    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }
    update {
      max_parallel      = 1
      health_check      = "task_states"
      min_healthy_time  = "45s"
      healthy_deadline  = "5m"
      progress_deadline = "10m"
      auto_revert       = true
    }
    task "preflight" {
      driver = "exec"
      lifecycle {
        hook = "prestart"
      }
      config {
        args    = ["preflight", "-timeout", "5m", "-release", "8.4.1"]
        command = "/usr/local/bin/kantree-nomad"
      }
      resources {
        cpu    = 100
        memory = 64
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
    }
    task "scheduler" {
      driver       = "exec"
      kill_timeout = "10s"
      config {
        args    = ["supervise", "-key", "kantree/kantree/scheduler", "-ttl", "10s", "-lock-delay", "8s", "-kill-grace", "2s", "-check-ttl", "2s", "-check-service", "kantree-scheduler-lock", "--", "/usr/local/bin/kantree-nomad", "launch", "-root", "$${NOMAD_TASK_DIR}/kantree", "--", "./platform", "run", "scheduler"]
        command = "/usr/local/bin/kantree-nomad"
      }
      env {
        CONSUL_HTTP_ADDR    = "127.0.0.1:8500"
        KANTREE_CONFIG      = "$${NOMAD_TASK_DIR}/kantree/config-prod.yml"
        KANTREE_INSTANCE_ID = "$${NOMAD_ALLOC_ID}"
        KANTREE_VERSION     = "8.4.1"
      }
      resources {
        cpu    = 200
        memory = 512
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
{{ with index .ItemsMap "consul_token" }}CONSUL_HTTP_TOKEN={{ . }}
{{ end -}}
{{ end -}}
EOT
        change_mode = "noop"
        perms       = "0600"
        env         = true
      }
    }
  }
  group "push" {
    count          = 1
    shutdown_delay = "3s"
    spread {
      attribute = "$${node.unique.id}"
      weight    = 50
    }
    restart {
      interval = "5m"
      attempts = 3
      delay    = "10s"
      mode     = "fail"
    }
    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }
    update {
      max_parallel      = 1
      health_check      = "checks"
      min_healthy_time  = "10s"
      healthy_deadline  = "5m"
      progress_deadline = "10m"
      canary            = 1
      auto_revert       = true
      auto_promote      = true
    }
    network {
      port "http" {
      }
    }
    service {
      name        = "kantree-push"
      tags        = ["kantree", "process=push", "job=kantree", "release=8.4.1", "routed"]
      canary_tags = ["kantree", "process=push", "job=kantree", "release=8.4.1", "canary"]
      port        = "http"
      provider    = "consul"
      check {
        name     = "kantree-push-http"
        type     = "http"
        path     = "/socket.io/?EIO=4&transport=polling"
        interval = "10s"
        timeout  = "2s"
      }
    }
    task "preflight" {
      driver = "exec"
      lifecycle {
        hook = "prestart"
      }
      config {
        args    = ["preflight", "-timeout", "5m", "-release", "8.4.1"]
        command = "/usr/local/bin/kantree-nomad"
      }
      resources {
        cpu    = 100
        memory = 64
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
    }
    task "push" {
      driver       = "exec"
      kill_timeout = "30s"
      config {
        args    = ["launch", "-root", "$${NOMAD_TASK_DIR}/kantree", "--", "./platform", "run", "push"]
        command = "/usr/local/bin/kantree-nomad"
      }
      env {
        BIND_ADDR           = "$${NOMAD_IP_http}"
        KANTREE_CONFIG      = "$${NOMAD_TASK_DIR}/kantree/config-prod.yml"
        KANTREE_INSTANCE_ID = "$${NOMAD_ALLOC_ID}"
        KANTREE_VERSION     = "8.4.1"
        PORT                = "$${NOMAD_PORT_http}"
      }
      resources {
        cpu    = 300
        memory = 512
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
    }
  }
}
