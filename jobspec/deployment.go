package jobspec

import (
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/kantree-nomad/kantree-nomad/rules"
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
	Job string
	// UpgradeJob is the name of the batch job that migrates the database:
	// Job + "-upgrade-db".
	UpgradeJob  string
	Region      string   // Nomad region; "" leaves Nomad's default
	Datacenters []string // default ["*"]
	Namespace   string   // "" leaves Nomad's default
	NodePool    string   // "" leaves Nomad's default

	// Nomad is the Nomad version the jobs are written for.
	Nomad NomadTarget

	Kantree   Kantree
	Layout    Layout
	Consul    ConsulAccess
	Secrets   Secrets
	Config    Config
	Lock      SchedulerLock
	Backup    Backup
	LB        LoadBalancer
	Processes []*Process // web, worker, scheduler, push/realtime, then extra worker groups, in that order

	// Binary is how tasks obtain the kantree-nomad binary that runs
	// preflight, supervise and migrate.
	Binary Binary

	DefRange hcl.Range // the whole file, for diagnostics about the file as a whole
}

// NomadTarget is the Nomad version the rendered jobs are for
// (nomad_version; default rules.NewestNomad).
type NomadTarget struct {
	Version string // "1.6", "1.8.2"...
	Range   hcl.Range
}

// Has reports whether the target Nomad version has feature f.
func (n NomadTarget) Has(f rules.NomadFeature) bool { return rules.NomadHas(n.Version, f) }

// Layout is where Kantree and kantree-nomad are inside a task, derived
// from the delivery (archive or image), the root and the binary.
type Layout struct {
	// Root is the Kantree root as the job writes it: relative to the task
	// directory for an archive ("local/kantree"), absolute in the image
	// for Docker.
	Root string
	// RootInTask is the root as an absolute path the task's processes see
	// ("${NOMAD_TASK_DIR}/kantree" for an archive; Root for Docker).
	RootInTask string
	// FilesDir is where the task's templates write config-prod.yml and the
	// license: the root itself for an archive, "local" for Docker (the
	// files are then bind-mounted into the root).
	FilesDir string
	// ConfigPath is config-prod.yml as the processes see it.
	ConfigPath string
	// Binary is kantree-nomad as the task's command.
	Binary string
}

// ConsulAccess is how tasks that talk to Consul (the scheduler's
// supervisor) reach their local Consul agent.
type ConsulAccess struct {
	// Address is CONSUL_HTTP_ADDR: host:port, or unix:///path. Default
	// 127.0.0.1:8500 for exec and raw_exec (they share the host's network),
	// the node's address for Docker (a container's 127.0.0.1 is its own).
	Address string
	// TLS is CONSUL_HTTP_SSL: talk HTTPS to the agent.
	TLS bool
	// CAFile is CONSUL_CACERT, a path the task can read; TLSServerName is
	// CONSUL_TLS_SERVER_NAME.
	CAFile, TLSServerName string
	Range                 hcl.Range
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
	// ConsulTokenKey is the key holding the scheduler's Consul token
	// (default "consul_token"); optional at run time.
	ConsulTokenKey string
	// VaultPolicies are the Vault policies of the task's vault block, for
	// Nomad before workload identity (1.6); VaultRole replaces them later.
	VaultPolicies []string
	Range         hcl.Range
}

// Config is the non-secret part of config-prod.yml, the same on all nodes.
type Config struct {
	// Settings are extra top-level keys written into config-prod.yml, in
	// sorted key order, as strings, numbers or booleans.
	Settings map[string]string
	// SettingRanges point at each setting's key (or at the settings
	// attribute when the map is not written out literally).
	SettingRanges map[string]hcl.Range
	// ExternalQueues are queues another system's workers serve: a queue_*
	// setting may route to them without a worker group here.
	ExternalQueues      []string
	ExternalQueuesRange hcl.Range
	// LicenseFile is the license's file name under Root (default "license.txt").
	LicenseFile string
}

// SchedulerLock describes the Consul session lock that keeps the scheduler single.
type SchedulerLock struct {
	Key string // Consul KV key (default "kantree/<job>/scheduler"), in rules.CheckLockKey's normal form
	// Service is the Consul service that carries the TTL check the lock
	// session is bound to: <job>-scheduler-lock.
	Service                                  string
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
	Entrypoint string
	// Canaries says when a canary instance gets traffic: "hold" (default:
	// only once promoted) or "route" (as soon as its check passes).
	Canaries string
	// Nginx is where nginx and consul-template live on the load-balancer
	// hosts; set (with defaults) whatever the kind, used with nginx only.
	Nginx NginxHost
	// SystemJob, when set, asks for the load balancer as a Nomad system
	// job (<job>-lb) as well: nginx under exec on a node class.
	SystemJob *LBSystemJob
	// TLS, when set, serves Kantree over HTTPS at the load balancer.
	TLS *LBTLS

	// Reaction is how long after Consul drops an instance the load
	// balancer stops sending it requests: nginx's WaitMax + ReloadTime, or
	// the file's reaction_time for Traefik and Fabio.
	Reaction time.Duration
	// MinShutdownDelay is the shortest shutdown_delay of web and push
	// that drains: Reaction + DrainMargin. It is also their default.
	MinShutdownDelay time.Duration
	// PushCanary says whether push rolls out through a canary. It is false
	// with Fabio, which has no stickiness: a release must never run two
	// push instances behind it.
	PushCanary bool
	// RoutedTag is the service tag the nginx site selects instances by;
	// canaries carry it only with Canaries "route".
	RoutedTag string

	// PushPath is the URL path prefix of the push process (socket.io).
	PushPath string
	// CookieName is the sticky cookie of push: <job>_push with '-' as '_'.
	CookieName string
	// VarPrefix prefixes the names the LB config defines (nginx variables,
	// upstreams), unique per job: the job name with '-' as '_'.
	VarPrefix              string
	KindRange, StickyRange hcl.Range
	// ReactionRange points at what sets Reaction: wait_max or reload_time
	// in the nginx block, reaction_time, or the kind.
	ReactionRange hcl.Range
}

// NginxHost is the layout of a load-balancer host that runs nginx with
// consul-template. Defaults are those of Debian's and Ubuntu's nginx
// package and of HashiCorp's consul-template package.
type NginxHost struct {
	// Site is the nginx site file consul-template keeps current (default
	// /etc/nginx/conf.d/<job>.conf, which Debian's nginx.conf includes).
	Site string
	// TestCommand and ReloadCommand check nginx's whole configuration and
	// reload it (default nginx -t -q and nginx -s reload).
	TestCommand, ReloadCommand []string
	// ConfigDir holds consul-template.hcl, nginx.conf.ctmpl and the
	// staged render (default /etc/consul-template.d/<job>).
	ConfigDir string
	// ConsulTemplate is the consul-template binary the systemd unit runs
	// (default /usr/bin/consul-template).
	ConsulTemplate string
	// ConsulAddress is the Consul agent consul-template asks (default 127.0.0.1:8500).
	ConsulAddress string
	// WaitMin and WaitMax are consul-template's quiescence: render once
	// the catalog has been still for WaitMin, at most WaitMax after a
	// change (default 200ms and 1s).
	WaitMin, WaitMax time.Duration
	// ReloadTime bounds nginx -t plus the reload (default 1s).
	ReloadTime time.Duration
}

// LBTLS is HTTPS at the load balancer (load_balancer.tls).
//
// With nginx, TLS 1.2 and 1.3 with Mozilla's "intermediate" cipher list;
// with Traefik, the routers' tls tags (certificates are Traefik's own
// configuration); Fabio terminates TLS on its listener, so the block is
// refused there.
type LBTLS struct {
	// nginx: the HTTPS port (default 443), whether the HTTP port answers
	// with a redirect to HTTPS (default true; false serves both), and HSTS
	// (opt-in) with its max-age.
	Listen       int
	RedirectHTTP bool
	HSTS         bool
	HSTSMaxAge   time.Duration
	// CertificateFile and KeyFile are the PEM files on the load-balancer
	// hosts (default /etc/ssl/<job>/fullchain.pem and privkey.pem, as
	// certbot names them). consul-template watches them and reloads nginx.
	CertificateFile, KeyFile string
	// Source is where the system job reads the certificate and key:
	// "files" (CertificateFile and KeyFile on the node), "nomad" (a Nomad
	// Variable at Path, items tls_certificate and tls_key), "vault_kv"
	// (Vault KV v2 at Path, keys certificate and key) or "vault_pki" (a
	// certificate for the server name issued by Vault PKI at Path).
	Source string
	Path   string
	// CertResolver is the Traefik certificate resolver (Traefik only).
	CertResolver string
	Range        hcl.Range
	SourceRange  hcl.Range
}

// Sources of the system job's certificate.
const (
	TLSSourceFiles    = "files"
	TLSSourceNomad    = "nomad"
	TLSSourceVaultKV  = "vault_kv"
	TLSSourceVaultPKI = "vault_pki"
)

// LBSystemJob is the load balancer run as a Nomad system job.
type LBSystemJob struct {
	Job       string // <job>-lb
	NodeClass string // the node class of the load-balancer nodes (default "lb")
	Driver    string // "exec" (default) or "raw_exec"
	Nginx     string // the nginx binary on those nodes (default /usr/sbin/nginx)
	// Service is the Consul service of the load balancer, with an HTTP check on HealthPath.
	Service, HealthPath string
	Range               hcl.Range
}

// Process is one task group: one kind of Kantree process.
type Process struct {
	// Name is the group name: "web", "worker", "scheduler", "push" or
	// "realtime", or "worker-<queue>" for an extra worker group.
	Name string
	// Kind is one of "web", "worker", "scheduler", "push" (push covers realtime).
	Kind string
	// Service is the Consul service name of a listening process
	// (<job>-<name>); "" for processes that listen on none.
	Service string
	Count   int
	CPU     int      // MHz
	Memory  int      // MB
	Command []string // e.g. ["./platform", "run", "web"]
	Queues  []string // extra worker groups only
	// QueuesRange points at a worker group's queues (or its block).
	QueuesRange hcl.Range
	Env         map[string]string

	// Port is the port the process listens on inside its network namespace
	// (web 5000, push 4000 by default); 0 for processes that listen on none.
	Port          int
	HealthPath    string // HTTP check path (web, push)
	CheckInterval time.Duration
	CheckTimeout  time.Duration
	KillTimeout   time.Duration // Nomad kill_timeout
	// MinHealthyTime, HealthyDeadline and ProgressDeadline are the group's
	// update (deployment) timings; ProgressDeadline 0 turns that check off.
	MinHealthyTime, HealthyDeadline, ProgressDeadline time.Duration
	ShutdownDelay                                     time.Duration // Nomad shutdown_delay (web, push); derived from the load balancer unless the file sets it
	// ShutdownDelayRange points at shutdown_delay when the file sets it.
	ShutdownDelayRange hcl.Range
	shutdownDelaySet   bool

	NodeClass string
	// DistinctHosts places every instance on its own node. The scheduler
	// with standbys has it unless the file says distinct_hosts = false:
	// a standby on the holder's node is lost with it.
	DistinctHosts    bool
	distinctHostsSet bool
	Constraints      []Constraint
	// Spreads are the file's spread blocks; web and push without one
	// spread over nodes (NodeSpreadAttribute).
	Spreads []Spread

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
