package generator

import (
	"strings"
	"time"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// Deployments built in Go, as jobspec would give them, for tests that must
// not depend on the parser: the three shapes of examples/.
func testDeployments() map[string]*jobspec.Deployment {
	return map[string]*jobspec.Deployment{
		"go-basic":  goBasic(),
		"go-docker": goDocker(),
		"go-ha":     goHA(),
	}
}

// proc is a resolved process group of job.
func proc(job, name, kind string, count int, cmd ...string) *jobspec.Process {
	p := &jobspec.Process{Name: name, Kind: kind, Count: count, CPU: 500, Memory: 512, Command: cmd, KillTimeout: 30 * time.Second,
		MinHealthyTime: 10 * time.Second, HealthyDeadline: 5 * time.Minute, ProgressDeadline: 10 * time.Minute}
	switch kind {
	case "web":
		p.Port, p.HealthPath, p.ShutdownDelay = 5000, "/health", 5*time.Second
	case "push":
		p.Port, p.HealthPath, p.ShutdownDelay = 4000, "/health", 5*time.Second
	case "scheduler":
		p.KillTimeout, p.MinHealthyTime = 10*time.Second, 45*time.Second
	}
	if p.Port > 0 {
		p.CheckInterval, p.CheckTimeout = 10*time.Second, 2*time.Second
		p.Service = job + "-" + name
	}
	return p
}

// lb is a resolved load_balancer of job, with a Debian nginx host, the
// kind's reaction time and the shutdown delay it derives.
func lb(job, kind, sticky string) jobspec.LoadBalancer {
	prefix := strings.ReplaceAll(job, "-", "_")
	reaction := map[string]time.Duration{"nginx": 2 * time.Second, "traefik": 15 * time.Second, "fabio": 2 * time.Second}[kind]
	return jobspec.LoadBalancer{Kind: kind, Sticky: sticky, Listen: 80, Entrypoint: "web", Canaries: "hold",
		Nginx: jobspec.NginxHost{Site: "/etc/nginx/conf.d/" + job + ".conf", ConfigDir: "/etc/consul-template.d/" + job,
			TestCommand: []string{"nginx", "-t", "-q"}, ReloadCommand: []string{"nginx", "-s", "reload"},
			ConsulTemplate: "/usr/bin/consul-template", ConsulAddress: "127.0.0.1:8500",
			WaitMin: 200 * time.Millisecond, WaitMax: time.Second, ReloadTime: time.Second},
		Reaction: reaction, MinShutdownDelay: reaction + time.Second, PushCanary: kind != "fabio", RoutedTag: "routed",
		PushPath: "/socket.io/", VarPrefix: prefix, CookieName: prefix + "_push"}
}

func goBasic() *jobspec.Deployment {
	return &jobspec.Deployment{
		Job:         "kantree",
		UpgradeJob:  "kantree-upgrade-db",
		Datacenters: []string{"dc1"},
		Nomad:       jobspec.NomadTarget{Version: "1.6"},
		Layout: jobspec.Layout{Root: "local/kantree", RootInTask: "${NOMAD_TASK_DIR}/kantree", FilesDir: "local/kantree",
			ConfigPath: "${NOMAD_TASK_DIR}/kantree/config-prod.yml", Binary: "local/bin/kantree-nomad"},
		Consul: jobspec.ConsulAccess{Address: "127.0.0.1:8500"},
		Kantree: jobspec.Kantree{
			Version: "8.4.1", ServerName: "kantree.example.com", Root: "local/kantree",
			Archive: &jobspec.Archive{URL: "https://downloads.example.com/kantree-8.4.1.tar.gz", Checksum: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Driver: "exec"},
		},
		Secrets: jobspec.Secrets{Provider: "nomad", Path: "nomad/jobs/kantree", DatabaseURLKey: "database_url", RedisURLKey: "redis_url", LicenseKey: "license", SecretKeyKey: "secret_key", ConsulTokenKey: "consul_token"},
		Config:  jobspec.Config{LicenseFile: "license.txt", Settings: map[string]string{"default_language": "en", "max_upload_mb": "100", "signup_enabled": "false"}},
		Lock:    jobspec.SchedulerLock{Key: "kantree/kantree/scheduler", Service: "kantree-scheduler-lock", TTL: 10 * time.Second, LockDelay: 5 * time.Second, KillGrace: 2 * time.Second, CheckTTL: 3 * time.Second},
		LB:      lb("kantree", "nginx", "cookie"),
		Processes: []*jobspec.Process{
			proc("kantree", "web", "web", 2, "./platform", "run", "web"),
			proc("kantree", "worker", "worker", 2, "./platform", "run", "worker"),
			proc("kantree", "scheduler", "scheduler", 1, "./platform", "run", "scheduler"),
			proc("kantree", "push", "push", 1, "./platform", "run", "push"),
		},
		Binary: jobspec.Binary{URL: "https://downloads.example.com/kantree-nomad_linux_amd64.tar.gz", Checksum: "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"},
	}
}

func goDocker() *jobspec.Deployment {
	d := goBasic()
	d.Job, d.UpgradeJob = "kantree-docker", "kantree-docker-upgrade-db"
	d.Nomad.Version = "1.10"
	d.Region, d.Namespace, d.NodePool = "europe", "apps", "kantree"
	d.Kantree.Version = "9.1.0"
	d.Kantree.Archive = nil
	d.Kantree.Docker = &jobspec.Docker{Image: "registry.example.com/kantree:9.1.0"}
	d.Kantree.Root = "/opt/kantree"
	d.Layout = jobspec.Layout{Root: "/opt/kantree", RootInTask: "/opt/kantree", FilesDir: "local", ConfigPath: "/opt/kantree/config-prod.yml", Binary: "/usr/local/bin/kantree-nomad"}
	d.Consul.Address = "${attr.unique.network.ip-address}:8500"
	d.Secrets.Path = "nomad/jobs/kantree-docker"
	d.Lock.Key, d.Lock.Service = "kantree/kantree-docker/scheduler", "kantree-docker-scheduler-lock"
	d.LB = lb("kantree-docker", "traefik", "cookie")
	d.LB.Entrypoint = "websecure"
	d.Binary = jobspec.Binary{Path: "/usr/local/bin/kantree-nomad"}
	d.Processes = []*jobspec.Process{
		proc("kantree-docker", "web", "web", 2, "./platform", "run", "web"),
		proc("kantree-docker", "worker", "worker", 2, "./platform", "run", "worker"),
		proc("kantree-docker", "scheduler", "scheduler", 1, "./platform", "run", "scheduler"),
		proc("kantree-docker", "realtime", "push", 2, "./platform", "run", "realtime"),
	}
	d.Processes[0].Env = map[string]string{"KANTREE_LOG_LEVEL": "info"}
	for _, p := range d.Processes {
		if p.Port > 0 {
			p.ShutdownDelay = d.LB.MinShutdownDelay // Traefik's 15s reaction + 1s
		}
	}
	return d
}

func goHA() *jobspec.Deployment {
	d := goBasic()
	d.Job, d.UpgradeJob = "kantree-ha", "kantree-ha-upgrade-db"
	d.Nomad.Version = "1.8"
	d.Datacenters = []string{"dc1", "dc2", "dc3"}
	d.Secrets = jobspec.Secrets{Provider: "vault", Path: "secret/data/kantree", VaultRole: "kantree", DatabaseURLKey: "database_url", RedisURLKey: "redis_url", LicenseKey: "license", SecretKeyKey: "secret_key", ConsulTokenKey: "consul_token"}
	d.Lock.Key, d.Lock.Service, d.Lock.Standbys = "kantree/kantree-ha/scheduler", "kantree-ha-scheduler-lock", 1
	d.Kantree.Archive.Driver = "raw_exec"
	d.LB = lb("kantree-ha", "nginx", "ip")
	d.Consul = jobspec.ConsulAccess{Address: "127.0.0.1:8501", TLS: true, CAFile: "/etc/consul.d/tls/ca.pem", TLSServerName: "localhost"}
	d.Binary = jobspec.Binary{URL: "https://downloads.example.com/kantree-nomad", Checksum: "sha256:00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff"}
	d.Processes = []*jobspec.Process{
		proc("kantree-ha", "web", "web", 2, "./platform", "run", "web"),
		proc("kantree-ha", "worker", "worker", 2, "./platform", "run", "worker"),
		proc("kantree-ha", "scheduler", "scheduler", 2, "./platform", "run", "scheduler"),
		proc("kantree-ha", "push", "push", 1, "./platform", "run", "push"),
	}
	spread := []jobspec.Spread{{Attribute: "${node.datacenter}", Weight: 100, Targets: map[string]int{"dc1": 34, "dc2": 33, "dc3": 33}}}
	for _, p := range d.Processes {
		p.Spreads = spread
		p.DistinctHosts = p.Kind == "web"
	}
	d.Processes[0].NodeClass = "app"
	d.Processes[0].Constraints = []jobspec.Constraint{{Attribute: "${attr.kernel.name}", Operator: "=", Value: "linux"}}
	mail := proc("kantree-ha", "worker-mail", "worker", 1, "./platform", "run", "worker", "--queue", "mail", "--queue", "notifications")
	mail.Queues = []string{"mail", "notifications"}
	d.Processes = append(d.Processes, mail)
	return d
}
