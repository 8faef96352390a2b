package generator

import (
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

func proc(name, kind string, count int, cmd ...string) *jobspec.Process {
	p := &jobspec.Process{Name: name, Kind: kind, Count: count, CPU: 500, Memory: 512, Command: cmd, KillTimeout: 30 * time.Second}
	switch kind {
	case "web":
		p.Port, p.HealthPath, p.ShutdownDelay = 5000, "/health", 5*time.Second
	case "push":
		p.Port, p.HealthPath, p.ShutdownDelay = 4000, "/health", 5*time.Second
	case "scheduler":
		p.KillTimeout = 10 * time.Second
	}
	if p.Port > 0 {
		p.CheckInterval, p.CheckTimeout = 10*time.Second, 2*time.Second
	}
	return p
}

func goBasic() *jobspec.Deployment {
	return &jobspec.Deployment{
		Job:         "kantree",
		Datacenters: []string{"dc1"},
		Kantree: jobspec.Kantree{
			Version: "8.4.1", ServerName: "kantree.example.com", Root: "local/kantree",
			Archive: &jobspec.Archive{URL: "https://downloads.example.com/kantree-8.4.1.tar.gz", Checksum: "sha256:0123456789abcdef", Driver: "exec"},
		},
		Secrets: jobspec.Secrets{Provider: "nomad", Path: "nomad/jobs/kantree", DatabaseURLKey: "database_url", RedisURLKey: "redis_url", LicenseKey: "license", SecretKeyKey: "secret_key"},
		Config:  jobspec.Config{LicenseFile: "license.txt", Settings: map[string]string{"default_language": "en", "max_upload_mb": "100", "signup_enabled": "false"}},
		Lock:    jobspec.SchedulerLock{Key: "kantree/kantree/scheduler", TTL: 10 * time.Second, LockDelay: 5 * time.Second, KillGrace: 2 * time.Second, CheckTTL: 3 * time.Second},
		LB:      jobspec.LoadBalancer{Kind: "nginx", Sticky: "cookie", Listen: 80},
		Processes: []*jobspec.Process{
			proc("web", "web", 2, "./platform", "run", "web"),
			proc("worker", "worker", 2, "./platform", "run", "worker"),
			proc("scheduler", "scheduler", 1, "./platform", "run", "scheduler"),
			proc("push", "push", 1, "./platform", "run", "push"),
		},
		Binary: jobspec.Binary{URL: "https://downloads.example.com/kantree-nomad_linux_amd64.tar.gz", Checksum: "sha256:fedcba9876543210"},
	}
}

func goDocker() *jobspec.Deployment {
	d := goBasic()
	d.Job = "kantree-docker"
	d.Region, d.Namespace, d.NodePool = "europe", "apps", "kantree"
	d.Kantree.Version = "9.1.0"
	d.Kantree.Archive = nil
	d.Kantree.Docker = &jobspec.Docker{Image: "registry.example.com/kantree:9.1.0"}
	d.Kantree.Root = "/opt/kantree"
	d.Secrets.Path = "nomad/jobs/kantree-docker"
	d.Lock.Key = "kantree/kantree-docker/scheduler"
	d.LB = jobspec.LoadBalancer{Kind: "traefik", Sticky: "cookie", Entrypoint: "websecure"}
	d.Binary = jobspec.Binary{Path: "/usr/local/bin/kantree-nomad"}
	d.Processes[3] = proc("realtime", "push", 2, "./platform", "run", "realtime")
	d.Processes[0].Env = map[string]string{"KANTREE_LOG_LEVEL": "info"}
	return d
}

func goHA() *jobspec.Deployment {
	d := goBasic()
	d.Job = "kantree-ha"
	d.Datacenters = []string{"dc1", "dc2", "dc3"}
	d.Secrets = jobspec.Secrets{Provider: "vault", Path: "secret/data/kantree", VaultRole: "kantree", DatabaseURLKey: "database_url", RedisURLKey: "redis_url", LicenseKey: "license", SecretKeyKey: "secret_key"}
	d.Lock.Key, d.Lock.Standbys = "kantree/kantree-ha/scheduler", 1
	d.Kantree.Archive.Driver = "raw_exec"
	d.LB.Sticky = "ip"
	d.Binary = jobspec.Binary{URL: "https://downloads.example.com/kantree-nomad", Checksum: "sha256:00ff"}
	spread := []jobspec.Spread{{Attribute: "${node.datacenter}", Weight: 100, Targets: map[string]int{"dc1": 34, "dc2": 33, "dc3": 33}}}
	for _, p := range d.Processes {
		p.Spreads = spread
		p.DistinctHosts = p.Kind == "web"
	}
	d.Processes[0].NodeClass = "app"
	d.Processes[0].Constraints = []jobspec.Constraint{{Attribute: "${attr.kernel.name}", Operator: "=", Value: "linux"}}
	mail := proc("worker-mail", "worker", 1, "./platform", "run", "worker", "--queue", "mail", "--queue", "notifications")
	mail.Queues = []string{"mail", "notifications"}
	d.Processes = append(d.Processes, mail)
	return d
}
