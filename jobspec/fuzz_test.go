package jobspec

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that it returns a
// Deployment exactly when there is no error. The examples and the init
// template are the seeds; `go test -fuzz FuzzParse ./jobspec` explores.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/kantree.hcl")
	for _, s := range seeds {
		src, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add(InitTemplate)
	f.Add([]byte(minimal + "process \"web\" { count = var.x }\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		dep, _, diags := Parse("kantree.hcl", src, LoadOptions{Environ: []string{"KANTREE_NOMAD_VAR_x=3"}})
		if (dep == nil) != diags.HasErrors() {
			t.Fatalf("deployment %v with errors %v", dep != nil, diags.HasErrors())
		}
	})
}
