package generator

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/hashicorp/nomad/api"
)

// edgeJob holds what the generator does not produce today but the encoder
// must still print faithfully: dotted meta keys, reserved ports, nested
// driver config blocks, strings with HCL template introducers, heredoc
// markers inside text, numbers of every width.
func edgeJob() *api.Job {
	return &api.Job{
		ID: new("edge"), Name: new("edge-name"), Type: new("service"), Priority: new(70),
		Meta: map[string]string{"team.owner": "ops", "plain": "x"},
		TaskGroups: []*api.TaskGroup{{
			Name: new("g"), Count: new(0),
			Networks: []*api.NetworkResource{{Mode: "bridge", DynamicPorts: []api.Port{{Label: "http", To: 8080}},
				ReservedPorts: []api.Port{{Label: "admin", Value: 9000}}}},
			Spreads: []*api.Spread{{Attribute: "${node.datacenter}", Weight: new(int8(-20)), SpreadTarget: []*api.SpreadTarget{{Value: "dc1", Percent: 100}}}},
			Tasks: []*api.Task{{
				Name: "t", Driver: "docker", KillTimeout: new(90 * time.Second), ShutdownDelay: 1500 * time.Millisecond,
				Config: map[string]any{
					"image": "busybox", "args": []any{"-c", "echo ${HOME} %{x}"}, "privileged": false, "cpu_hard_limit": true,
					"port_map": []map[string]any{{"http": 8080}},
					"mount":    []any{map[string]any{"type": "bind", "source": "a", "target": "/b"}, map[string]any{"type": "tmpfs", "target": "/t"}},
				},
				Env: map[string]string{"A": "${NOMAD_ALLOC_ID}"},
				Templates: []*api.Template{
					{EmbeddedTmpl: new("line one\nEOT\n${x} %{y}\n"), DestPath: new("local/a")},
					{EmbeddedTmpl: new("a\tb\n  indented ${z}\nlast\n"), DestPath: new("local/b"), Splay: new(time.Duration(0))},
					{EmbeddedTmpl: new("no final newline\nsecond"), DestPath: new("local/c")},
				},
				Services: []*api.Service{{Name: "s", Checks: []api.ServiceCheck{{Type: "http", Path: "/", Interval: time.Second, Timeout: time.Second,
					Header: map[string][]string{"X_Token": {"a", "b"}}}}}},
			}},
		}},
	}
}

func TestEncodeHCLEdgeCases(t *testing.T) {
	job := edgeJob()
	checkNomadReadsSame(t, job)
	out, err := EncodeHCL(job)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`job "edge" {`, `name     = "edge-name"`, `meta = {`, `"team.owner" = "ops"`,
		`port "admin" {`, `static = 9000`, `"$${NOMAD_ALLOC_ID}"`, `"1m30s"`, `"1.5s"`,
		"<<EOT\na\tb\n  indented $${z}\nlast\nEOT", `"line one\nEOT\n$${x} %%{y}\n"`, `"no final newline\nsecond"`,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !bytes.Equal(hclwrite.Format(out), out) {
		t.Errorf("hclwrite.Format changes the output")
	}
}

func TestEncodeHCLRefuses(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*api.Job)
		want   string
	}{
		{"untagged field", func(j *api.Job) { j.Stop = new(true) }, "Stop is set but has no HCL form"},
		{"map in driver config", func(j *api.Job) { j.TaskGroups[0].Tasks[0].Config["labels"] = map[string]any{"a": "b"} }, "list of one map"},
		{"non-identifier config key", func(j *api.Job) { j.TaskGroups[0].Tasks[0].Config["a.b"] = "x" }, "not an identifier"},
		{"dotted key where Nomad wants a block", func(j *api.Job) { j.TaskGroups[0].Tasks[0].Services[0].Meta = map[string]string{"a.b": "c"} }, "must be identifiers"},
		{"group without name", func(j *api.Job) { j.TaskGroups[0].Name = nil }, "label (Name) is not set"},
		{"job without ID", func(j *api.Job) { j.ID = nil }, "job has no ID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := edgeJob()
			tc.mutate(job)
			_, err := EncodeHCL(job)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("EncodeHCL error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestEncodeJSONShape(t *testing.T) {
	data, err := EncodeJSON(edgeJob())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("{\n  \"Job\": {\n")) || !bytes.HasSuffix(data, []byte("}\n")) || bytes.HasSuffix(data, []byte("\n\n")) {
		t.Errorf("want {\"Job\": ...} indented with one final newline, got:\n%.200s", data)
	}
	if bytes.Contains(data, []byte(`\u0026`)) {
		t.Errorf("HTML escaping in JSON output")
	}
}

func TestFormatDuration(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond, 1500 * time.Millisecond, 90 * time.Second, 5 * time.Minute, time.Hour + 30*time.Second, 25 * time.Hour, -2 * time.Second} {
		s := formatDuration(d)
		back, err := time.ParseDuration(s)
		if err != nil || back != d {
			t.Errorf("formatDuration(%v) = %q, parses back to %v (%v)", d, s, back, err)
		}
	}
	if got := formatDuration(5 * time.Minute); got != "5m" {
		t.Errorf("formatDuration(5m) = %q, want 5m", got)
	}
}
