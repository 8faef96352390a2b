// Package examples loads the deployment files of examples/ for tests that
// run them on a Nomad version other than the one they target.
package examples

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Example is one loaded example.
type Example struct {
	Name string // "basic", "docker", "ha"
	Dep  *jobspec.Deployment
}

var vaultRole = regexp.MustCompile(`vault_role\s*=\s*("[^"]*")`)

// Sources returns the deployment files of examples/, in path order.
func Sources(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range paths(t) {
		out = append(out, read(t, p))
	}
	return out
}

// paths lists examples/*/kantree.hcl, sorted.
func paths(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(testbed.RepoRoot(t), "examples", "*", "kantree.hcl"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("examples: found %d (%v), want at least basic, docker and ha", len(paths), err)
	}
	sort.Strings(paths)
	return paths
}

func read(t testing.TB, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// ForNomad loads every example with nomad_version set to v. An example
// that logs in to Vault by role (Nomad 1.7+) lists the same name as its
// policy on an older Nomad, as an operator there would.
func ForNomad(t testing.TB, v string) []Example {
	t.Helper()
	var out []Example
	for _, p := range paths(t) {
		src := append([]byte("nomad_version = \""+v+"\"\n"), read(t, p)...)
		if !rules.NomadHas(v, rules.VaultWorkloadIdentity) {
			src = vaultRole.ReplaceAll(src, []byte("vault_policies = [$1]"))
		}
		d, _, diags := jobspec.Parse(p, src, jobspec.LoadOptions{})
		if diags.HasErrors() {
			t.Fatalf("%s for Nomad %s: %s", p, v, diags)
		}
		out = append(out, Example{Name: filepath.Base(filepath.Dir(p)), Dep: d})
	}
	return out
}
