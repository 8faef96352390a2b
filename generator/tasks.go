package generator

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// preflightTask waits, before the process starts, for PostgreSQL and Redis
// to answer as the process needs them (kantree-nomad preflight).
func (p *plan) preflightTask() (*api.Task, error) {
	t := p.task("preflight")
	t.Lifecycle = &api.TaskLifecycle{Hook: "prestart", Sidecar: false}
	p.command(t, p.binary, []string{"preflight", "-timeout", preflightTimeout, "-release", p.d.Kantree.Version}, false)
	env, err := p.envTemplate(false)
	if err != nil {
		return nil, err
	}
	t.Templates = []*api.Template{envTemplate(env)}
	t.Resources = &api.Resources{CPU: new(100), MemoryMB: new(64)}
	t.Artifacts = p.binaryArtifacts()
	return t, nil
}

// processTask runs one Kantree process; the scheduler's runs under
// `kantree-nomad supervise`, which holds the Consul lock.
func (p *plan) processTask(proc *jobspec.Process) (*api.Task, error) {
	t := p.task(proc.Name)
	scheduler := proc.Kind == "scheduler"
	if scheduler {
		l := p.d.Lock
		args := []string{"supervise", "-key", l.Key, "-ttl", formatDuration(l.TTL), "-lock-delay", formatDuration(l.LockDelay),
			"-kill-grace", formatDuration(l.KillGrace), "-check-ttl", formatDuration(l.CheckTTL),
			"-check-service", p.lockServiceName(), "--"}
		p.command(t, p.binary, append(args, proc.Command...), true)
	} else {
		p.command(t, p.platformPath(proc.Command[0]), proc.Command[1:], true)
	}
	if err := p.kantreeFiles(t, scheduler); err != nil {
		return nil, err
	}
	if scheduler {
		t.Artifacts = append(t.Artifacts, p.binaryArtifacts()...)
	}
	t.Env = p.env(proc)
	t.Resources = &api.Resources{CPU: new(proc.CPU), MemoryMB: new(proc.Memory)}
	if proc.KillTimeout > 0 {
		t.KillTimeout = new(proc.KillTimeout)
	}
	if proc.Port > 0 && p.d.Kantree.Docker != nil {
		t.Config["ports"] = []string{"http"}
	}
	return t, nil
}

// migrateTask runs ./platform upgrade_db once per release under
// `kantree-nomad migrate`.
func (p *plan) migrateTask() (*api.Task, error) {
	t := p.task("upgrade-db")
	args := []string{"migrate", "-release", p.d.Kantree.Version, "--", "./platform", "upgrade_db"}
	p.command(t, p.binary, args, true)
	if err := p.kantreeFiles(t, false); err != nil {
		return nil, err
	}
	t.Artifacts = append(t.Artifacts, p.binaryArtifacts()...)
	t.Env = map[string]string{"KANTREE_INSTANCE_ID": "${NOMAD_ALLOC_ID}", "KANTREE_VERSION": p.d.Kantree.Version, "KANTREE_CONFIG": p.configPath()}
	cpu, mem := 500, 512
	if web := p.process("web"); web != nil {
		cpu, mem = web.CPU, web.Memory
	}
	t.Resources = &api.Resources{CPU: new(cpu), MemoryMB: new(mem)}
	// migrate gives upgrade_db its -kill-grace (10s by default) after a
	// SIGTERM and then records the attempt as killed; Nomad must not
	// SIGKILL migrate before that.
	t.KillTimeout = new(migrateKillTimeout)
	return t, nil
}

// migrateKillTimeout is the upgrade-db task's kill_timeout: migrate's
// default kill grace (10s) with room to record the attempt and unlock.
const migrateKillTimeout = 30 * time.Second

// task returns a task with its driver chosen and the Vault block set when
// secrets come from Vault.
func (p *plan) task(name string) *api.Task {
	t := &api.Task{Name: name, Config: map[string]any{}}
	switch {
	case p.d.Kantree.Docker != nil:
		t.Driver = "docker"
		t.Config["image"] = p.d.Kantree.Docker.Image
	default:
		t.Driver = or(p.d.Kantree.Archive.Driver, "exec")
	}
	if p.secrets.Provider == "vault" {
		t.Vault = &api.Vault{Role: p.d.Secrets.VaultRole, ChangeMode: new("restart"), Env: new(false)}
	}
	return t
}

// command sets the driver's command and arguments; inRoot runs it in the
// Kantree root, where ./platform lives.
func (p *plan) command(t *api.Task, cmd string, args []string, inRoot bool) {
	t.Config["command"] = cmd
	if len(args) > 0 {
		t.Config["args"] = append([]string(nil), args...)
	}
	if inRoot {
		t.Config["work_dir"] = p.workDir
	}
}

// platformPath makes a command relative to the Kantree root ("./platform")
// one the driver finds: the exec drivers look it up from the task
// directory; Docker from its work_dir.
func (p *plan) platformPath(cmd string) string {
	if p.d.Kantree.Docker == nil && strings.HasPrefix(cmd, "./") {
		return path.Join(p.root, cmd)
	}
	return cmd
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
	dir := p.root
	if p.d.Kantree.Docker != nil {
		dir = "local"
		t.Config["mount"] = []map[string]any{bindMount("local/config-prod.yml", p.root+"/config-prod.yml"), bindMount("local/"+p.license, p.root+"/"+p.license)}
	}
	t.Templates = []*api.Template{
		fileTemplate(config, dir+"/config-prod.yml"),
		fileTemplate(license, dir+"/"+p.license),
		envTemplate(env),
	}
	if a := p.d.Kantree.Archive; a != nil {
		t.Artifacts = append(t.Artifacts, artifact(a.URL, a.Checksum, p.root, ""))
	}
	return nil
}

func bindMount(source, target string) map[string]any {
	return map[string]any{"type": "bind", "source": source, "target": target, "readonly": true}
}

func fileTemplate(data, dest string) *api.Template {
	return &api.Template{EmbeddedTmpl: new(data), DestPath: new(dest), ChangeMode: new("restart"), Perms: new("0640")}
}

func envTemplate(data string) *api.Template {
	return &api.Template{EmbeddedTmpl: new(data), DestPath: new("secrets/kantree.env"), Envvars: new(true), ChangeMode: new("restart"), Perms: new("0600")}
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
	return []*api.TaskArtifact{artifact(b.URL, b.Checksum, "local/bin/kantree-nomad", "file")}
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
		"KANTREE_CONFIG":      p.configPath(),
	}
	if proc.Port > 0 {
		env["PORT"] = "${NOMAD_PORT_http}"
		env["BIND_ADDR"] = "${NOMAD_IP_http}"
		if p.d.Kantree.Docker != nil {
			env["BIND_ADDR"] = "0.0.0.0" // inside the container; Docker maps the host port
		}
	}
	if proc.Kind == "scheduler" {
		env["CONSUL_HTTP_ADDR"] = "${attr.unique.network.ip-address}:8500"
	}
	for k, v := range proc.Env {
		env[k] = v
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
