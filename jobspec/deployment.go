package jobspec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Deployment is the typed, validated description of one Kantree deployment,
// as read from a kantree.hcl file with its variables applied and its
// defaults filled in. The generator turns it into Nomad jobs and files; it
// never has to check it again.
//
// Every value that a later check may need to point at keeps its source
// range in a field named *Range or DefRange.
type Deployment struct {
	// Job is the Nomad job name of the service job (default "kantree").
	// The upgrade-db batch job is named Job + "-upgrade-db".
	Job         string
	Region      string   // Nomad region; "" leaves Nomad's default
	Datacenters []string // default ["*"]
	Namespace   string   // "" leaves Nomad's default
	NodePool    string   // "" leaves Nomad's default

	Kantree   Kantree
	Secrets   Secrets
	Config    Config
	Lock      SchedulerLock
	LB        LoadBalancer
	Processes []*Process // web, worker, scheduler, push/realtime, then extra worker groups, in that order

	// Binary is how tasks obtain the kantree-nomad binary that runs
	// preflight, supervise and migrate.
	Binary Binary

	DefRange hcl.Range // the whole file, for diagnostics about the file as a whole

	// Ranges holds the source range of the value of every attribute the
	// file sets, by path: "job", "kantree.version", "kantree.archive.url",
	// "process.web.cpu", "worker_group.low.queues",
	// "process.web.spread.0.target.dc1.percent", "scheduler_lock.ttl"...
	// Defaulted values have no entry.
	Ranges map[string]hcl.Range
}

// Kantree says which Kantree release runs and how it reaches the nodes.
type Kantree struct {
	Version      string // e.g. "8.4.1"; selects push vs realtime naming
	VersionRange hcl.Range
	// Realtime is true when the release calls the push process "realtime"
	// (releases from RealtimeSince on, unless the file overrides it); the
	// push Process is then named "realtime" and runs ./platform run realtime.
	Realtime   bool
	ServerName string // SERVER_NAME
	// Root is PATH_TO_KANTREE_ROOT inside the task: the directory that holds
	// ./platform, config-prod.yml and the license file.
	Root string

	// Exactly one of Archive and Docker is set.
	Archive *Archive
	Docker  *Docker
}

// Archive delivers Kantree as a tarball fetched by Nomad's artifact block
// and run by the exec (or raw_exec) driver.
type Archive struct {
	URL      string
	Checksum string // "sha256:..."; optional but recommended
	Driver   string // "exec" (default) or "raw_exec"
	Range    hcl.Range
}

// Docker delivers Kantree as an image run by the docker driver.
type Docker struct {
	Image string
	Range hcl.Range
}

// Binary says where tasks find kantree-nomad itself.
type Binary struct {
	// URL is fetched with an artifact block into local/ when set; otherwise
	// Path must name the binary on the node (default /usr/local/bin/kantree-nomad).
	URL      string
	Checksum string
	Path     string
}

// Secrets says where secret values come from. No secret value is ever
// part of a Deployment: only the place to read it from at run time.
type Secrets struct {
	Provider string // "nomad" (Nomad Variables, default) or "vault"
	// Path is the Nomad Variable path (default "nomad/jobs/<job>") or the
	// Vault KV v2 path (e.g. "secret/data/kantree").
	Path           string
	VaultRole      string // Vault: the Nomad vault block's role (optional)
	DatabaseURLKey string // key holding the PostgreSQL URL (default "database_url")
	RedisURLKey    string // key holding the Redis URL (default "redis_url")
	LicenseKey     string // key holding the license text (default "license")
	SecretKeyKey   string // key holding Kantree's secret_key (default "secret_key")
	Range          hcl.Range
}

// Config is the non-secret part of config-prod.yml, the same on all nodes.
type Config struct {
	// Settings are extra top-level keys written into config-prod.yml, in
	// sorted key order, as strings, numbers or booleans.
	Settings map[string]string
	// LicenseFile is the license's file name under Root (default "license.txt").
	LicenseFile string
}

// SchedulerLock describes the Consul session lock that keeps the scheduler single.
type SchedulerLock struct {
	Key                                      string        // Consul KV key (default "kantree/<job>/scheduler")
	TTL                                      time.Duration // Consul session TTL (default 10s; Consul allows 10s..24h)
	LockDelay                                time.Duration // Consul session lock-delay (default 5s; at most 60s)
	KillGrace                                time.Duration // SIGTERM-to-SIGKILL grace for the scheduler (default 2s)
	CheckTTL                                 time.Duration // TTL of the health check the session is bound to (default 3s)
	Standbys                                 int           // hot standbys besides the holder (default 0); group count = 1 + Standbys
	Range                                    hcl.Range
	TTLRange, LockDelayRange, KillGraceRange hcl.Range
	CheckTTLRange                            hcl.Range
}

// LoadBalancer describes how traffic reaches web and push.
type LoadBalancer struct {
	Kind   string // "nginx" (default), "traefik" or "fabio"
	Sticky string // push stickiness: "cookie" (default) or "ip"
	// Listen is the port nginx listens on (default 80).
	Listen int
	// Entrypoint is Traefik's entrypoint name (default "web").
	Entrypoint             string
	KindRange, StickyRange hcl.Range
}

// Process is one task group: one kind of Kantree process.
type Process struct {
	// Name is the group name: "web", "worker", "scheduler", "push" or
	// "realtime", or "worker-<queue>" for an extra worker group.
	Name string
	// Kind is one of "web", "worker", "scheduler", "push" (push covers realtime).
	Kind    string
	Count   int
	CPU     int      // MHz
	Memory  int      // MB
	Command []string // e.g. ["./platform", "run", "web"]
	Queues  []string // extra worker groups only
	Env     map[string]string

	// Port is the port the process listens on inside its network namespace
	// (web 5000, push 4000 by default); 0 for processes that listen on none.
	Port          int
	HealthPath    string // HTTP check path (web, push)
	CheckInterval time.Duration
	CheckTimeout  time.Duration
	KillTimeout   time.Duration // Nomad kill_timeout
	ShutdownDelay time.Duration // Nomad shutdown_delay (web, push)

	NodeClass     string
	DistinctHosts bool
	Constraints   []Constraint
	Spreads       []Spread

	Range      hcl.Range // the process block, or the file when defaulted
	CountRange hcl.Range
	// PortRange and KillTimeoutRange point at those attributes (or at Range
	// when defaulted).
	PortRange, KillTimeoutRange hcl.Range
}

// Constraint is a Nomad constraint.
type Constraint struct {
	Attribute, Operator, Value string
}

// Spread is a Nomad spread over an attribute, with optional target percentages.
type Spread struct {
	Attribute string
	Weight    int
	Targets   map[string]int // value -> percent
}
