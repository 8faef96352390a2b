package generator

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// TestNoSecretInOutput renders the basic example with a var file that holds
// a password (and a datacenter, to prove the file was applied), and scans
// every byte of both renderings for the password.
func TestNoSecretInOutput(t *testing.T) {
	const password = "Pa55w0rd-Kantree-7f3a9c"
	const datacenter = "dc-from-var-file"
	src, err := os.ReadFile("../examples/basic/kantree.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	spec := filepath.Join(dir, "kantree.hcl")
	extra := "\nvariable \"db_password\" {\n  type      = string\n  sensitive = true\n}\n"
	if err := os.WriteFile(spec, append(src, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	varFile := filepath.Join(dir, "prod.vars.hcl")
	vars := "db_password = \"" + password + "\"\ndatacenter  = \"" + datacenter + "\"\n"
	if err := os.WriteFile(varFile, []byte(vars), 0o600); err != nil {
		t.Fatal(err)
	}
	d, _, diags := jobspec.Load(spec, jobspec.LoadOptions{VarFiles: []string{varFile}, Environ: []string{"KANTREE_NOMAD_VAR_db_password=" + password}})
	if diags.HasErrors() {
		t.Fatalf("load: %v", diags)
	}
	sawDatacenter := false
	for _, format := range []string{"hcl", "json"} {
		for _, f := range render(t, d, format) {
			sawDatacenter = sawDatacenter || bytes.Contains(f.Data, []byte(datacenter))
			for _, needle := range []string{password, strings.ToLower(password), "7f3a9c"} {
				if bytes.Contains(f.Data, []byte(needle)) {
					t.Errorf("%s (%s) contains the password (%q)", f.Path, format, needle)
				}
			}
		}
	}
	if !sawDatacenter {
		t.Fatalf("the var file was not applied: %q appears in no output", datacenter)
	}
}
