package generator

import (
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Defaults the generator falls back on when a Deployment leaves a value
// empty. jobspec normally fills them in; these keep Generate total.
const (
	defaultArchiveRoot = "local/kantree"
	defaultDockerRoot  = "/kantree"
	defaultBinaryPath  = "/usr/local/bin/kantree-nomad"
	defaultLicenseFile = "license.txt"
	defaultPushPath    = "/socket.io/"
	consulTokenKey     = "consul_token"
	preflightTimeout   = "5m"
)

// plan holds a deployment and the names and paths derived from it, shared
// by the job and file builders.
type plan struct {
	d       *jobspec.Deployment
	secrets secretsView
	root    string // Kantree root: relative to the task dir (archive) or absolute in the image (docker)
	workDir string // the task's working directory, as the driver wants it (absolute)
	binary  string // kantree-nomad as the task's command
	license string // license file name under root
}

func newPlan(d *jobspec.Deployment) (*plan, error) {
	if err := checkSafe(d); err != nil {
		return nil, err
	}
	p := &plan{d: d, license: or(d.Config.LicenseFile, defaultLicenseFile)}
	var err error
	if p.secrets, err = newSecretsView(d); err != nil {
		return nil, err
	}
	switch {
	case d.Kantree.Archive != nil && d.Kantree.Docker != nil:
		return nil, fmt.Errorf("both an archive and a Docker image are set; keep one")
	case d.Kantree.Archive != nil:
		err = p.archiveLayout()
	case d.Kantree.Docker != nil:
		err = p.dockerLayout()
	default:
		return nil, fmt.Errorf("no delivery: set an archive URL or a Docker image")
	}
	if err != nil {
		return nil, err
	}
	return p, p.checkLB()
}

// archiveLayout: Nomad unpacks the archive into root, a directory under the
// task's local/ directory, and the task runs there (work_dir).
func (p *plan) archiveLayout() error {
	p.root = or(p.d.Kantree.Root, defaultArchiveRoot)
	clean := path.Clean(p.root)
	if path.IsAbs(clean) || !strings.HasPrefix(clean+"/", "local/") || clean == "local" {
		return fmt.Errorf("kantree root %q: with an archive the root must be a directory under local/ (where Nomad unpacks the artifact), e.g. %q", p.root, defaultArchiveRoot)
	}
	p.root = clean
	p.workDir = "${NOMAD_TASK_DIR}/" + strings.TrimPrefix(clean, "local/")
	p.binary = defaultBinaryPath
	if p.d.Binary.Path != "" {
		p.binary = p.d.Binary.Path
	}
	if p.d.Binary.URL != "" {
		p.binary = "local/bin/kantree-nomad"
	}
	return nil
}

// dockerLayout: root is a directory inside the image; rendered files are
// mounted into it.
func (p *plan) dockerLayout() error {
	p.root = path.Clean(or(p.d.Kantree.Root, defaultDockerRoot))
	if !path.IsAbs(p.root) {
		return fmt.Errorf("kantree root %q: with a Docker image the root must be an absolute path inside the image, e.g. %q", p.root, defaultDockerRoot)
	}
	p.workDir = p.root
	p.binary = or(p.d.Binary.Path, defaultBinaryPath)
	if p.d.Binary.URL != "" {
		p.binary = "/local/bin/kantree-nomad" // the task's local/ is mounted at /local
	}
	return nil
}

func (p *plan) upgradeJobName() string { return p.d.Job + "-upgrade-db" }

// serviceName is the Consul service of a process group.
func (p *plan) serviceName(proc *jobspec.Process) string { return p.d.Job + "-" + proc.Name }

// lockServiceName is the Consul service that carries the TTL check of the
// scheduler's lock session; the scheduler lock policy grants write on it.
func (p *plan) lockServiceName() string { return p.d.Job + "-scheduler-lock" }

// configPath is where the task's processes find config-prod.yml.
func (p *plan) configPath() string {
	if p.d.Kantree.Docker != nil {
		return p.root + "/config-prod.yml"
	}
	return p.workDir + "/config-prod.yml"
}

func (p *plan) process(kind string) *jobspec.Process {
	for _, proc := range p.d.Processes {
		if proc.Kind == kind {
			return proc
		}
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var (
	safeName     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	safeHost     = regexp.MustCompile(`^[A-Za-z0-9*][A-Za-z0-9.*-]{0,252}$`)
	safeVersion  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)
	safeKeyName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	safePathLike = regexp.MustCompile(`^[A-Za-z0-9_./-]{1,255}$`)
)

// checkSafe refuses values that would change the meaning of the files they
// are written into (nginx directives, consul-template actions, shell
// commands). jobspec validates the same and reports with source ranges;
// this is the generator's own guard.
func checkSafe(d *jobspec.Deployment) error {
	checks := []struct {
		what, value string
		re          *regexp.Regexp
	}{
		{"job name", d.Job, safeName},
		{"server name", d.Kantree.ServerName, safeHost},
		{"Kantree version", d.Kantree.Version, safeVersion},
		{"secrets path", or(d.Secrets.Path, "nomad/jobs/"+d.Job), safePathLike},
		{"lock key", d.Lock.Key, safePathLike},
	}
	for _, k := range []string{d.Secrets.DatabaseURLKey, d.Secrets.RedisURLKey, d.Secrets.LicenseKey, d.Secrets.SecretKeyKey} {
		if k != "" {
			checks = append(checks, struct {
				what, value string
				re          *regexp.Regexp
			}{"secret key name", k, safeKeyName})
		}
	}
	for _, c := range checks {
		if !c.re.MatchString(c.value) {
			return fmt.Errorf("%s %q cannot be written safely (allowed: %s)", c.what, c.value, c.re)
		}
	}
	for _, proc := range d.Processes {
		if !safeName.MatchString(proc.Name) {
			return fmt.Errorf("process name %q cannot be written safely (allowed: %s)", proc.Name, safeName)
		}
	}
	return checkTimings(d)
}

// checkTimings runs the lock-timing rule once more with the scheduler's
// Nomad kill_timeout, so that no job with unsafe timings is ever written.
func checkTimings(d *jobspec.Deployment) error {
	var killTimeout time.Duration
	scheduler := false
	for _, proc := range d.Processes {
		if proc.Kind == "scheduler" {
			scheduler, killTimeout = true, proc.KillTimeout
		}
	}
	if !scheduler {
		return nil
	}
	err := rules.CheckLockTimings(rules.LockTimings{TTL: d.Lock.TTL, LockDelay: d.Lock.LockDelay, KillGrace: d.Lock.KillGrace, KillTimeout: killTimeout})
	if err != nil {
		return fmt.Errorf("%w; %s", err, err.Hint())
	}
	return nil
}
