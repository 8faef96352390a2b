package jobspec

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// A block's schema is derived from its table of fields, so that nothing is
// accepted without being decoded. These tests check the other side: what
// the examples and the README's reference use is accepted, in the block
// they put it in, and anything else is refused at its line.

// blockPaths are every block of the language, by the block types leading
// to it from the top level ("" is the top level).
var blockPaths = []string{"", "kantree", "kantree/archive", "kantree/docker", "process", "process/constraint",
	"process/spread", "process/spread/target", "worker_group", "worker_group/spread", "secrets", "config",
	"scheduler_lock", "load_balancer", "load_balancer/nginx", "load_balancer/system_job", "load_balancer/tls", "kantree_nomad",
	"consul", "variable", "backup"}

// testLabels are the labels given to labelled blocks.
var testLabels = map[string]string{"process": ` "web"`, "worker_group": ` "low"`, "variable": ` "n"`, "target": ` "a"`}

// nest wraps line in the blocks of path; line is on line len(blocks)+1.
func nest(path, line string) string {
	if path == "" {
		return line + "\n"
	}
	blocks := strings.Split(path, "/")
	var b strings.Builder
	for _, typ := range blocks {
		b.WriteString(typ + testLabels[typ] + " {\n")
	}
	b.WriteString(line + "\n" + strings.Repeat("}\n", len(blocks)))
	return b.String()
}

// schemaDiags are the diagnostics that say a name is not in a schema.
func schemaDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	var out hcl.Diagnostics
	for _, d := range diags {
		if strings.HasPrefix(d.Summary, "Unsupported argument") || strings.HasPrefix(d.Summary, "Unsupported block type") {
			out = append(out, d)
		}
	}
	return out
}

func TestEveryBlockRefusesUnknownAttribute(t *testing.T) {
	for _, path := range blockPaths {
		t.Run("/"+path, func(t *testing.T) {
			src := nest(path, "  bogus_attribute = null")
			_, _, diags := Parse("kantree.hcl", []byte(src), LoadOptions{})
			got := schemaDiags(diags)
			wantLine := strings.Count(path, "/") + 2
			if path == "" {
				wantLine = 1
			}
			if len(got) != 1 || got[0].Summary != "Unsupported argument" || got[0].Subject.Start.Line != wantLine {
				t.Errorf("want one Unsupported argument at line %d, got:\n%s\nfor:\n%s", wantLine, diagText(got), src)
			}
		})
	}
}

// documented are the (block path, attribute) pairs that the examples and
// the README's deployment-file reference use.
func documented(t *testing.T) map[[2]string]bool {
	out := map[[2]string]bool{}
	files, _ := filepath.Glob("../examples/*/kantree.hcl")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, diags := hclsyntax.ParseConfig(src, f, hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		walkBody(file.Body.(*hclsyntax.Body), "", out)
	}
	for _, span := range readmeSpans(t) {
		refNames(span, out)
	}
	return out
}

func walkBody(body *hclsyntax.Body, path string, out map[[2]string]bool) {
	for name := range body.Attributes {
		out[[2]string{path, name}] = true
	}
	for _, b := range body.Blocks {
		walkBody(b.Body, strings.TrimPrefix(path+"/"+b.Type, "/"), out)
	}
}

// readmeSpans are the code spans of the README's reference table that name
// attributes: the first column of each row, and the process row's list.
func readmeSpans(t *testing.T) []string {
	src, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, ref, _ := strings.Cut(string(src), "| block / attribute |")
	ref, _, _ = strings.Cut(ref, "\n\n")
	var spans []string
	for _, row := range strings.Split(ref, "\n")[2:] {
		cells := strings.Split(strings.ReplaceAll(row, `\|`, " or "), "|")
		if len(cells) != 5 {
			t.Fatalf("README reference row %q", row)
		}
		first := codeSpans(cells[1])
		spans = append(spans, first...)
		if len(first) == 1 && strings.HasPrefix(first[0], "process ") {
			meaning, _, _ := strings.Cut(cells[3], "The scheduler takes")
			for _, s := range codeSpans(meaning) {
				if strings.Contains(s, "{") || identRE.MatchString(s) {
					spans = append(spans, "process { "+s+" }")
				}
			}
		}
	}
	if len(spans) < 15 {
		t.Fatalf("found only %d spans in the README's reference: %q", len(spans), spans)
	}
	return spans
}

func codeSpans(cell string) []string {
	var out []string
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

var identRE = regexp.MustCompile(`^[a-z_]+$`)

var refToken = regexp.MustCompile(`[A-Za-z_*][A-Za-z0-9_*]*|"[^"]*"|[{}\[\]=]|\./\S+`)

// refNames reads a span such as `kantree { archive { url, checksum } }`,
// `config { settings = {...}, license_file }` or `region`: a word followed
// (after labels) by { is a block, any other word an attribute. Names with
// a * (`*_key`) and free text (`./platform run`) are passed over.
func refNames(span string, out map[[2]string]bool) {
	toks := refToken.FindAllString(span, -1)
	var path []string
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		switch {
		case tok == "}":
			path = path[:max(0, len(path)-1)]
		case tok == "or": // `path \| url`
		case tok == "=": // skip the value
			if i+1 < len(toks) && (toks[i+1] == "{" || toks[i+1] == "[") {
				i = closing(toks, i+1)
			} else {
				i++
			}
		case !identRE.MatchString(tok):
		default:
			j := i + 1
			for j < len(toks) && (strings.HasPrefix(toks[j], `"`) || toks[j] == "or") {
				j++
			}
			if j < len(toks) && toks[j] == "{" {
				path = append(path, tok)
				i = j
				continue
			}
			out[[2]string{strings.Join(path, "/"), tok}] = true
		}
	}
}

// closing is the index of the bracket closing the one at i.
func closing(toks []string, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i] {
		case "{", "[":
			depth++
		case "}", "]":
			depth--
		}
		if depth == 0 {
			return i
		}
	}
	return i
}

func TestDocumentedAttributesAccepted(t *testing.T) {
	names := documented(t)
	for _, want := range [][2]string{{"", "job"}, {"kantree/archive", "checksum"}, {"process", "shutdown_delay"},
		{"process/spread/target", "percent"}, {"kantree_nomad", "url"}, {"variable", "sensitive"}, {"load_balancer/system_job", "node_class"}, {"config", "license_file"}} {
		if !names[want] {
			t.Errorf("%v not found in the examples or the README: the reference's reader is broken", want)
		}
	}
	for pair := range names {
		path, name := pair[0], pair[1]
		if !slices.Contains(blockPaths, path) {
			t.Errorf("block %q (of %s) is missing from blockPaths", path, name)
		}
		src := nest(path, "  "+name+" = null")
		_, _, diags := Parse("kantree.hcl", []byte(src), LoadOptions{})
		if got := schemaDiags(diags); len(got) != 0 {
			t.Errorf("%s in block %q is documented but refused:\n%s", name, path, diagText(got))
		}
	}
}
