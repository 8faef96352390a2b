package generator

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

type testCase struct {
	name string
	d    *jobspec.Deployment
}

// cases are every example of examples/ (through jobspec.Load, as the CLI
// reads them) and the deployments built in Go.
func cases(t *testing.T) []testCase {
	t.Helper()
	paths, err := filepath.Glob("../examples/*/kantree.hcl")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 3 {
		t.Fatalf("found %d examples under ../examples, want at least basic, docker and ha", len(paths))
	}
	var out []testCase
	for _, p := range paths {
		d, files, diags := jobspec.Load(p, jobspec.LoadOptions{})
		if diags.HasErrors() {
			var buf bytes.Buffer
			_ = hcl.NewDiagnosticTextWriter(&buf, files, 100, false).WriteDiagnostics(diags)
			t.Fatalf("load %s:\n%s", p, buf.String())
		}
		out = append(out, testCase{"example-" + filepath.Base(filepath.Dir(p)), d})
	}
	for name, d := range testDeployments() {
		out = append(out, testCase{name, d})
	}
	out = append(out, tlsCases(t)...)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func render(t *testing.T, d *jobspec.Deployment, format string) []File {
	t.Helper()
	b, err := Generate(d)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	files, err := b.Render(format)
	if err != nil {
		t.Fatalf("Render(%s): %v", format, err)
	}
	return files
}

// TestGolden compares every rendered file with testdata/<case>/ (the HCL
// rendering, plus the JSON jobs); `go test ./generator -update` rewrites
// them. The files other than jobs must be the same in both renderings.
func TestGolden(t *testing.T) {
	for _, tc := range cases(t) {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", tc.name)
			files := render(t, tc.d, "hcl")
			shared := map[string][]byte{}
			for _, f := range files {
				shared[f.Path] = f.Data
			}
			for _, f := range render(t, tc.d, "json") {
				if strings.HasSuffix(f.Path, ".nomad.json") {
					files = append(files, f)
				} else if !bytes.Equal(shared[f.Path], f.Data) {
					t.Errorf("%s differs between the HCL and JSON renderings", f.Path)
				}
			}
			if *update {
				writeGolden(t, dir, files)
			}
			checkGolden(t, dir, files)
		})
	}
}

func writeGolden(t *testing.T, dir string, files []File) {
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func checkGolden(t *testing.T, dir string, files []File) {
	want := map[string]bool{}
	for _, f := range files {
		want[f.Path] = true
		golden, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			t.Errorf("%s: %v (run go test ./generator -update)", f.Path, err)
			continue
		}
		if !bytes.Equal(golden, f.Data) {
			t.Errorf("%s differs from %s (run go test ./generator -update and review the diff):\n%s", f.Path, dir, lineDiff(string(f.Data), string(golden)))
		}
	}
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			if !want[filepath.ToSlash(rel)] {
				t.Errorf("golden file %s is no longer rendered (run go test ./generator -update)", p)
			}
		}
		return nil
	})
}

// TestDeterministic renders every case twice, from two Generate calls.
func TestDeterministic(t *testing.T) {
	for _, tc := range cases(t) {
		for _, format := range []string{"hcl", "json"} {
			first, second := render(t, tc.d, format), render(t, tc.d, format)
			if !reflect.DeepEqual(first, second) {
				t.Errorf("%s/%s: two renderings differ", tc.name, format)
			}
		}
	}
}

// TestHCLFilesFormatted checks that hclwrite.Format leaves every HCL output
// unchanged, and that each one parses.
func TestHCLFilesFormatted(t *testing.T) {
	for _, tc := range cases(t) {
		for _, f := range render(t, tc.d, "hcl") {
			if !strings.HasSuffix(f.Path, ".hcl") {
				continue
			}
			if got := hclwrite.Format(f.Data); !bytes.Equal(got, f.Data) {
				t.Errorf("%s/%s: hclwrite.Format changes it:\n%s", tc.name, f.Path, lineDiff(string(got), string(f.Data)))
			}
			if _, diags := hclsyntax.ParseConfig(f.Data, f.Path, hcl.InitialPos); diags.HasErrors() {
				t.Errorf("%s/%s: %v", tc.name, f.Path, diags)
			}
		}
	}
}

// lineDiff shows where two texts first differ, with a little context.
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	i := 0
	for i < len(al) && i < len(bl) && al[i] == bl[i] {
		i++
	}
	from := max(0, i-3)
	var out []string
	for j := from; j < min(i+6, max(len(al), len(bl))); j++ {
		get := func(l []string) string {
			if j < len(l) {
				return l[j]
			}
			return "<end>"
		}
		mark := " "
		if get(al) != get(bl) {
			mark = "!"
		}
		out = append(out, fmt.Sprintf("%s %4d  hcl:  %s\n         json: %s", mark, j+1, get(al), get(bl)))
	}
	return strings.Join(out, "\n")
}
