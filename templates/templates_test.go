package templates

import (
	"regexp"
	"strings"
	"testing"
)

func lbData(sticky string) map[string]any {
	return map[string]any{
		"Job": "kantree", "Release": "8.4.1", "ServerName": "kantree.example.com", "Listen": 80,
		"WebService": "kantree-web", "PushService": "kantree-push", "PushPath": "/socket.io/",
		"Sticky": sticky, "CookieName": "kantree_push", "Prefix": "kantree", "ConsulAddr": "127.0.0.1:8500",
		"ConfigPath": "/etc/ct/ct.hcl", "TemplatePath": "/etc/ct/nginx.conf.ctmpl", "NginxConfPath": "/etc/nginx/conf.d/kantree.conf",
		"ReloadScript": "nginx -t && nginx -s reload || true",
		"RoutedTag":    "routed", "Canaries": "hold", "HealthPath": "/.kantree-lb/health", "RetryAfter": 30,
		"MaintenanceKey": "kantree/kantree/maintenance", "TLS": nil, "InJob": false,
	}
}

// TestTLSWatchActionsPassThrough: with TLS on hosts, the site watches the
// certificate and key through consul-template's file function.
func TestTLSWatchActionsPassThrough(t *testing.T) {
	d := lbData("cookie")
	d["TLS"] = map[string]any{"Listen": 443, "RedirectHTTP": true, "PortSuffix": "", "HSTS": "max-age=63072000",
		"Certificate": "/etc/ssl/k/fullchain.pem", "Key": "/etc/ssl/k/privkey.pem", "Ciphers": "X", "Watch": true}
	out, err := Render("lb/nginx.conf.ctmpl", d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`{{ file "/etc/ssl/k/fullchain.pem" | sha256Hex }}`, `{{ file "/etc/ssl/k/privkey.pem" | sha256Hex }}`,
		"listen 443 ssl;", "return 301 https://$host$request_uri;", `on      "max-age=63072000";`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("TLS site lacks %q", want)
		}
	}
}

var action = regexp.MustCompile(`\{\{.*?\}\}`)

// TestConsulTemplateActionsPassThrough: our [[ ]] actions are replaced, and
// consul-template's {{ }} actions come out exactly as written.
func TestConsulTemplateActionsPassThrough(t *testing.T) {
	for _, sticky := range []string{"cookie", "ip"} {
		out, err := Render("lb/nginx.conf.ctmpl", lbData(sticky))
		if err != nil {
			t.Fatal(err)
		}
		got := action.FindAllString(string(out), -1)
		want := []string{
			`{{- range service "routed.kantree-web" }}`, `{{ .Address }}`, `{{ .Port }}`, `{{- else }}`, `{{- end }}`,
			`{{- range service "routed.kantree-push" }}`, `{{ .Address }}`, `{{ .Port }}`, `{{- else }}`, `{{- end }}`,
			`{{- if keyExists "kantree/kantree/maintenance" }}`,
			`{{- range keyOrDefault "kantree/kantree/maintenance" "" | split "\n" }}`, `{{ $net := . | trimSpace }}`,
			`{{ if $net | regexMatch "^[0-9a-fA-F.:]+/[0-9]+$" }}`, `{{ $net }}`, `{{- end }}`, `{{ end }}`, `{{- else }}`, `{{- end }}`,
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("sticky %s: consul-template actions\n got %q\nwant %q", sticky, got, want)
		}
		if strings.Contains(string(out), "[[") || strings.Contains(string(out), "]]") {
			t.Errorf("sticky %s: an action of ours was left in the output", sticky)
		}
		hash := map[string]string{"cookie": "hash $kantree_push_key consistent;", "ip": "hash $remote_addr consistent;"}[sticky]
		if !strings.Contains(string(out), hash) {
			t.Errorf("sticky %s: no %q", sticky, hash)
		}
	}
}

func TestNomadTemplateBodies(t *testing.T) {
	secrets := map[string]any{
		"Provider": "nomad", "Path": "nomad/jobs/kantree", "Lookup": `nomadVar "nomad/jobs/kantree"`, "Scope": ".", "OptionalScope": ".ItemsMap",
		"DatabaseURLKey": "database_url", "RedisURLKey": "redis_url", "LicenseKey": "license", "SecretKeyKey": "secret_key",
		"ConsulTokenKey": "consul_token", "ConsulToken": true,
	}
	out, err := Render("nomad/secrets.env.tmpl", secrets)
	if err != nil {
		t.Fatal(err)
	}
	want := "{{ with nomadVar \"nomad/jobs/kantree\" -}}\nDATABASE_URL={{ index . \"database_url\" }}\nREDIS_URL={{ index . \"redis_url\" }}\n" +
		"{{ with index .ItemsMap \"consul_token\" }}CONSUL_HTTP_TOKEN={{ . }}\n{{ end -}}\n{{ end -}}"
	if strings.TrimSpace(string(out)) != want {
		t.Errorf("secrets env template:\n got %q\nwant %q", out, want)
	}
}

func TestEveryTemplateParsed(t *testing.T) {
	names := Names()
	for _, want := range []string{"lb/nginx.conf.ctmpl", "lb/consul-template.hcl", "acl/consul-scheduler-lock.policy.hcl",
		"acl/nomad-deploy.policy.hcl", "nomad/config-prod.yml.tmpl", "nomad/secrets.env.tmpl", "nomad/license.tmpl", "runbook/README.md"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("template %s missing; have %v", want, names)
		}
	}
	if _, err := Render("nope", nil); err == nil {
		t.Error("rendering an unknown template succeeded")
	}
}

func TestStringLiterals(t *testing.T) {
	cases := map[string][2]string{
		`a "b" ${c} %{d}`: {`"a \"b\" $${c} %%{d}"`, `"a \"b\" ${c} %{d}"`},
		"x&<y>\n":         {`"x&<y>\n"`, `"x&<y>\n"`},
	}
	for in, want := range cases {
		if got := HCLString(in); got != want[0] {
			t.Errorf("HCLString(%q) = %s, want %s", in, got, want[0])
		}
		if got := JSONString(in); got != want[1] {
			t.Errorf("JSONString(%q) = %s, want %s", in, got, want[1])
		}
	}
}
