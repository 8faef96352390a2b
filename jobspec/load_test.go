package jobspec

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// minimal is the smallest valid deployment file.
const minimal = `
kantree {
  version     = "8.4.1"
  server_name = "kantree.example.com"
  archive { url = "https://example.com/kantree.tgz" }
}
`

func mustParse(t *testing.T, src string, opts LoadOptions) *Deployment {
	t.Helper()
	dep, _, diags := Parse("kantree.hcl", []byte(src), opts)
	if diags.HasErrors() {
		t.Fatalf("unexpected diagnostics:\n%s", diags.Error())
	}
	return dep
}

func TestDefaults(t *testing.T) {
	dep := mustParse(t, minimal, LoadOptions{})
	checks := []struct {
		name      string
		got, want any
	}{
		{"job", dep.Job, "kantree"},
		{"datacenters", dep.Datacenters, []string{"*"}},
		{"root", dep.Kantree.Root, DefaultArchiveRoot},
		{"driver", dep.Kantree.Archive.Driver, "exec"},
		{"realtime", dep.Kantree.Realtime, false},
		{"binary path", dep.Binary.Path, DefaultBinaryPath},
		{"secrets provider", dep.Secrets.Provider, "nomad"},
		{"secrets path", dep.Secrets.Path, "nomad/jobs/kantree"},
		{"database key", dep.Secrets.DatabaseURLKey, "database_url"},
		{"redis key", dep.Secrets.RedisURLKey, "redis_url"},
		{"license key", dep.Secrets.LicenseKey, "license"},
		{"secret key key", dep.Secrets.SecretKeyKey, "secret_key"},
		{"license file", dep.Config.LicenseFile, "license.txt"},
		{"settings", dep.Config.Settings, map[string]string{}},
		{"lock key", dep.Lock.Key, "kantree/kantree/scheduler"},
		{"lock ttl", dep.Lock.TTL, 10 * time.Second},
		{"lock delay", dep.Lock.LockDelay, 8 * time.Second},
		{"kill grace", dep.Lock.KillGrace, 2 * time.Second},
		{"check ttl", dep.Lock.CheckTTL, 2 * time.Second},
		{"standbys", dep.Lock.Standbys, 0},
		{"lb kind", dep.LB.Kind, "nginx"},
		{"sticky", dep.LB.Sticky, "cookie"},
		{"listen", dep.LB.Listen, 80},
		{"entrypoint", dep.LB.Entrypoint, "web"},
		{"process names", processNames(dep), []string{"web", "worker", "scheduler", "push"}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func processNames(dep *Deployment) []string {
	var out []string
	for _, p := range dep.Processes {
		out = append(out, p.Name)
	}
	return out
}

func TestProcessDefaults(t *testing.T) {
	dep := mustParse(t, minimal, LoadOptions{})
	tests := []struct {
		name        string
		count, port int
		command     string
		health      string
		killTimeout time.Duration
		shutdown    time.Duration
	}{
		{name: "web", count: 1, port: 5000, command: "./platform run web", health: "/health", killTimeout: 30 * time.Second, shutdown: 3 * time.Second},
		{name: "worker", count: 1, command: "./platform run worker", killTimeout: 30 * time.Second},
		{name: "scheduler", count: 1, command: "./platform run scheduler", killTimeout: 10 * time.Second},
		{name: "push", count: 1, port: 4000, command: "./platform run push", health: "/socket.io/?EIO=4&transport=polling", killTimeout: 30 * time.Second, shutdown: 3 * time.Second},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := dep.Processes[i]
			got := []any{p.Name, p.Count, p.Port, strings.Join(p.Command, " "), p.HealthPath, p.KillTimeout, p.ShutdownDelay}
			want := []any{tc.name, tc.count, tc.port, tc.command, tc.health, tc.killTimeout, tc.shutdown}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestRealtimeNaming(t *testing.T) {
	tests := []struct {
		name, version, extra, wantName string
	}{
		{name: "old release", version: "8.4.1", wantName: "push"},
		{name: "cutoff", version: "9.0", wantName: "realtime"},
		{name: "newer with pre-release", version: "10.2.0-rc1", wantName: "realtime"},
		{name: "override", version: "8.4.1", extra: "realtime = true", wantName: "realtime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(minimal, `"8.4.1"`, `"`+tc.version+`"`+"\n"+tc.extra, 1)
			dep := mustParse(t, src, LoadOptions{})
			p := dep.Processes[3]
			if p.Name != tc.wantName || p.Kind != "push" || p.Command[2] != tc.wantName {
				t.Errorf("push process = %s (kind %s, command %v), want %s", p.Name, p.Kind, p.Command, tc.wantName)
			}
		})
	}
}

func TestWorkerGroups(t *testing.T) {
	dep := mustParse(t, minimal+`
worker_group "low" { count = 2 }
worker_group "reports" { queues = ["charts", "formulas"] }
`, LoadOptions{})
	names := processNames(dep)
	if want := []string{"web", "worker", "scheduler", "push", "worker-low", "worker-reports"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("processes %v, want %v", names, want)
	}
	low, reports := dep.Processes[4], dep.Processes[5]
	if got := strings.Join(low.Command, " "); got != "./platform run worker --queue low" || low.Count != 2 || low.Kind != "worker" {
		t.Errorf("worker-low: command %q count %d kind %s", got, low.Count, low.Kind)
	}
	if got := strings.Join(reports.Command, " "); got != "./platform run worker --queue charts --queue formulas" {
		t.Errorf("worker-reports command %q", got)
	}
}

func TestSchedulerCountFromStandbys(t *testing.T) {
	dep := mustParse(t, minimal+`scheduler_lock { standbys = 2 }`, LoadOptions{})
	if got := dep.Processes[2].Count; got != 3 {
		t.Errorf("scheduler count = %d, want 3", got)
	}
}

func TestVariablePrecedence(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := write("first.hcl", `region = "from-file-1"`+"\n")
	second := write("second.hcl", `region = "from-file-2"`+"\n")
	src := `variable "region" { default = "from-default" }` + "\nregion = var.region\n" + minimal
	env := []string{"PATH=/bin", "KANTREE_NOMAD_VAR_region=from-env"}
	tests := []struct {
		name string
		opts LoadOptions
		want string
	}{
		{name: "default", opts: LoadOptions{}, want: "from-default"},
		{name: "env over default", opts: LoadOptions{Environ: env}, want: "from-env"},
		{name: "var-file over env", opts: LoadOptions{Environ: env, VarFiles: []string{first}}, want: "from-file-1"},
		{name: "later var-file wins", opts: LoadOptions{Environ: env, VarFiles: []string{first, second}}, want: "from-file-2"},
		{name: "-var over all", opts: LoadOptions{Environ: env, VarFiles: []string{first, second}, Vars: []string{"region=from-flag"}}, want: "from-flag"},
		{name: "later -var wins", opts: LoadOptions{Vars: []string{"region=a", "region=b"}}, want: "b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustParse(t, src, tc.opts).Region; got != tc.want {
				t.Errorf("region = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTypedVariables(t *testing.T) {
	src := `
variable "dcs" { type = list(string) }
variable "web_count" { type = number }
datacenters = var.dcs
process "web" { count = var.web_count }
` + minimal
	dep := mustParse(t, src, LoadOptions{Vars: []string{`dcs=["a", "b"]`}, Environ: []string{"KANTREE_NOMAD_VAR_web_count=3"}})
	if !reflect.DeepEqual(dep.Datacenters, []string{"a", "b"}) || dep.Processes[0].Count != 3 {
		t.Errorf("datacenters %v, web count %d", dep.Datacenters, dep.Processes[0].Count)
	}
}

func TestFunctions(t *testing.T) {
	src := `variable "env" { default = "Prod" }
job = format("kantree-%s", lower(var.env))
datacenters = concat(["a"], [upper("b")])
` + minimal
	dep := mustParse(t, src, LoadOptions{})
	if dep.Job != "kantree-prod" || !reflect.DeepEqual(dep.Datacenters, []string{"a", "B"}) {
		t.Errorf("job %q datacenters %v", dep.Job, dep.Datacenters)
	}
}

func TestSensitiveVariable(t *testing.T) {
	const secret = "hunter2-s3cret"
	decl := `variable "db_password" {
  sensitive = true
}
`
	opts := LoadOptions{Vars: []string{"db_password=" + secret}}
	t.Run("declared but unused is fine", func(t *testing.T) {
		mustParse(t, decl+minimal, opts)
	})
	t.Run("used anywhere is refused without echoing it", func(t *testing.T) {
		src := decl + minimal + "process \"web\" {\n  env = { DB = \"x${lower(var.db_password)}\" }\n}\n"
		_, _, diags := Parse("kantree.hcl", []byte(src), opts)
		d := findDiag(t, diags, "Sensitive value in deployment")
		if d.Subject.Start.Line != 11 {
			t.Errorf("diagnostic at line %d, want 11", d.Subject.Start.Line)
		}
		if strings.Contains(diagText(diags), secret) {
			t.Errorf("diagnostics repeat the secret:\n%s", diagText(diags))
		}
	})
}

func TestExamplesAndInitTemplateLoad(t *testing.T) {
	files, err := filepath.Glob("../examples/*/kantree.hcl")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			_, _, diags := Load(f, LoadOptions{})
			if len(diags) != 0 {
				t.Errorf("diagnostics:\n%s", diagText(diags))
			}
		})
	}
	t.Run("init template", func(t *testing.T) {
		_, _, diags := Parse("kantree.hcl", InitTemplate, LoadOptions{})
		if len(diags) != 0 {
			t.Errorf("diagnostics:\n%s", diagText(diags))
		}
	})
}

func findDiag(t *testing.T, diags hcl.Diagnostics, summary string) *hcl.Diagnostic {
	t.Helper()
	for _, d := range diags {
		if d.Summary == summary {
			return d
		}
	}
	t.Fatalf("no %q diagnostic in:\n%s", summary, diagText(diags))
	return nil
}

func diagText(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Error() + "\n")
	}
	return b.String()
}

// TestPlacementDefaults: standbys keep off the holder's node unless the
// file says otherwise; web and push spread over nodes unless the file has
// a spread of its own; worker gets neither.
func TestPlacementDefaults(t *testing.T) {
	byKind := func(dep *Deployment) map[string]*Process {
		m := map[string]*Process{}
		for _, p := range dep.Processes {
			m[p.Kind] = p
		}
		return m
	}
	tests := []struct {
		name          string
		extra         string
		schedDistinct bool
		webSpread     string
		pushSpreads   int
	}{
		{name: "no standby", extra: ``, schedDistinct: false, webSpread: NodeSpreadAttribute, pushSpreads: 1},
		{name: "standby", extra: `scheduler_lock { standbys = 1 }`, schedDistinct: true, webSpread: NodeSpreadAttribute, pushSpreads: 1},
		{name: "standby, operator says same node is fine",
			extra:         "scheduler_lock { standbys = 1 }\nprocess \"scheduler\" { distinct_hosts = false }",
			schedDistinct: false, webSpread: NodeSpreadAttribute, pushSpreads: 1},
		{name: "own spread replaces the default",
			extra:     "process \"web\" {\n spread { attribute = \"$${node.datacenter}\" }\n}",
			webSpread: "${node.datacenter}", pushSpreads: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := byKind(mustParse(t, minimal+tc.extra, LoadOptions{}))
			if got := m["scheduler"].DistinctHosts; got != tc.schedDistinct {
				t.Errorf("scheduler distinct_hosts = %v, want %v", got, tc.schedDistinct)
			}
			if sp := m["web"].Spreads; len(sp) != 1 || sp[0].Attribute != tc.webSpread {
				t.Errorf("web spreads = %+v, want one over %s", sp, tc.webSpread)
			}
			if got := len(m["push"].Spreads); got != tc.pushSpreads {
				t.Errorf("push has %d spreads, want %d", got, tc.pushSpreads)
			}
			if got := len(m["worker"].Spreads); got != 0 || m["worker"].DistinctHosts {
				t.Errorf("worker placement %+v, want none", m["worker"])
			}
		})
	}
}
