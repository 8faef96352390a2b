// Package examples loads the deployment files of examples/ for tests that
// run them on a Nomad version other than the one they target.
package examples

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
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

// ValidSeeds is the corpus of deployment files the tests over "every valid
// file" share: the examples, the init template, hostile values on a small
// base, and the inputs `go test -fuzz FuzzValidRenders ./generator` saved
// under generator/testdata/fuzz. Invalid ones are left to the caller to
// skip (jobspec decides).
func ValidSeeds(t testing.TB) [][]byte {
	t.Helper()
	out := append(Sources(t), []byte(jobspec.InitTemplate))
	base := "kantree {\n  version = \"8.4.1\"\n  server_name = \"k.example.com\"\n  archive { url = \"https://x/k.tgz\" }\n}\n"
	for _, extra := range []string{
		"config {\n  settings = { subject = \"[{{project}}] $${x} %%{y}\" }\n}\n",
		"process \"web\" {\n  env = { A = \"$${NOMAD_ALLOC_ID}\" }\n  count = 2147483647\n}\n",
		"kantree_nomad {\n  url = \"https://x/kn.tar.gz\"\n}\nsecrets {\n  path = \"a/b.c-d_e\"\n}\n",
		"load_balancer {\n  kind = \"fabio\"\n}\nprocess \"web\" {\n  shutdown_delay = \"3s\"\n}\n",
		"nomad_version = \"1.6\"\nsecrets {\n  provider = \"vault\"\n  vault_policies = [\"k\"]\n}\n",
		"lock {\n  key = \"a/b-c/d.e\"\n}\nprocess \"scheduler\" {\n  count = 2\n}\n",
	} {
		out = append(out, []byte(base+extra))
	}
	for _, v := range []string{"9.0.0-rc.1+build-7", "v8.4", "10.0", "08.4", "8.4.01"} {
		out = append(out, []byte(strings.Replace(base, "8.4.1", v, 1)))
	}
	return append(out, savedCorpus(t, "FuzzValidRenders")...)
}

// savedCorpus reads the inputs the fuzzer saved for target under
// generator/testdata/fuzz (go test fuzz v1 files holding one []byte).
func savedCorpus(t testing.TB, target string) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(testbed.RepoRoot(t), "generator", "testdata", "fuzz", target, "*"))
	var out [][]byte
	for _, f := range files {
		lines := strings.SplitN(string(read(t, f)), "\n", 3)
		if len(lines) < 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: not a go test fuzz v1 file with one []byte", f)
		}
		v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, []byte(v))
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
