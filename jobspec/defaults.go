package jobspec

import (
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Defaults applied when the deployment file leaves a value out.
const (
	DefaultJob         = "kantree"
	DefaultArchiveRoot = "local/kantree" // artifact destination, relative to the task directory
	DefaultDockerRoot  = "/opt/kantree"  // working directory inside the image
	DefaultDriver      = "exec"
	DefaultBinaryPath  = "/usr/local/bin/kantree-nomad"
	DefaultLicenseFile = "license.txt"
	DefaultLBKind      = "nginx"
	DefaultSticky      = "cookie"
	DefaultListen      = 80
	DefaultEntrypoint  = "web"
	// The lock timings are rules the supervisor shares; see package rules.
	DefaultLockTTL      = rules.DefaultLockTTL
	DefaultLockDelay    = rules.DefaultLockDelay
	DefaultKillGrace    = rules.DefaultKillGrace
	DefaultCheckTTL     = rules.DefaultCheckTTL
	DefaultWebPort      = 5000
	DefaultPushPort     = 4000
	DefaultSpreadWeight = 50
)

// RealtimeSince is the first Kantree release that calls the push process
// "realtime". Earlier releases call it "push". The kantree block's
// `realtime` attribute overrides the rule for releases that differ.
const RealtimeSince = "9.0"

const realtimeMajor = 9

// versionMajor returns the major number of a Kantree version, or false when
// the version is not a release as rules.ParseVersion reads it: the grammar
// has one owner, which migrate's and preflight's -release flags use too.
func versionMajor(v string) (int, bool) {
	r, err := rules.ParseVersion(v)
	return r.Major, err == nil
}

// processDefaults are the per-kind defaults of a process group.
type processDefaults struct {
	cpu, memory, port int
	healthPath        string
	killTimeout       time.Duration
	minHealthy        time.Duration
}

var kindDefaults = map[string]processDefaults{
	"web":       {cpu: 500, memory: 1024, port: DefaultWebPort, healthPath: "/health", killTimeout: 30 * time.Second, minHealthy: DefaultMinHealthyTime},
	"worker":    {cpu: 500, memory: 1024, killTimeout: 30 * time.Second, minHealthy: DefaultMinHealthyTime},
	"scheduler": {cpu: 200, memory: 512, killTimeout: 10 * time.Second, minHealthy: SchedulerMinHealthyTime},
	"push":      {cpu: 300, memory: 512, port: DefaultPushPort, healthPath: "/socket.io/?EIO=4&transport=polling", killTimeout: 30 * time.Second, minHealthy: DefaultMinHealthyTime},
}

// Deployment (update) timings of a process group.
const (
	DefaultMinHealthyTime = 10 * time.Second
	// SchedulerMinHealthyTime outlasts supervise's bounded wait for Consul
	// at start (rules.DefaultStartTimeout, 30s), so that a deployment sees
	// a supervisor that cannot reach Consul fail.
	SchedulerMinHealthyTime = rules.DefaultStartTimeout + 15*time.Second
	DefaultHealthyDeadline  = 5 * time.Minute
	DefaultProgressDeadline = 10 * time.Minute
)

// Health-check defaults for web and push. A node that dies or is cut off
// is not found by these checks but by Consul's gossip (its serfHealth check
// fails every service of the node at once: 13-17 s before the scheduler
// moved in the cluster scenarios, lock-delay included), and nginx skips its
// instances sooner through its 2s connect timeout (internal/e2e/cluster). The
// interval bounds only how long an instance that hangs while its node lives
// keeps its place in the load balancer; 10s keeps the checks' load on
// Consul low when there are many instances.
const (
	DefaultCheckInterval = 10 * time.Second
	DefaultCheckTimeout  = 2 * time.Second
)
