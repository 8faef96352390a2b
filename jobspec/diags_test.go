package jobspec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// After minimal (6 lines), appended text starts on line 7.
const afterMinimal = 7

func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name        string
		src         string // appended to minimal unless full is set
		full        bool
		opts        LoadOptions
		wantSummary string
		wantLine    int
		wantDetail  string // a fragment of the detail
	}{
		{name: "huge count", src: "process \"web\" {\n  count = 2147483648\n}\n", wantSummary: "Value out of range", wantLine: 8, wantDetail: "between 1 and"},
		{name: "archive root outside local", full: true, src: "kantree {\n  version = \"8.1\"\n  server_name = \"a\"\n  root = \"../../etc\"\n  archive { url = \"u\" }\n}\n", wantSummary: "Invalid Kantree root", wantLine: 4, wantDetail: "under local/"},
		{name: "docker root relative", full: true, src: "kantree {\n  version = \"8.1\"\n  server_name = \"a\"\n  root = \"opt/k\"\n  docker { image = \"i\" }\n}\n", wantSummary: "Invalid Kantree root", wantLine: 4, wantDetail: "absolute"},
		{name: "secrets path with quotes", src: "secrets {\n  path = \"nomad/jobs/\\\"x\"\n}\n", wantSummary: "Invalid secrets path", wantLine: 8},
		{name: "lock key with dot dot", src: "scheduler_lock {\n  key = \"kantree/../../other/lock\"\n}\n", wantSummary: "Invalid lock key", wantLine: 8, wantDetail: `".." segment`},
		{name: "lock key with double slash", src: "scheduler_lock {\n  key = \"kantree//x\"\n}\n", wantSummary: "Invalid lock key", wantLine: 8, wantDetail: "empty segment"},
		{name: "BIND_ADDR in env", src: "process \"web\" {\n  env = { BIND_ADDR = \"0.0.0.0\" }\n}\n", wantSummary: "Reserved environment variable", wantLine: 8},
		{name: "CONSUL_HTTP_ADDR in env", src: "process \"scheduler\" {\n  env = { CONSUL_HTTP_ADDR = \"x:1\" }\n}\n", wantSummary: "Reserved environment variable", wantLine: 8},
		{name: "nomad version too old", src: "nomad_version = \"1.5.6\"\n", wantSummary: "Unsupported Nomad version", wantLine: 7, wantDetail: "1.6 or later"},
		{name: "nomad version not a version", src: "nomad_version = \"latest\"\n", wantSummary: "Unsupported Nomad version", wantLine: 7},
		{name: "vault role on nomad 1.6", src: "nomad_version = \"1.6\"\nsecrets {\n  provider = \"vault\"\n  path = \"secret/data/k\"\n  vault_role = \"kantree\"\n}\n", wantSummary: "Not available on Nomad 1.6", wantLine: 11, wantDetail: "since 1.7"},
		{name: "vault policies on nomad 1.10", src: "secrets {\n  provider = \"vault\"\n  vault_policies = [\"kantree\"]\n}\n", wantSummary: "Not available on Nomad 1.10", wantLine: 9, wantDetail: "vault_role"},
		{name: "vault on nomad 1.6 without policies", src: "nomad_version = \"1.6\"\nsecrets {\n  provider = \"vault\"\n}\n", wantSummary: "Missing required argument", wantLine: 8, wantDetail: "vault_policies"},
		{name: "consul address with scheme", src: "consul {\n  address = \"http://127.0.0.1:8500\"\n}\n", wantSummary: "Invalid Consul address", wantLine: 8},
		{name: "consul ca_file without tls", src: "consul {\n  ca_file = \"/etc/consul.d/ca.pem\"\n}\n", wantSummary: "Incomplete arguments", wantLine: 8, wantDetail: "tls = true"},
		{name: "min healthy above healthy deadline", src: "process \"web\" {\n  min_healthy_time = \"6m\"\n}\n", wantSummary: "Deployment timings out of order", wantLine: 8, wantDetail: "healthy_deadline (5m0s)"},
		{name: "progress deadline below healthy deadline", src: "process \"worker\" {\n  progress_deadline = \"1m\"\n}\n", wantSummary: "Deployment timings out of order", wantLine: 8},
		// Values that would become nginx directives, consul-template actions or shell words are refused.
		{name: "server name with an nginx directive", full: true, src: "kantree {\n  version = \"8.1\"\n  server_name = \"a.example.com; return 200\"\n  archive { url = \"u\" }\n}\n", wantSummary: "Invalid server name", wantLine: 3},
		{name: "site path with a template action", src: "load_balancer {\n  nginx {\n    site = \"/etc/nginx/{{ env \\\"X\\\" }}.conf\"\n  }\n}\n", wantSummary: "Invalid site path", wantLine: 9},
		{name: "reload command with a shell separator", src: "load_balancer {\n  nginx {\n    reload_command = [\"nginx\", \"-s\", \"reload; rm -rf /\"]\n  }\n}\n", wantSummary: "Invalid command word", wantLine: 9},
		{name: "queue with a template action", src: "worker_group \"low\" {\n  queues = [\"{{x}}\"]\n}\n", wantSummary: "Invalid queue name", wantLine: 8},
		{name: "unknown attribute", src: "process \"web\" {\n  cpus = 2\n}\n", wantSummary: "Unsupported argument", wantLine: 8, wantDetail: `Did you mean "cpu"?`},
		{name: "unknown block", src: "proces \"web\" {}\n", wantSummary: "Unsupported block type", wantLine: 7},
		{name: "wrong type", src: "process \"web\" {\n  count = \"many\"\n}\n", wantSummary: "Incorrect attribute value type", wantLine: 8, wantDetail: "a number is required"},
		{name: "fractional count", src: "process \"web\" {\n  count = 1.5\n}\n", wantSummary: "Invalid number", wantLine: 8},
		{name: "negative count", src: "process \"worker\" {\n  count = -1\n}\n", wantSummary: "Value out of range", wantLine: 8, wantDetail: "between 1 and 1000"},
		{name: "zero count", src: "worker_group \"low\" {\n  count = 0\n}\n", wantSummary: "Value out of range", wantLine: 8},
		{name: "missing kantree block", full: true, src: "job = \"x\"\n", wantSummary: "Missing kantree block", wantLine: 1},
		{name: "missing version", full: true, src: "kantree {\n  server_name = \"a\"\n  archive { url = \"u\" }\n}\n", wantSummary: "Missing required argument", wantLine: 1, wantDetail: `"version"`},
		{name: "missing archive url", full: true, src: "kantree {\n  version = \"8.1\"\n  server_name = \"a\"\n  archive { }\n}\n", wantSummary: "Missing required argument", wantLine: 4, wantDetail: `"url"`},
		{name: "bad version", full: true, src: "kantree {\n  version = \"latest\"\n  server_name = \"a\"\n  archive { url = \"u\" }\n}\n", wantSummary: "Invalid Kantree version", wantLine: 2},
		{name: "version with a leading zero", full: true, src: "kantree {\n  version = \"08.4\"\n  server_name = \"a\"\n  archive { url = \"u\" }\n}\n", wantSummary: "Invalid Kantree version", wantLine: 2, wantDetail: "leading zeros"},
		{name: "patch with a leading zero", full: true, src: "kantree {\n  version = \"8.4.01\"\n  server_name = \"a\"\n  archive { url = \"u\" }\n}\n", wantSummary: "Invalid Kantree version", wantLine: 2, wantDetail: "migrate and preflight"},
		{name: "version with an interpolation", full: true, src: "kantree {\n  version = \"8.4-$${x}\"\n  server_name = \"a\"\n  archive { url = \"u\" }\n}\n", wantSummary: "Invalid Kantree version", wantLine: 2},
		{name: "archive and docker", full: true, src: "kantree {\n  version = \"8.1\"\n  server_name = \"a\"\n  archive { url = \"u\" }\n  docker { image = \"i\" }\n}\n", wantSummary: "Conflicting delivery blocks", wantLine: 5, wantDetail: "kantree.hcl:4"},
		{name: "no delivery", full: true, src: "kantree {\n  version = \"8.1\"\n  server_name = \"a\"\n}\n", wantSummary: "Missing delivery block", wantLine: 1},
		{name: "bad driver", full: true, src: "kantree {\n  version = \"8.1\"\n  server_name = \"a\"\n  archive {\n    url = \"u\"\n    driver = \"docker\"\n  }\n}\n", wantSummary: "Invalid value for driver", wantLine: 6},
		{name: "unset variable", src: "variable \"dc\" {\n  type = string\n}\ndatacenters = [var.dc]\n", wantSummary: "Unset variable", wantLine: 7, wantDetail: "KANTREE_NOMAD_VAR_dc"},
		{name: "undeclared -var", opts: LoadOptions{Vars: []string{"nope=1"}}, wantSummary: "Value for undeclared variable", wantDetail: `"nope"`},
		{name: "-var without =", opts: LoadOptions{Vars: []string{"nope"}}, wantSummary: "Invalid -var option"},
		{name: "bad -var value for type", src: "variable \"n\" {\n  type = number\n}\n", opts: LoadOptions{Vars: []string{"n=abc"}}, wantSummary: "Invalid value for variable", wantLine: 7},
		{name: "undeclared variable reference", src: "region = var.nope\n", wantSummary: "Unsupported attribute", wantLine: 7},
		{name: "duplicate variable", src: "variable \"a\" { default = 1 }\nvariable \"a\" { default = 2 }\n", wantSummary: "Duplicate variable declaration", wantLine: 8, wantDetail: "kantree.hcl:7"},
		{name: "duplicate process", src: "process \"web\" {}\nprocess \"web\" {}\n", wantSummary: "Duplicate process block", wantLine: 8, wantDetail: "Another was defined at kantree.hcl:7"},
		{name: "duplicate worker group", src: "worker_group \"low\" {}\nworker_group \"low\" {}\n", wantSummary: "Duplicate worker_group block", wantLine: 8},
		{name: "duplicate singleton block", src: "secrets {}\nsecrets {}\n", wantSummary: "Duplicate secrets block", wantLine: 8},
		{name: "unknown process kind", src: "process \"cron\" {}\n", wantSummary: "Unknown process kind", wantLine: 7},
		{name: "realtime on a push release", src: "process \"realtime\" {}\n", wantSummary: "Wrong name for the push process", wantLine: 7},
		{name: "bad duration", src: "process \"web\" {\n  kill_timeout = \"10 seconds\"\n}\n", wantSummary: "Invalid duration", wantLine: 8},
		{name: "zero duration", src: "scheduler_lock {\n  ttl = \"0s\"\n}\n", wantSummary: "Invalid duration", wantLine: 8},
		{name: "scheduler count", src: "process \"scheduler\" {\n  count = 2\n}\n", wantSummary: "Scheduler count is derived", wantLine: 8, wantDetail: "standbys"},
		{name: "port on worker", src: "process \"worker\" {\n  port = 8000\n}\n", wantSummary: "Argument does not apply to worker", wantLine: 8},
		{name: "port out of range", src: "process \"web\" {\n  port = 70000\n}\n", wantSummary: "Value out of range", wantLine: 8},
		{name: "port collision", src: "process \"push\" {\n  port = 5000\n}\n", wantSummary: "Port collision", wantLine: 8},
		{name: "fabio with push count 2", src: "process \"push\" {\n  count = 2\n}\nload_balancer {\n  kind = \"fabio\"\n}\n", wantSummary: "Fabio cannot balance push instances", wantLine: 8, wantDetail: "nginx"},
		{name: "unknown lb kind", src: "load_balancer {\n  kind = \"haproxy\"\n}\n", wantSummary: "Invalid value for kind", wantLine: 8},
		{name: "unknown sticky mode", src: "load_balancer {\n  sticky = \"session\"\n}\n", wantSummary: "Invalid value for sticky", wantLine: 8, wantDetail: `"cookie", "ip"`},
		{name: "traefik ip sticky", src: "load_balancer {\n  kind = \"traefik\"\n  sticky = \"ip\"\n}\n", wantSummary: "Traefik has no IP stickiness", wantLine: 9},
		{name: "listen with traefik", src: "load_balancer {\n  kind = \"traefik\"\n  listen = 8080\n}\n", wantSummary: "Argument does not apply to traefik", wantLine: 9},
		{name: "lock delay below kill grace", src: "scheduler_lock {\n  lock_delay = \"3s\"\n  kill_grace = \"2s\"\n}\n", wantSummary: "Unsafe scheduler lock timings", wantLine: 8, wantDetail: "lock_delay"},
		{name: "ttl below consul minimum", src: "scheduler_lock {\n  ttl = \"5s\"\n}\n", wantSummary: "Unsafe scheduler lock timings", wantLine: 8, wantDetail: "ttl"},
		{name: "kill grace near ttl", src: "scheduler_lock {\n  ttl = \"10s\"\n  lock_delay = \"20s\"\n  kill_grace = \"9s\"\n}\n", wantSummary: "Unsafe scheduler lock timings", wantLine: 10, wantDetail: "kill_grace"},
		{name: "scheduler kill_timeout too short", src: "process \"scheduler\" {\n  kill_timeout = \"2s\"\n}\n", wantSummary: "Unsafe scheduler lock timings", wantLine: 8, wantDetail: "kill_timeout"},
		{name: "check ttl above ttl", src: "scheduler_lock {\n  check_ttl = \"12s\"\n}\n", wantSummary: "Unsafe scheduler lock check TTL", wantLine: 8},
		{name: "typo count", src: "process \"web\" {\n  count = 1000000000\n}\n", wantSummary: "Value out of range", wantLine: 8, wantDetail: "between 1 and 1000"},
		{name: "overflowing count", src: "process \"worker\" {\n  count = 99999999999999999999999\n}\n", wantSummary: "Number overflows", wantLine: 8, wantDetail: "1e+23, overflows"},
		{name: "huge memory", src: "process \"worker\" {\n  memory = 4000000000\n}\n", wantSummary: "Value out of range", wantLine: 8, wantDetail: "between 10 and 1048576"},
		{name: "huge cpu", src: "process \"web\" {\n  cpu = 1000000\n}\n", wantSummary: "Value out of range", wantLine: 8, wantDetail: "between 1 and 256000"},
		{name: "many standbys", src: "scheduler_lock {\n  standbys = 100\n}\n", wantSummary: "Value out of range", wantLine: 8, wantDetail: "between 0 and 16"},
		{name: "negative standbys", src: "scheduler_lock {\n  standbys = -1\n}\n", wantSummary: "Value out of range", wantLine: 8},
		{name: "unknown secrets provider", src: "secrets {\n  provider = \"aws\"\n}\n", wantSummary: "Invalid value for provider", wantLine: 8},
		{name: "vault role without vault", src: "secrets {\n  vault_role = \"r\"\n}\n", wantSummary: "Incomplete arguments", wantLine: 8},
		{name: "secret-looking setting", src: "config {\n  settings = { smtp_password = \"x\" }\n}\n", wantSummary: "Secret in config settings", wantLine: 8},
		{name: "reserved setting", src: "config {\n  settings = { database_url = \"x\" }\n}\n", wantSummary: "Reserved config setting", wantLine: 8},
		{name: "credentials in setting", src: "config {\n  settings = { cache = \"redis://u:pw@h:6379\" }\n}\n", wantSummary: "Credentials in URL", wantLine: 8},
		{name: "reserved env", src: "process \"web\" {\n  env = { DATABASE_URL = \"x\" }\n}\n", wantSummary: "Reserved environment variable", wantLine: 8},
		{name: "secret-looking env", src: "process \"web\" {\n  env = { API_TOKEN = \"x\" }\n}\n", wantSummary: "Secret in env", wantLine: 8},
		{name: "bad checksum", src: "kantree_nomad {\n  url = \"https://e/x\"\n  checksum = \"sha256:abc\"\n}\n", wantSummary: "Invalid checksum", wantLine: 9},
		{name: "binary url and path", src: "kantree_nomad {\n  url = \"https://e/x\"\n  path = \"/bin/x\"\n}\n", wantSummary: "Conflicting arguments", wantLine: 9},
		{name: "queue twice", src: "worker_group \"a\" {\n  queues = [\"low\"]\n}\nworker_group \"b\" {\n  queues = [\"low\"]\n}\n", wantSummary: "Queue listed twice", wantLine: 11},
		{name: "queue setting no worker serves", src: "config {\n  settings = {\n    queue_automations = \"automations\"\n  }\n}\n", wantSummary: "Queue served by no worker", wantLine: 9, wantDetail: "external_queues"},
		{name: "second queue setting unserved", src: "worker_group \"low\" {}\nconfig {\n  settings = {\n    queue_related_cards = \"low\"\n    queue_batch_actions = \"batch\"\n  }\n}\n", wantSummary: "Queue served by no worker", wantLine: 11, wantDetail: "served: default, low"},
		{name: "queue setting a number", src: "config {\n  settings = {\n    queue_automations = 3\n  }\n}\n", wantSummary: "Wrong type for setting", wantLine: 9, wantDetail: "a string"},
		{name: "queue setting a bool", src: "config {\n  settings = { queue_batch_actions = true }\n}\n", wantSummary: "Wrong type for setting", wantLine: 8},
		{name: "external queue name with action", src: "config {\n  external_queues = [\"{{x}}\"]\n}\n", wantSummary: "Invalid queue name", wantLine: 8},
		{name: "tls with fabio", src: "load_balancer {\n  kind = \"fabio\"\n  tls {}\n}\n", wantSummary: "Fabio cannot take TLS from service tags", wantLine: 9, wantDetail: "proxy.addr"},
		{name: "tls certificate file with traefik", src: "load_balancer {\n  kind = \"traefik\"\n  tls {\n    certificate_file = \"/etc/c.pem\"\n  }\n}\n", wantSummary: "Argument does not apply to traefik", wantLine: 10, wantDetail: "cert_resolver"},
		{name: "tls redirect with traefik", src: "load_balancer {\n  kind = \"traefik\"\n  tls {\n    redirect_http = false\n  }\n}\n", wantSummary: "Argument does not apply to traefik", wantLine: 10},
		{name: "tls cert resolver with nginx", src: "load_balancer {\n  tls {\n    cert_resolver = \"le\"\n  }\n}\n", wantSummary: "Argument does not apply to nginx", wantLine: 9},
		{name: "tls source nomad without system job", src: "load_balancer {\n  tls {\n    source = \"nomad\"\n  }\n}\n", wantSummary: "Certificate source without the system job", wantLine: 9},
		{name: "tls files in exec chroot", src: "load_balancer {\n  system_job {}\n  tls {\n    hsts = true\n  }\n}\n", wantSummary: "Certificate files unseen by the system job", wantLine: 9},
		{name: "tls vault without vault login", src: "load_balancer {\n  system_job {}\n  tls {\n    source = \"vault_kv\"\n  }\n}\n", wantSummary: "Certificate from Vault without a Vault login", wantLine: 10},
		{name: "tls port is the http port", src: "load_balancer {\n  listen = 8080\n  tls {\n    listen = 8080\n  }\n}\n", wantSummary: "Port collision", wantLine: 10},
		{name: "tls certificate path with an action", src: "load_balancer {\n  tls {\n    certificate_file = \"/etc/{{x}}.pem\"\n  }\n}\n", wantSummary: "Invalid certificate path", wantLine: 9},
		{name: "tls variable path with an interpolation", src: "load_balancer {\n  system_job {}\n  tls {\n    source = \"nomad\"\n    path = \"nomad/jobs/$${x}\"\n  }\n}\n", wantSummary: "Invalid certificate path in Nomad Variables or Vault", wantLine: 11},
		{name: "tls pki without path", src: "secrets {\n  provider = \"vault\"\n  vault_role = \"k\"\n}\nload_balancer {\n  system_job {}\n  tls {\n    source = \"vault_pki\"\n  }\n}\n", wantSummary: "Missing required argument", wantLine: 14, wantDetail: "pki/issue"},
		{name: "bad worker group name", src: "worker_group \"Low Prio\" {}\n", wantSummary: "Invalid worker group name", wantLine: 7},
		{name: "empty datacenters", src: "datacenters = []\n", wantSummary: "Empty list", wantLine: 7},
		{name: "bad job name", src: "job = \"my job\"\n", wantSummary: "Invalid job name", wantLine: 7},
		{name: "newline in a string", src: "region = \"eu\\nx\"\n", wantSummary: "Control character in value", wantLine: 7},
		{name: "newline in a setting", src: "config {\n  settings = { a = \"x\\ny\" }\n}\n", wantSummary: "Control character in value", wantLine: 8},
		{name: "bad traefik entrypoint", src: "load_balancer {\n  kind = \"traefik\"\n  entrypoint = \"web,admin\"\n}\n", wantSummary: "Invalid Traefik entrypoint", wantLine: 9},
		{name: "upper-case job name", src: "job = \"Kantree\"\n", wantSummary: "Invalid job name", wantLine: 7},
		{name: "server name with scheme", full: true, src: "kantree {\n  version = \"8.1\"\n  server_name = \"https://a.example.com\"\n  archive { url = \"u\" }\n}\n", wantSummary: "Invalid server name", wantLine: 3},
		{name: "spread targets above 100", src: "process \"web\" {\n  spread {\n    attribute = \"x\"\n    target \"a\" { percent = 60 }\n    target \"b\" { percent = 60 }\n  }\n}\n", wantSummary: "Spread targets above 100%", wantLine: 8},
		{name: "bad constraint operator", src: "process \"web\" {\n  constraint {\n    attribute = \"x\"\n    operator = \"~\"\n    value = \"y\"\n  }\n}\n", wantSummary: "Invalid value for operator", wantLine: 10},
		{name: "syntax error", src: "process \"web\" {\n  count = \n}\n", wantSummary: "Invalid expression", wantLine: 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			if !tc.full {
				src = minimal + tc.src
			}
			dep, _, diags := Parse("kantree.hcl", []byte(src), tc.opts)
			if dep != nil {
				t.Errorf("got a deployment despite errors")
			}
			d := findDiag(t, diags, tc.wantSummary)
			if tc.wantLine != 0 && (d.Subject == nil || d.Subject.Start.Line != tc.wantLine) {
				t.Errorf("diagnostic at %v, want line %d", d.Subject, tc.wantLine)
			}
			if tc.wantLine == 0 && d.Subject != nil && d.Subject.Filename != "kantree.hcl" {
				t.Errorf("diagnostic at %v", d.Subject)
			}
			if !strings.Contains(d.Detail, tc.wantDetail) {
				t.Errorf("detail %q does not contain %q", d.Detail, tc.wantDetail)
			}
			if !strings.HasSuffix(strings.TrimSpace(d.Detail), ".") && !strings.HasSuffix(d.Detail, "?") {
				t.Errorf("detail %q does not end a sentence", d.Detail)
			}
		})
	}
}

func TestVarFileUndeclaredIsWarning(t *testing.T) {
	f := filepath.Join(t.TempDir(), "prod.hcl")
	if err := os.WriteFile(f, []byte("db_password = \"hunter2\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dep, _, diags := Parse("kantree.hcl", []byte(minimal), LoadOptions{VarFiles: []string{f}})
	if dep == nil || diags.HasErrors() {
		t.Fatalf("want a deployment and only warnings, got:\n%s", diagText(diags))
	}
	d := findDiag(t, diags, "Value for undeclared variable")
	if d.Subject.Filename != f || d.Subject.Start.Line != 1 || strings.Contains(d.Detail, "hunter2") {
		t.Errorf("warning %s", d.Error())
	}
}

func TestLockTimingRangeMapping(t *testing.T) {
	// Every field CheckLockTimings can name must map to a range on its line.
	fields := map[string]string{
		"ttl":          "scheduler_lock {\n  ttl = \"30h\"\n}\n",
		"lock_delay":   "scheduler_lock {\n  lock_delay = \"90s\"\n}\n",
		"kill_grace":   "scheduler_lock {\n  ttl = \"10s\"\n  lock_delay = \"60s\"\n  kill_grace = \"9500ms\"\n}\n",
		"kill_timeout": "process \"scheduler\" {\n  kill_timeout = \"3s\"\n}\n",
	}
	for field, src := range fields {
		t.Run(field, func(t *testing.T) {
			_, _, diags := Parse("kantree.hcl", []byte(minimal+src), LoadOptions{})
			d := findDiag(t, diags, "Unsafe scheduler lock timings")
			if !strings.HasPrefix(d.Detail, field+":") {
				t.Errorf("detail %q does not name %s", d.Detail, field)
			}
			line := strings.Split(minimal+src, "\n")[d.Subject.Start.Line-1]
			if !strings.Contains(line, field) {
				t.Errorf("diagnostic points at %q, want the %s line", line, field)
			}
		})
	}
}

// TestQueueRouting: a queue served here, by the main worker (default) or
// another system (external_queues) is accepted; a worker group whose
// queue nothing routes to, or a misspelt queue setting, gives a warning
// at its line.
func TestQueueRouting(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		wantWarning string // summary; "" for none
		wantLine    int
	}{
		{name: "served by a worker group", src: "worker_group \"auto\" {\n  queues = [\"automations\"]\n}\nconfig {\n  settings = { queue_automations = \"automations\" }\n}\n"},
		{name: "served by the main worker", src: "config {\n  settings = { queue_automations = \"default\" }\n}\n"},
		{name: "served by a custom worker command", src: "process \"worker\" {\n  command = [\"./platform\", \"run\", \"worker\", \"--queue=default\", \"--queue\", \"hooks\"]\n}\nconfig {\n  settings = { queue_project_hooks = \"hooks\" }\n}\n"},
		{name: "served elsewhere", src: "config {\n  settings = { queue_automations = \"ext\" }\n  external_queues = [\"ext\"]\n}\n"},
		{name: "worker group nothing routes to", src: "worker_group \"idle\" {\n  queues = [\"idle\"]\n}\n", wantWarning: "Queue nothing routes to", wantLine: 8},
		{name: "misspelt queue setting", src: "config {\n  settings = {\n    queue_automation = \"x\"\n  }\n}\n", wantWarning: "Unknown queue setting", wantLine: 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dep, _, diags := Parse("kantree.hcl", []byte(minimal+tc.src), LoadOptions{})
			if diags.HasErrors() || dep == nil {
				t.Fatalf("refused: %s", diags)
			}
			if tc.wantWarning == "" {
				if len(diags) > 0 {
					t.Fatalf("unexpected diagnostics: %s", diags)
				}
				return
			}
			d := findDiag(t, diags, tc.wantWarning)
			if d.Severity != hcl.DiagWarning || d.Subject == nil || d.Subject.Start.Line != tc.wantLine {
				t.Errorf("got %v at %v, want a warning at line %d", d.Severity, d.Subject, tc.wantLine)
			}
		})
	}
}
