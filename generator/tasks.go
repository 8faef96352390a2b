package generator

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// preflightTask waits, before the process starts, for PostgreSQL and Redis
// to answer as the process needs them (kantree-nomad preflight).
func (p *plan) preflightTask() (*api.Task, error) {
	t := p.task("preflight")
	t.Lifecycle = &api.TaskLifecycle{Hook: "prestart", Sidecar: false}
	p.command(t, []string{"preflight", "-timeout", formatDuration(rules.PreflightTimeout), "-release", p.d.Kantree.Version})
	env, err := p.envTemplate(false)
	if err != nil {
		return nil, err
	}
	t.Templates = []*api.Template{envTemplate(env)}
	t.Resources = &api.Resources{CPU: new(100), MemoryMB: new(64)}
	t.Artifacts = p.binaryArtifacts()
	return t, nil
}

// processTask runs one Kantree process through `kantree-nomad launch`,
// which runs ./platform init_node once in the allocation's Kantree root
// and then becomes the process. The scheduler's runs under
// `kantree-nomad supervise`, which holds the Consul lock.
func (p *plan) processTask(proc *jobspec.Process) (*api.Task, error) {
	t := p.task(proc.Name)
	scheduler := proc.Kind == "scheduler"
	args := p.launchArgs(proc.Command)
	if scheduler {
		l := p.d.Lock
		sup := []string{"supervise", "-key", l.Key, "-ttl", formatDuration(l.TTL), "-lock-delay", formatDuration(l.LockDelay),
			"-kill-grace", formatDuration(l.KillGrace), "-check-ttl", formatDuration(l.CheckTTL),
			"-check-service", l.Service, "--", p.d.Layout.Binary}
		args = append(sup, args...)
	}
	p.command(t, args)
	if err := p.kantreeFiles(t, scheduler); err != nil {
		return nil, err
	}
	t.Artifacts = append(t.Artifacts, p.binaryArtifacts()...)
	t.Env = p.env(proc)
	t.Resources = &api.Resources{CPU: new(proc.CPU), MemoryMB: new(proc.Memory)}
	t.KillTimeout = new(proc.KillTimeout)
	if proc.Port > 0 && p.d.Kantree.Docker != nil {
		t.Config["ports"] = []string{"http"}
	}
	return t, nil
}

// launchArgs are kantree-nomad's arguments that run cmd in the Kantree
// root after init_node. The root is given as the task sees it, so the
// same job works on every Nomad version (the exec driver's work_dir came
// later than 1.6) and every driver.
func (p *plan) launchArgs(cmd []string) []string {
	return append([]string{"launch", "-root", p.d.Layout.RootInTask, "--"}, cmd...)
}

// migrateTask runs ./platform upgrade_db once per release under
// `kantree-nomad migrate`.
func (p *plan) migrateTask() (*api.Task, error) {
	t := p.task("upgrade-db")
	args := append([]string{"migrate", "-release", p.d.Kantree.Version}, backupArgs(p.d.Backup)...)
	args = append(append(args, "--", p.d.Layout.Binary), p.launchArgs([]string{"./platform", "upgrade_db"})...)
	p.command(t, args)
	if err := p.kantreeFiles(t, false); err != nil {
		return nil, err
	}
	t.Artifacts = append(t.Artifacts, p.binaryArtifacts()...)
	t.Env = map[string]string{"KANTREE_INSTANCE_ID": "${NOMAD_ALLOC_ID}", "KANTREE_VERSION": p.d.Kantree.Version, "KANTREE_CONFIG": p.d.Layout.ConfigPath}
	web := p.d.Process("web")
	t.Resources = &api.Resources{CPU: new(web.CPU), MemoryMB: new(web.Memory)}
	// migrate gives upgrade_db its -kill-grace (rules.MigrateKillGrace)
	// after a SIGTERM and then records the attempt as killed; Nomad must
	// not SIGKILL migrate before that.
	t.KillTimeout = new(rules.MigrateKillTimeout)
	return t, nil
}

// task returns a task with its driver chosen and the Vault block set when
// secrets come from Vault: a role (workload identity) from Nomad 1.7 on,
// policies before.
func (p *plan) task(name string) *api.Task {
	t := &api.Task{Name: name, Config: map[string]any{}}
	switch {
	case p.d.Kantree.Docker != nil:
		t.Driver = "docker"
		t.Config["image"] = p.d.Kantree.Docker.Image
	default:
		t.Driver = p.d.Kantree.Archive.Driver
	}
	if p.secrets.Provider == "vault" {
		t.Vault = &api.Vault{ChangeMode: new("restart"), Env: new(false)}
		if p.d.Nomad.Has(rules.VaultWorkloadIdentity) {
			t.Vault.Role = p.d.Secrets.VaultRole
		} else {
			t.Vault.Policies = append([]string(nil), p.d.Secrets.VaultPolicies...)
		}
	}
	return t
}

// command makes kantree-nomad, with args, the task's command.
func (p *plan) command(t *api.Task, args []string) {
	t.Config["command"] = p.d.Layout.Binary
	t.Config["args"] = append([]string(nil), args...)
}

// kantreeFiles gives a task that runs Kantree its files: the archive (or the
// mounts into the image), config-prod.yml, the license and the secrets.
func (p *plan) kantreeFiles(t *api.Task, consulToken bool) error {
	config, err := p.configTemplate()
	if err != nil {
		return err
	}
	license, err := p.licenseTemplate()
	if err != nil {
		return err
	}
	env, err := p.envTemplate(consulToken)
	if err != nil {
		return err
	}
	l, lic := p.d.Layout, p.d.Config.LicenseFile
	if p.d.Kantree.Docker != nil {
		t.Config["mount"] = []map[string]any{bindMount(l.FilesDir+"/config-prod.yml", l.Root+"/config-prod.yml"), bindMount(l.FilesDir+"/"+lic, l.Root+"/"+lic)}
	}
	t.Templates = []*api.Template{
		fileTemplate(config, l.FilesDir+"/config-prod.yml"),
		fileTemplate(license, l.FilesDir+"/"+lic),
		envTemplate(env),
	}
	if a := p.d.Kantree.Archive; a != nil {
		t.Artifacts = append(t.Artifacts, artifact(a.URL, a.Checksum, l.Root, ""))
	}
	return nil
}

func bindMount(source, target string) map[string]any {
	return map[string]any{"type": "bind", "source": source, "target": target, "readonly": true}
}

// secretsChangeMode is what Nomad does when a secret changes under a
// running task: nothing. Nomad's "restart" restarts every allocation of
// every group within the template's splay of each other, with no health
// gate, and a wrong value takes all of them down. A change reaches the
// tasks through `kantree-nomad rotate` instead: a Nomad deployment that
// replaces instances as a release does, web's canary first (see
// operator/rotate.go).
const secretsChangeMode = "noop"

func fileTemplate(data, dest string) *api.Template {
	return &api.Template{EmbeddedTmpl: new(data), DestPath: new(dest), ChangeMode: new(secretsChangeMode), Perms: new("0640")}
}

func envTemplate(data string) *api.Template {
	return &api.Template{EmbeddedTmpl: new(data), DestPath: new("secrets/kantree.env"), Envvars: new(true), ChangeMode: new(secretsChangeMode), Perms: new("0600")}
}

// binaryArtifacts fetches kantree-nomad when the deployment gives a URL: an
// archive unpacks into local/bin (keeping its mode); a bare file is saved as
// local/bin/kantree-nomad (the exec drivers make their command executable).
func (p *plan) binaryArtifacts() []*api.TaskArtifact {
	b := p.d.Binary
	if b.URL == "" {
		return nil
	}
	for _, ext := range []string{".tar.gz", ".tgz", ".zip", ".tar.xz", ".tar.bz2"} {
		if strings.HasSuffix(strings.ToLower(strings.SplitN(b.URL, "?", 2)[0]), ext) {
			return []*api.TaskArtifact{artifact(b.URL, b.Checksum, "local/bin", "")}
		}
	}
	return []*api.TaskArtifact{artifact(b.URL, b.Checksum, jobspec.BinaryInTask, "file")}
}

func artifact(url, checksum, dest, mode string) *api.TaskArtifact {
	a := &api.TaskArtifact{GetterSource: new(url), RelativeDest: new(dest)}
	if checksum != "" {
		a.GetterOptions = map[string]string{"checksum": checksum}
	}
	if mode != "" {
		a.GetterMode = new(mode)
	}
	return a
}

// env is the environment of a process task. Secrets are not here: they come
// from the env template (secrets/kantree.env).
func (p *plan) env(proc *jobspec.Process) map[string]string {
	env := map[string]string{
		"KANTREE_INSTANCE_ID": "${NOMAD_ALLOC_ID}",
		"KANTREE_VERSION":     p.d.Kantree.Version,
		"KANTREE_CONFIG":      p.d.Layout.ConfigPath,
	}
	if proc.Port > 0 {
		env["PORT"] = "${NOMAD_PORT_http}"
		env["BIND_ADDR"] = "${NOMAD_IP_http}"
		if p.d.Kantree.Docker != nil {
			env["BIND_ADDR"] = "0.0.0.0" // inside the container; Docker maps the host port
		}
	}
	if proc.Kind == "scheduler" {
		maps.Copy(env, p.consulEnv())
	}
	maps.Copy(env, proc.Env)
	return env
}

// consulEnv tells the scheduler's supervisor where its Consul agent is, in
// the variables consul/api reads (the same as the consul CLI's).
func (p *plan) consulEnv() map[string]string {
	c := p.d.Consul
	env := map[string]string{"CONSUL_HTTP_ADDR": c.Address}
	if c.TLS {
		env["CONSUL_HTTP_SSL"] = "true"
	}
	if c.CAFile != "" {
		env["CONSUL_CACERT"] = c.CAFile
	}
	if c.TLSServerName != "" {
		env["CONSUL_TLS_SERVER_NAME"] = c.TLSServerName
	}
	return env
}

// formatDuration writes d the short way Nomad and Go both parse: "90s" as
// "1m30s", "5m0s" as "5m", 1500ms as "1.5s", 250ms as "250ms".
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	if d < time.Second {
		for _, u := range []struct {
			suffix string
			size   time.Duration
		}{{"ms", time.Millisecond}, {"us", time.Microsecond}} {
			if d >= u.size && d%u.size == 0 {
				return sign + strconv.FormatInt(int64(d/u.size), 10) + u.suffix
			}
		}
		return sign + strconv.FormatInt(int64(d), 10) + "ns"
	}
	var b strings.Builder
	b.WriteString(sign)
	if h := d / time.Hour; h > 0 {
		b.WriteString(strconv.FormatInt(int64(h), 10) + "h")
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		b.WriteString(strconv.FormatInt(int64(m), 10) + "m")
	}
	if rest := d % time.Minute; rest > 0 {
		b.WriteString(strconv.FormatInt(int64(rest/time.Second), 10))
		if frac := rest % time.Second; frac > 0 {
			b.WriteString("." + strings.TrimRight(fmt.Sprintf("%09d", int64(frac)), "0"))
		}
		b.WriteString("s")
	}
	return b.String()
}
