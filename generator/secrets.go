package generator

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/templates"
)

// secretsView tells the templates where the secrets are read from at run
// time. It holds names and paths only, never a value.
type secretsView struct {
	Provider       string // "nomad" or "vault"
	Path           string
	Lookup         string // the consul-template call that fetches the secrets, e.g. nomadVar "nomad/jobs/kantree"
	Scope          string // the map holding the keys inside {{ with Lookup }}
	OptionalScope  string // same, where a missing key must be falsy
	DatabaseURLKey string
	RedisURLKey    string
	LicenseKey     string
	SecretKeyKey   string
	ConsulTokenKey string
	ConsulToken    bool // the template also exports CONSUL_HTTP_TOKEN (scheduler)
}

func newSecretsView(d *jobspec.Deployment) secretsView {
	s := d.Secrets
	v := secretsView{
		Provider:       s.Provider,
		Path:           s.Path,
		DatabaseURLKey: s.DatabaseURLKey,
		RedisURLKey:    s.RedisURLKey,
		LicenseKey:     s.LicenseKey,
		SecretKeyKey:   s.SecretKeyKey,
		ConsulTokenKey: s.ConsulTokenKey,
	}
	switch v.Provider {
	case "nomad":
		v.Lookup = "nomadVar " + strconv.Quote(v.Path)
		// NomadVarItems is a map of structs: a missing key gives a zero
		// struct, which templates treat as true; ItemsMap gives nil instead.
		v.Scope, v.OptionalScope = ".", ".ItemsMap"
	case "vault":
		v.Lookup = "secret " + strconv.Quote(v.Path)
		v.Scope = ".Data"
		if strings.Contains(v.Path, "/data/") { // KV version 2 nests the keys one level down
			v.Scope = ".Data.data"
		}
		v.OptionalScope = v.Scope
	}
	return v
}

// envTemplate is the body of the secrets env template; withConsulToken
// adds CONSUL_HTTP_TOKEN for the scheduler's supervisor.
func (p *plan) envTemplate(withConsulToken bool) (string, error) {
	v := p.secrets
	v.ConsulToken = withConsulToken
	return renderText("nomad/secrets.env.tmpl", v)
}

func (p *plan) licenseTemplate() (string, error) {
	return renderText("nomad/license.tmpl", p.secrets)
}

// configView is the data of config-prod.yml.
type configView struct {
	Job, Version, ServerName string
	WebPort, PushPort        int
	Settings                 []setting
	Secrets                  secretsView
}

type setting struct{ Key, Value string }

func (p *plan) configTemplate() (string, error) {
	v := configView{Job: p.d.Job, Version: p.d.Kantree.Version, ServerName: p.d.Kantree.ServerName, Secrets: p.secrets}
	if web := p.d.Process("web"); web != nil {
		v.WebPort = web.Port
	}
	if push := p.d.Process("push"); push != nil {
		v.PushPort = push.Port
	}
	// A value is data, never template code: it goes into a Nomad template,
	// where "{{" would start a consul-template action.
	for _, k := range slices.Sorted(maps.Keys(p.d.Config.Settings)) {
		v.Settings = append(v.Settings, setting{k, templates.CTLiteral(yamlScalar(p.d.Config.Settings[k]))})
	}
	return renderText("nomad/config-prod.yml.tmpl", v)
}

// yamlScalar writes numbers and booleans as they are and quotes the rest,
// so that a value never changes type or breaks the YAML.
func yamlScalar(s string) string {
	if s == "true" || s == "false" {
		return s
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXpPnN_") {
		return s
	}
	return templates.JSONString(s)
}

// renderText renders an embedded template whose output becomes a Nomad
// template's data: it always ends with exactly one newline.
func renderText(name string, data any) (string, error) {
	out, err := templates.Render(name, data)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(out), "\n") + "\n", nil
}
