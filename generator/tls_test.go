package generator

import (
	"slices"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// tlsSources are deployments with load_balancer.tls, rendered into golden
// files (testdata/tls-*) like the examples: Traefik's router tags, nginx
// on hosts with redirect and HSTS, and the nginx system job reading its
// certificate from Nomad Variables and from Vault.
var tlsSources = map[string]string{
	"tls-traefik": `
load_balancer {
  kind = "traefik"
  tls {
    cert_resolver = "letsencrypt"
  }
}
`,
	"tls-nginx-nomad": `
load_balancer {
  system_job {}
  tls {
    source       = "nomad"
    hsts         = true
    hsts_max_age = "8760h"
  }
}
`,
	"tls-nginx-vault-pki": `
secrets {
  provider   = "vault"
  vault_role = "kantree"
}
load_balancer {
  listen = 8080
  system_job {}
  tls {
    listen        = 8443
    redirect_http = false
    source        = "vault_pki"
    path          = "pki/issue/kantree"
  }
}
`,
}

const tlsBase = `job = "kantree"
datacenters = ["dc1"]
kantree {
  version     = "8.4.1"
  server_name = "kantree.example.com"
  archive { url = "https://example.com/kantree-8.4.1.tar.gz" }
}
process "push" {}
`

func tlsCases(t *testing.T) []testCase {
	t.Helper()
	var out []testCase
	for name, src := range tlsSources {
		d, _, diags := jobspec.Parse(name+".hcl", []byte(tlsBase+src), jobspec.LoadOptions{})
		if diags.HasErrors() {
			t.Fatalf("%s: %s", name, diags)
		}
		out = append(out, testCase{name, d})
	}
	return out
}

// TestTLSTraefikTags: with a tls block, every Traefik router of web and
// push is TLS with the named resolver, on the websecure entrypoint.
func TestTLSTraefikTags(t *testing.T) {
	for _, tc := range tlsCases(t) {
		if tc.name != "tls-traefik" {
			continue
		}
		b, err := Generate(tc.d)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range b.Service.TaskGroups {
			for _, s := range g.Services {
				if !slices.Contains(s.Tags, "traefik.enable=true") {
					continue
				}
				r := "traefik.http.routers." + s.Name
				for _, want := range []string{r + ".tls=true", r + ".tls.certresolver=letsencrypt", r + ".entrypoints=websecure"} {
					if !slices.Contains(s.Tags, want) {
						t.Errorf("service %s tags %v lack %s", s.Name, s.Tags, want)
					}
				}
			}
		}
	}
}

// TestTLSSecretsStayInTemplates: the system job's certificate is read by
// a template into the task's secrets directory, SIGHUP on change; no
// rendered file holds a certificate or key.
func TestTLSSecretsStayInTemplates(t *testing.T) {
	for _, tc := range tlsCases(t) {
		if !strings.HasPrefix(tc.name, "tls-nginx") {
			continue
		}
		b, err := Generate(tc.d)
		if err != nil {
			t.Fatal(err)
		}
		task := b.LB.TaskGroups[0].Tasks[0]
		var found bool
		for _, tmpl := range task.Templates {
			if *tmpl.DestPath == "secrets/kantree-tls.pem" {
				found = true
				if tc.name == "tls-nginx-nomad" && !strings.Contains(*tmpl.EmbeddedTmpl, `nomadVar "nomad/jobs/kantree-lb"`) {
					t.Errorf("%s: certificate template %q does not read the LB job's own variable", tc.name, *tmpl.EmbeddedTmpl)
				}
				if *tmpl.ChangeMode != "signal" || *tmpl.ChangeSignal != "SIGHUP" || *tmpl.Perms != "0600" {
					t.Errorf("%s: certificate template %+v; want SIGHUP on change, 0600", tc.name, tmpl)
				}
			}
		}
		if !found {
			t.Errorf("%s: no certificate template in the LB task", tc.name)
		}
		for _, f := range render(t, tc.d, "hcl") {
			if strings.Contains(string(f.Data), "BEGIN ") {
				t.Errorf("%s: %s holds PEM data", tc.name, f.Path)
			}
		}
	}
}
