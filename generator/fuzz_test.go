package generator

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/examples"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// FuzzValidRenders: whatever jobspec accepts, the generator renders, in
// both formats ("this is a bug if validate passes" must never be
// printed). The examples, the init template and hostile values are the
// seeds; `go test -fuzz FuzzValidRenders ./generator` explores.
func FuzzValidRenders(f *testing.F) {
	for _, src := range examples.Sources(f) {
		f.Add(src)
	}
	f.Add(jobspec.InitTemplate)
	base := "kantree {\n  version = \"8.4.1\"\n  server_name = \"k.example.com\"\n  archive { url = \"https://x/k.tgz\" }\n}\n"
	for _, extra := range []string{
		"config {\n  settings = { subject = \"[{{project}}] $${x} %%{y}\" }\n}\n",
		"process \"web\" {\n  env = { A = \"$${NOMAD_ALLOC_ID}\" }\n  count = 2147483647\n}\n",
		"kantree_nomad {\n  url = \"https://x/kn.tar.gz\"\n}\nsecrets {\n  path = \"a/b.c-d_e\"\n}\n",
		"load_balancer {\n  kind = \"fabio\"\n}\nprocess \"web\" {\n  shutdown_delay = \"3s\"\n}\n",
		"nomad_version = \"1.6\"\nsecrets {\n  provider = \"vault\"\n  vault_policies = [\"k\"]\n}\n",
	} {
		f.Add([]byte(base + extra))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dep, _, diags := jobspec.Parse("kantree.hcl", src, jobspec.LoadOptions{})
		if diags.HasErrors() {
			return
		}
		b, err := Generate(dep)
		if err != nil {
			t.Fatalf("valid deployment does not generate: %v\n%s", err, src)
		}
		for _, format := range []string{"hcl", "json"} {
			if _, err := b.Render(format); err != nil {
				t.Fatalf("valid deployment does not render as %s: %v\n%s", format, err, src)
			}
		}
	})
}
