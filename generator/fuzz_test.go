package generator

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/examples"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// FuzzValidRenders: whatever jobspec accepts, the generator renders, in
// both formats ("this is a bug if validate passes" must never be
// printed). The seeds are examples.ValidSeeds (the examples, the init
// template, hostile values), which cmd/kantree-nomad's argv test runs too;
// `go test -fuzz FuzzValidRenders ./generator` explores.
func FuzzValidRenders(f *testing.F) {
	for _, src := range examples.ValidSeeds(f) {
		f.Add(src)
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
