package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
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

// examplesFor loads every example with nomad_version set to v. An example
// that logs in to Vault by role (Nomad 1.7+) lists the policy instead, as
// an operator on an older Nomad would.
func examplesFor(t *testing.T, v string) []testCase {
	t.Helper()
	paths, _ := filepath.Glob("../examples/*/kantree.hcl")
	var out []testCase
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		src = append([]byte("nomad_version = \""+v+"\"\n"), src...)
		if !rules.NomadHas(v, rules.VaultWorkloadIdentity) {
			src = regexp.MustCompile(`vault_role\s*=\s*("[^"]*")`).ReplaceAll(src, []byte("vault_policies = [$1]"))
		}
		d, _, diags := jobspec.Parse(p, src, jobspec.LoadOptions{})
		if diags.HasErrors() {
			t.Fatalf("%s for Nomad %s: %s", p, v, diags)
		}
		out = append(out, testCase{"example-" + filepath.Base(filepath.Dir(p)) + "-nomad-" + v, d})
	}
	return out
}
