package generator

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"text/template"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/templates"
)

// varItem and varItems follow the documented shape of consul-template's
// nomadVar result (a map of items that print as their value, with an
// ItemsMap method); vaultSecret follows the shape of `secret`. No Nomad or
// Vault binary exists here, so this test executes the generated template
// bodies with Go's text/template against those shapes: it proves the
// syntax and what the files look like, not Nomad's client.
type varItem struct{ Value string }

func (v varItem) String() string               { return v.Value }
func (v varItem) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", v.Value)), nil }
func (v varItems) ItemsMap() map[string]any {
	out := map[string]any{}
	for k, i := range v {
		out[k] = i.Value
	}
	return out
}

type varItems map[string]varItem

type vaultSecret struct{ Data map[string]any }

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func executeNomadTemplate(t *testing.T, body string, values map[string]string) string {
	t.Helper()
	items := varItems{}
	for k, v := range values {
		items[k] = varItem{v}
	}
	data := map[string]any{}
	for k, v := range values {
		data[k] = v
	}
	funcs := template.FuncMap{
		"nomadVar": func(path string) varItems { return items },
		"secret":   func(path string) vaultSecret { return vaultSecret{Data: map[string]any{"data": data}} },
		"toJSON":   toJSON,
	}
	tmpl, err := template.New("t").Funcs(funcs).Parse(body)
	if err != nil {
		t.Fatalf("parse template: %v\n%s", err, body)
	}
	var out strings.Builder
	if err := tmpl.Execute(&out, nil); err != nil {
		t.Fatalf("execute template: %v\n%s", err, body)
	}
	return out.String()
}

func TestNomadTemplateBodies(t *testing.T) {
	values := map[string]string{"database_url": "postgres://kantree:p%40ss@db:5432/kantree", "redis_url": "redis://:r3dis@redis:6379/0",
		"secret_key": `s"k\ey`, "license": "LICENSE-TEXT"}
	for _, name := range []string{"go-basic", "go-ha"} {
		d := testDeployments()[name]
		b, err := Generate(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range b.Service.TaskGroups {
			for _, task := range g.Tasks {
				for _, tmpl := range task.Templates {
					checkTemplate(t, name+"/"+*g.Name+"/"+task.Name, tmpl, values, task.Name == "scheduler")
				}
			}
		}
	}
}

func checkTemplate(t *testing.T, where string, tmpl *api.Template, values map[string]string, scheduler bool) {
	withToken := map[string]string{"consul_token": "c0nsul-t0ken"}
	for k, v := range values {
		withToken[k] = v
	}
	out := executeNomadTemplate(t, *tmpl.EmbeddedTmpl, values)
	switch dest := *tmpl.DestPath; {
	case strings.HasSuffix(dest, "kantree.env"):
		want := "DATABASE_URL=" + values["database_url"] + "\nREDIS_URL=" + values["redis_url"] + "\n"
		if out != want {
			t.Errorf("%s: env file\n got %q\nwant %q", where, out, want)
		}
		if scheduler {
			if got := executeNomadTemplate(t, *tmpl.EmbeddedTmpl, withToken); got != want+"CONSUL_HTTP_TOKEN=c0nsul-t0ken\n" {
				t.Errorf("%s: env file with a Consul token: %q", where, got)
			}
		}
	case strings.HasSuffix(dest, "config-prod.yml"):
		for _, line := range []string{`server_name: "kantree.example.com"`, `database_url: "postgres://kantree:p%40ss@db:5432/kantree"`, `secret_key: "s\"k\\ey"`} {
			if !strings.Contains(out, line+"\n") {
				t.Errorf("%s: config-prod.yml lacks %s:\n%s", where, line, out)
			}
		}
	case strings.HasSuffix(dest, "license.txt"):
		if out != "LICENSE-TEXT\n" {
			t.Errorf("%s: license file %q", where, out)
		}
	default:
		t.Errorf("%s: unexpected template destination %s", where, dest)
	}
}

// TestSettingsAreData: a config setting's value reaches config-prod.yml as
// the same text, however much it looks like template code; in particular it
// can neither break the template nor read the task's environment.
func TestSettingsAreData(t *testing.T) {
	hostile := map[string]string{
		"subject":  "[{{project}}] new card",
		"leak":     `{{ env "CONSUL_HTTP_TOKEN" }}`,
		"braces":   "}} {{- {{/* x */}}",
		"dollar":   "${NOMAD_ALLOC_ID} %{ if x }",
		"quotes":   `"\'` + "\\",
		"unicode":  "é ✓",
		"template": `{{"{{"}}`,
	}
	d := testDeployments()["go-basic"]
	d.Config.Settings = hostile
	b, err := Generate(d)
	if err != nil {
		t.Fatal(err)
	}
	var body string
	for _, tmpl := range b.Service.TaskGroups[0].Tasks[1].Templates {
		if strings.HasSuffix(*tmpl.DestPath, "config-prod.yml") {
			body = *tmpl.EmbeddedTmpl
		}
	}
	out := executeNomadTemplate(t, body, map[string]string{"database_url": "d", "redis_url": "r", "secret_key": "s"})
	for k, v := range hostile {
		want := k + ": " + templates.JSONString(v) + "\n"
		if !strings.Contains(out, want) {
			t.Errorf("config-prod.yml lacks %q:\n%s", want, out)
		}
	}
}
