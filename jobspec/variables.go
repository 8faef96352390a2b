package jobspec

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvVarPrefix prefixes environment variables that set deployment-file
// variables: KANTREE_NOMAD_VAR_datacenter=dc2 sets var.datacenter.
const EnvVarPrefix = "KANTREE_NOMAD_VAR_"

// sensitiveMark marks the values of variables declared sensitive, so that a
// use of one anywhere in the deployment can be found and refused.
type sensitiveMark struct{}

// variable is one `variable "name" { ... }` declaration.
type variable struct {
	name      string
	typ       cty.Type // cty.DynamicPseudoType when no type was given
	def       cty.Value
	sensitive bool
	declRange hcl.Range
}

// decodeVariables reads the variable blocks, in file order.
func decodeVariables(blocks hcl.Blocks) (map[string]*variable, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	vars := map[string]*variable{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !hclsyntax.ValidIdentifier(name) {
			diags = append(diags, DiagInvalidName("variable name", name, "letters, digits, underscores and dashes, starting with a letter", b.LabelRanges[0]))
			continue
		}
		if prev, ok := vars[name]; ok {
			diags = append(diags, DiagDuplicateVariable(name, b.DefRange, prev.declRange))
			continue
		}
		v, vd := decodeVariable(name, b)
		diags = append(diags, vd...)
		vars[name] = v
	}
	return vars, diags
}

// variableField is one attribute of a variable block. Variable blocks
// are decoded before the decoder of fields.go exists (their values make
// the `var` it evaluates with), with constant expressions only, so they
// have a table of their own; as there, the schema is derived from it.
type variableField struct {
	name   string
	decode func(v *variable, attr *hcl.Attribute) hcl.Diagnostics
}

// variableFields are decoded in this order: type before default, which is
// converted to it.
var variableFields = []variableField{
	{"type", func(v *variable, attr *hcl.Attribute) hcl.Diagnostics {
		t, diags := typeexpr.TypeConstraint(attr.Expr)
		if !diags.HasErrors() {
			v.typ = t
		}
		return diags
	}},
	{"sensitive", func(v *variable, attr *hcl.Attribute) hcl.Diagnostics {
		val, diags := constValue(attr, cty.Bool)
		v.sensitive = !diags.HasErrors() && !val.IsNull() && val.True()
		return diags
	}},
	{"description", func(_ *variable, attr *hcl.Attribute) hcl.Diagnostics {
		_, diags := constValue(attr, cty.String)
		return diags
	}},
	{"default", func(v *variable, attr *hcl.Attribute) hcl.Diagnostics {
		val, diags := constValue(attr, v.typ)
		if !diags.HasErrors() && !val.IsNull() {
			v.def = val
		}
		return diags
	}},
}

var variableSchema = func() *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, f := range variableFields {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: f.name})
	}
	return s
}()

func decodeVariable(name string, b *hcl.Block) (*variable, hcl.Diagnostics) {
	v := &variable{name: name, typ: cty.DynamicPseudoType, def: cty.NilVal, declRange: b.DefRange}
	content, diags := b.Body.Content(variableSchema)
	for _, f := range variableFields {
		if attr, ok := content.Attributes[f.name]; ok {
			diags = append(diags, f.decode(v, attr)...)
		}
	}
	return v, diags
}

// constValue evaluates an expression that may use functions but no
// variables, and converts it to t.
func constValue(attr *hcl.Attribute, t cty.Type) (cty.Value, hcl.Diagnostics) {
	val, diags := attr.Expr.Value(&hcl.EvalContext{Functions: functions()})
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	out, err := convert.Convert(val, t)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{DiagWrongType(attr.Name, t, err, attr.Expr.Range())}
	}
	return out, nil
}

// resolveVariables gives every declared variable its value, by precedence
// -var > -var-file (later files win) > environment > default, and returns
// them as the object bound to `var`.
func resolveVariables(p *hclparse.Parser, vars map[string]*variable, opts LoadOptions) (cty.Value, hcl.Diagnostics) {
	values := map[string]cty.Value{}
	var diags hcl.Diagnostics
	for name, v := range vars {
		if v.def != cty.NilVal {
			values[name] = v.def
		}
	}
	diags = append(diags, envValues(vars, opts.Environ, values)...)
	for _, f := range opts.VarFiles {
		diags = append(diags, varFileValues(p, vars, f, values)...)
	}
	diags = append(diags, flagValues(vars, opts.Vars, values)...)
	names := make([]string, 0, len(vars))
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := vars[name]
		val, ok := values[name]
		if !ok {
			diags = append(diags, DiagVariableUnset(name, v.declRange))
			values[name] = cty.DynamicVal
			continue
		}
		if v.sensitive {
			values[name] = val.Mark(sensitiveMark{})
		}
	}
	return cty.ObjectVal(values), diags
}

// envValues reads KANTREE_NOMAD_VAR_<name> for declared variables; others are ignored.
func envValues(vars map[string]*variable, environ []string, values map[string]cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, kv := range environ {
		k, raw, ok := strings.Cut(kv, "=")
		name, found := strings.CutPrefix(k, EnvVarPrefix)
		if !ok || !found {
			continue
		}
		v, declared := vars[name]
		if !declared {
			continue
		}
		val, d := rawValue(v, raw, "environment variable "+k)
		diags = append(diags, d...)
		if !d.HasErrors() {
			values[name] = val
		}
	}
	return diags
}

// flagValues applies -var name=value options; an undeclared name is an error.
func flagValues(vars map[string]*variable, flags []string, values map[string]cty.Value) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, kv := range flags {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			diags = append(diags, DiagBadVarFlag(name))
			continue
		}
		v, declared := vars[name]
		if !declared {
			diags = append(diags, DiagUndeclaredVarFlag(name))
			continue
		}
		val, d := rawValue(v, raw, "-var "+name)
		diags = append(diags, d...)
		if !d.HasErrors() {
			values[name] = val
		}
	}
	return diags
}

// rawValue turns a -var or environment string into a value: taken
// literally for string and untyped variables, parsed as an HCL expression
// (a list, a map, a number) otherwise.
func rawValue(v *variable, raw, source string) (cty.Value, hcl.Diagnostics) {
	if v.typ == cty.String || v.typ == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), source, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, hcl.Diagnostics{DiagVariableValue(v.name, source, "it is not a valid expression", v.declRange)}
	}
	val, diags := expr.Value(&hcl.EvalContext{Functions: functions()})
	if diags.HasErrors() {
		return cty.NilVal, hcl.Diagnostics{DiagVariableValue(v.name, source, "it must be a constant value", v.declRange)}
	}
	out, err := convert.Convert(val, v.typ)
	if err != nil {
		return cty.NilVal, hcl.Diagnostics{DiagVariableValue(v.name, source, err.Error(), v.declRange)}
	}
	return out, nil
}

// varFileValues reads one -var-file: attributes only, one per variable.
func varFileValues(p *hclparse.Parser, vars map[string]*variable, filename string, values map[string]cty.Value) hcl.Diagnostics {
	src, err := os.ReadFile(filename)
	if err != nil {
		return hcl.Diagnostics{DiagReadFile("variables file", filename, err)}
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(filename, ".json") {
		f, diags = p.ParseJSON(src, filename)
	} else {
		f, diags = p.ParseHCL(src, filename)
	}
	if diags.HasErrors() {
		return diags
	}
	attrs, ad := f.Body.JustAttributes()
	diags = append(diags, ad...)
	for _, attr := range sortedAttributes(attrs) {
		v, declared := vars[attr.Name]
		if !declared {
			diags = append(diags, DiagUndeclaredVarFile(attr.Name, attr.NameRange))
			continue
		}
		val, vd := constValue(attr, v.typ)
		diags = append(diags, vd...)
		if !vd.HasErrors() {
			values[attr.Name] = val
		}
	}
	return diags
}

// sortedAttributes returns attrs in source order.
func sortedAttributes(attrs hcl.Attributes) []*hcl.Attribute {
	out := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Range.Start.Byte < out[j].Range.Start.Byte })
	return out
}

// DiagDuplicateVariable reports a second declaration of a variable.
func DiagDuplicateVariable(name string, rng, first hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Duplicate variable declaration",
		fmt.Sprintf("A variable named %q was already declared. Another was defined at %s. Remove one of them.", name, at(first)))
}

// DiagVariableUnset reports a variable that got no value from anywhere.
func DiagVariableUnset(name string, decl hcl.Range) *hcl.Diagnostic {
	return errorDiag(decl, "Unset variable",
		fmt.Sprintf("The variable %q has no value. Give it a default, or set it with -var %s=..., -var-file, or the environment variable %s%s.", name, name, EnvVarPrefix, name))
}

// DiagVariableValue reports a -var or environment value that does not fit the variable's type.
// It never repeats the value, which may be a secret.
func DiagVariableValue(name, source, problem string, decl hcl.Range) *hcl.Diagnostic {
	return errorDiag(decl, "Invalid value for variable",
		fmt.Sprintf("The value given by %s for variable %q is unsuitable: %s. Give a value of the type declared here.", source, name, problem))
}

// DiagBadVarFlag reports a -var option without "=".
func DiagBadVarFlag(name string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var option",
		Detail: fmt.Sprintf("The option -var %q is not of the form name=value. Write it as -var name=value.", name)}
}

// DiagUndeclaredVarFlag reports a -var for a variable the file does not declare.
func DiagUndeclaredVarFlag(name string) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
		Detail: fmt.Sprintf("A -var option sets %q, but the deployment file declares no such variable. Declare it with a variable %q block, or correct the name.", name, name)}
}

// DiagUndeclaredVarFile warns about a var-file value for an undeclared
// variable. It is only a warning so that one var file can serve several
// deployment files.
func DiagUndeclaredVarFile(name string, rng hcl.Range) *hcl.Diagnostic {
	r := rng
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Value for undeclared variable", Subject: &r,
		Detail: fmt.Sprintf("The deployment file declares no variable %q, so this value is ignored. Declare it, or remove it from the file if it is a typo.", name)}
}

// DiagReadFile reports a file that cannot be read.
func DiagReadFile(what, filename string, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Failed to read " + what,
		Detail: fmt.Sprintf("Cannot read %s: %v. Check the path and its permissions.", filename, unwrapPathError(err))}
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
