package jobspec

import (
	"os"
	"testing"
)

// BenchmarkParseHA measures Parse on the largest example (ha): parsing,
// variables, decoding and validation, without file I/O.
func BenchmarkParseHA(b *testing.B) {
	src, err := os.ReadFile("../examples/ha/kantree.hcl")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, diags := Parse("kantree.hcl", src, LoadOptions{}); diags.HasErrors() {
			b.Fatal(diags.Error())
		}
	}
}
