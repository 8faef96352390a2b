package generator

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/internal/examples"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// TestNomadAcceptsJobs hands rendered jobs, HCL and JSON, to the real
// `nomad job validate` of the test Nomad (1.6.1, installed by make tools),
// which parses them with Nomad's own parser and validates them locally.
// It covers every example rendered for Nomad 1.6 and every Go-built case
// whose target version the binary knows; what only newer versions accept
// is covered by the golden files and the HCL/JSON equivalence test.
func TestNomadAcceptsJobs(t *testing.T) {
	nomad := testbed.Binary(t, "nomad")
	have := nomadVersion(t, nomad)
	var run []testCase
	for _, tc := range cases(t) {
		if c, err := rules.CompareVersions(tc.d.Nomad.Version, have); err == nil && c <= 0 {
			run = append(run, tc)
		}
	}
	run = append(run, examplesFor(t, "1.6")...)
	if len(run) < 4 {
		t.Fatalf("only %d cases target Nomad %s or older", len(run), have)
	}
	for _, tc := range run {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{"hcl", "json"} {
				for _, f := range render(t, tc.d, format) {
					if strings.HasSuffix(f.Path, ".nomad."+format) {
						validate(t, nomad, f, format)
					}
				}
			}
		})
	}
}

func validate(t *testing.T, nomad string, f File, format string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), filepath.Base(f.Path))
	if err := os.WriteFile(path, f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"job", "validate"}
	if format == "json" {
		args = append(args, "-json")
	}
	cmd := exec.Command(nomad, append(args, path)...)
	cmd.Env = append(os.Environ(), "NOMAD_ADDR=http://127.0.0.1:1") // nothing listens: local validation
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("nomad job validate %s: %v\n%s", f.Path, err, out)
	}
}

var nomadVersionRE = regexp.MustCompile(`Nomad v(\d+\.\d+\.\d+)`)

func nomadVersion(t *testing.T, nomad string) string {
	t.Helper()
	out, err := exec.Command(nomad, "version").Output()
	m := nomadVersionRE.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("nomad version: %v: %s", err, out)
	}
	return string(m[1])
}

// examplesFor is every example rendered for Nomad v, as test cases.
func examplesFor(t *testing.T, v string) []testCase {
	var out []testCase
	for _, e := range examples.ForNomad(t, v) {
		out = append(out, testCase{"example-" + e.Name + "-nomad-" + v, e.Dep})
	}
	return out
}

// TestNomadReadsHCLAsJSON proves the two printings say the same thing, by
// Nomad's own parser: `nomad job run -output` turns each rendered HCL job
// into the API form, which must equal the rendered JSON job field for
// field (fields left null by one and zero by the other aside). Cases only
// newer Nomad versions can parse are left to the golden files; they differ
// from the 1.6 renderings only where the version table says.
func TestNomadReadsHCLAsJSON(t *testing.T) {
	have := nomadVersion(t, testbed.Binary(t, "nomad"))
	for _, tc := range append(cases(t), examplesFor(t, "1.6")...) {
		if c, err := rules.CompareVersions(tc.d.Nomad.Version, have); err != nil || c > 0 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			b, err := Generate(tc.d)
			if err != nil {
				t.Fatal(err)
			}
			checkNomadReadsSame(t, b.Service)
			checkNomadReadsSame(t, b.UpgradeDB)
		})
	}
}

// checkNomadReadsSame encodes job both ways and compares Nomad's reading
// of the HCL with the JSON.
func checkNomadReadsSame(t *testing.T, job *api.Job) {
	t.Helper()
	nomad := testbed.Binary(t, "nomad")
	src, err := EncodeHCL(job)
	if err != nil {
		t.Fatal(err)
	}
	data, err := EncodeJSON(job)
	if err != nil {
		t.Fatal(err)
	}
	f := File{Path: *job.ID + ".nomad.hcl", Data: src}
	if diff := mapDiff("Job", jobMap(t, nomadOutput(t, nomad, f)), jobMap(t, data)); len(diff) > 0 {
		t.Errorf("%s: Nomad reads the HCL job differently from the JSON one:\n%s", f.Path, strings.Join(diff, "\n"))
	}
}

// nomadOutput is Nomad's parse of an HCL job, in the API's JSON form.
func nomadOutput(t *testing.T, nomad string, f File) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), filepath.Base(f.Path))
	if err := os.WriteFile(path, f.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nomad, "job", "run", "-output", path)
	cmd.Env = append(os.Environ(), "NOMAD_ADDR=http://127.0.0.1:1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("nomad job run -output %s: %v", f.Path, err)
	}
	return out
}

// jobMap decodes {"Job": ...} through api.Job (so that both sides have the
// same field set), canonicalized as the Nomad servers do on submission
// (Nomad's HCL parser already fills some defaults, such as a template's
// splay, that a JSON job leaves to the server), into a generic tree
// without null or empty values.
func jobMap(t *testing.T, data []byte) any {
	t.Helper()
	var wrapper struct{ Job *api.Job }
	if err := json.Unmarshal(data, &wrapper); err != nil {
		t.Fatalf("decode job: %v", err)
	}
	wrapper.Job.Canonicalize()
	norm, _ := json.Marshal(wrapper.Job)
	var tree any
	if err := json.Unmarshal(norm, &tree); err != nil {
		t.Fatal(err)
	}
	return prune(tree)
}

// prune drops nulls, zero values and empty collections.
func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if p := prune(e); p == nil {
				delete(x, k)
			} else {
				x[k] = p
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i, e := range x {
			x[i] = prune(e)
		}
	case string:
		if x == "" {
			return nil
		}
	case float64:
		if x == 0 {
			return nil
		}
	case bool:
		if !x {
			return nil
		}
	}
	return v
}

// mapDiff lists the paths where got and want differ.
func mapDiff(path string, got, want any) []string {
	gm, gok := got.(map[string]any)
	wm, wok := want.(map[string]any)
	if gok && wok {
		var out []string
		for _, k := range slices.Sorted(maps.Keys(union(gm, wm))) {
			out = append(out, mapDiff(path+"."+k, gm[k], wm[k])...)
		}
		return out
	}
	gl, gok := got.([]any)
	wl, wok := want.([]any)
	if gok && wok && len(gl) == len(wl) {
		var out []string
		for i := range gl {
			out = append(out, mapDiff(fmt.Sprintf("%s[%d]", path, i), gl[i], wl[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(got, want) {
		return []string{fmt.Sprintf("  %s: nomad %v, json %v", path, got, want)}
	}
	return nil
}

func union(a, b map[string]any) map[string]any {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// TestNomadReadsHCLAsJSONSeesADifference: the comparison above fails when
// the HCL printing says something else than the JSON one.
func TestNomadReadsHCLAsJSONSeesADifference(t *testing.T) {
	nomad := testbed.Binary(t, "nomad")
	d := testDeployments()["go-basic"]
	hclFiles, jsonFiles := render(t, d, "hcl"), render(t, d, "json")
	for i, f := range hclFiles {
		if f.Path != "kantree.nomad.hcl" {
			continue
		}
		f.Data = []byte(strings.Replace(string(f.Data), `shutdown_delay = "5s"`, `shutdown_delay = "6s"`, 1))
		diff := mapDiff("Job", jobMap(t, nomadOutput(t, nomad, f)), jobMap(t, jsonFiles[i].Data))
		if len(diff) != 1 || !strings.Contains(diff[0], "ShutdownDelay") {
			t.Errorf("an altered shutdown_delay gives the differences %q, want exactly the ShutdownDelay one", diff)
		}
		return
	}
	t.Fatal("no kantree.nomad.hcl rendered")
}
