package generator

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/hashicorp/nomad/api"
	"github.com/zclconf/go-cty/cty"
)

// EncodeHCL prints job as a Nomad HCL2 job specification. The layout comes
// from the `hcl` struct tags of the api types: attributes ("x" or
// "x,optional") first, in field order, then blocks ("x,block"), unlabelled
// before labelled; labels from the "…,label" field of the block's type.
// Nil and zero fields are left out (a non-nil pointer to a zero value is
// written); maps are written in sorted key order. Where Nomad's job
// specification reads the api structs differently from their tags, the
// encoder follows Nomad:
//
//   - the job is `job "<ID>" {…}`: ID is the label, name only when it differs;
//   - durations are strings such as "1m30s";
//   - a task's `config` map is attributes, and lists of maps are repeated
//     nested blocks (Nomad reads a single map as a one-element list, so a
//     map value is refused rather than written ambiguously);
//   - env and meta of a job, group or task whose keys are not identifiers
//     are written as an attribute, `meta = { "a.b" = "x" }`;
//   - reserved ports are `port "x" { static = N }` blocks;
//   - strings are escaped so that HCL reads "${" and "%{" literally (Nomad
//     interpolates ${NOMAD_*} itself at run time); multi-line strings are
//     heredocs.
//
// The output is stable under hclwrite.Format.
func EncodeHCL(job *api.Job) ([]byte, error) {
	if job == nil || job.ID == nil || *job.ID == "" {
		return nil, fmt.Errorf("encode job as HCL: job has no ID")
	}
	f := hclwrite.NewEmptyFile()
	block := f.Body().AppendNewBlock("job", []string{*job.ID})
	skip := map[string]bool{"id": true}
	if job.Name != nil && *job.Name == *job.ID {
		skip["name"] = true
	}
	if err := encodeBody(block.Body(), reflect.ValueOf(job).Elem(), skip, "job"); err != nil {
		return nil, fmt.Errorf("encode job %s as HCL: %w", *job.ID, err)
	}
	return hclwrite.Format(f.Bytes()), nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// hclTag is a parsed `hcl:"name,kind"` struct tag.
type hclTag struct {
	name, kind string // kind: "attr", "block" or "label"
}

func parseTag(sf reflect.StructField) (hclTag, bool) {
	tag, ok := sf.Tag.Lookup("hcl")
	if !ok || tag == "-" {
		return hclTag{}, false
	}
	name, kind, _ := strings.Cut(tag, ",")
	switch kind {
	case "block", "label":
	default: // "", "optional"
		kind = "attr"
	}
	return hclTag{name, kind}, true
}

type pendingBlock struct {
	name    string
	value   reflect.Value
	labeled bool
}

// encodeBody writes the fields of struct v into body.
func encodeBody(body *hclwrite.Body, v reflect.Value, skip map[string]bool, where string) error {
	t := v.Type()
	var blocks []pendingBlock
	for i := range t.NumField() {
		sf, fv := t.Field(i), v.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag, ok := parseTag(sf)
		if !ok {
			if !isEmpty(fv) {
				return fmt.Errorf("%s.%s is set but has no HCL form", where, sf.Name)
			}
			continue
		}
		if tag.kind == "label" || skip[tag.name] || isEmpty(fv) {
			continue
		}
		if tag.kind == "block" {
			blocks = append(blocks, pendingBlock{tag.name, fv, labelIndex(elemStruct(fv.Type())) >= 0})
			continue
		}
		if err := encodeAttr(body, tag.name, fv, where+"."+tag.name); err != nil {
			return err
		}
	}
	sort.SliceStable(blocks, func(i, j int) bool { return !blocks[i].labeled && blocks[j].labeled })
	for _, b := range blocks {
		if err := encodeBlock(body, b.name, b.value, t, where+"."+b.name); err != nil {
			return err
		}
	}
	return nil
}

func encodeAttr(body *hclwrite.Body, name string, v reflect.Value, where string) error {
	val, err := ctyOf(v, where)
	if err != nil {
		return err
	}
	if val.Type() == cty.String {
		if toks, ok := heredoc(val.AsString()); ok {
			body.SetAttributeRaw(name, toks)
			return nil
		}
	}
	body.SetAttributeValue(name, val)
	return nil
}

// encodeBlock writes v (a struct, a pointer to one, a slice of either, or
// a map) as one or more blocks called name.
func encodeBlock(body *hclwrite.Body, name string, v reflect.Value, parent reflect.Type, where string) error {
	if name == "reserved_ports" {
		name = "port" // Nomad's job specification: port "x" { static = N }
	}
	switch v.Kind() {
	case reflect.Pointer:
		return encodeBlock(body, name, v.Elem(), parent, where)
	case reflect.Struct:
		labels, err := blockLabels(v, where)
		if err != nil {
			return err
		}
		return encodeBody(body.AppendNewBlock(name, labels).Body(), v, nil, where)
	case reflect.Slice:
		for i := range v.Len() {
			if err := encodeBlock(body, name, v.Index(i), parent, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		return encodeMapBlock(body, name, v, parent, where)
	}
	return fmt.Errorf("%s: cannot write a %s as a block", where, v.Type())
}

// attrFormParents are the types whose env and meta Nomad also reads as an
// attribute (`meta = {...}`), the only form for keys that are not identifiers.
var attrFormParents = map[reflect.Type]bool{
	reflect.TypeOf(api.Job{}): true, reflect.TypeOf(api.TaskGroup{}): true, reflect.TypeOf(api.Task{}): true,
}

func encodeMapBlock(body *hclwrite.Body, name string, v reflect.Value, parent reflect.Type, where string) error {
	if v.Type().Key().Kind() != reflect.String {
		return fmt.Errorf("%s: cannot write a %s", where, v.Type())
	}
	if v.Type().Elem().Kind() == reflect.Interface {
		return encodeConfig(body.AppendNewBlock(name, nil).Body(), v.Interface().(map[string]any), where)
	}
	if labelIndex(elemStruct(v.Type().Elem())) >= 0 {
		return encodeLabeledMap(body, name, v, parent, where)
	}
	keys := make([]string, 0, v.Len())
	identifiers := true
	for _, k := range v.MapKeys() {
		keys = append(keys, k.String())
		identifiers = identifiers && hclsyntax.ValidIdentifier(k.String())
	}
	sort.Strings(keys)
	if !identifiers {
		if (name == "env" || name == "meta") && attrFormParents[parent] {
			return encodeAttr(body, name, v, where)
		}
		return fmt.Errorf("%s: keys %q must be identifiers (letters, digits, _ and -)", where, keys)
	}
	inner := body.AppendNewBlock(name, nil).Body()
	for _, k := range keys {
		if err := encodeAttr(inner, k, v.MapIndex(reflect.ValueOf(k)), where+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// encodeLabeledMap writes a map of labelled blocks (a group's volumes) in
// the order of its keys; each block's label is its own label field, which
// Nomad's parser also makes the map key.
func encodeLabeledMap(body *hclwrite.Body, name string, v reflect.Value, parent reflect.Type, where string) error {
	keys := make([]string, 0, v.Len())
	for _, k := range v.MapKeys() {
		keys = append(keys, k.String())
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := encodeBlock(body, name, v.MapIndex(reflect.ValueOf(k)), parent, where+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// encodeConfig writes a task driver's config: values as attributes, lists
// of maps as repeated nested blocks.
func encodeConfig(body *hclwrite.Body, m map[string]any, where string) error {
	var nested []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !hclsyntax.ValidIdentifier(k) {
			return fmt.Errorf("%s: key %q is not an identifier", where, k)
		}
		if _, ok := mapList(m[k]); ok {
			nested = append(nested, k)
			continue
		}
		if _, ok := m[k].(map[string]any); ok {
			return fmt.Errorf("%s.%s: Nomad reads a map in a driver config as a list of one map; give a list of maps", where, k)
		}
		if err := encodeAttr(body, k, reflect.ValueOf(m[k]), where+"."+k); err != nil {
			return err
		}
	}
	for _, k := range nested {
		maps, _ := mapList(m[k])
		for i, inner := range maps {
			if err := encodeConfig(body.AppendNewBlock(k, nil).Body(), inner, fmt.Sprintf("%s.%s[%d]", where, k, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func mapList(v any) ([]map[string]any, bool) {
	switch l := v.(type) {
	case []map[string]any:
		return l, len(l) > 0
	case []any:
		out := make([]map[string]any, 0, len(l))
		for _, e := range l {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out = append(out, m)
		}
		return out, len(out) > 0
	}
	return nil, false
}

// ctyOf converts a Go value from the api structs to the cty value written.
func ctyOf(v reflect.Value, where string) (cty.Value, error) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return cty.NullVal(cty.DynamicPseudoType), fmt.Errorf("%s: nil value", where)
		}
		v = v.Elem()
	}
	if v.Type() == durationType {
		return cty.StringVal(formatDuration(time.Duration(v.Int()))), nil
	}
	switch v.Kind() {
	case reflect.String:
		return cty.StringVal(v.String()), nil
	case reflect.Bool:
		return cty.BoolVal(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return cty.NumberIntVal(v.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return cty.NumberUIntVal(v.Uint()), nil
	case reflect.Float32, reflect.Float64:
		return cty.NumberFloatVal(v.Float()), nil
	case reflect.Slice:
		elems := make([]cty.Value, v.Len())
		for i := range elems {
			var err error
			if elems[i], err = ctyOf(v.Index(i), fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return cty.NilVal, err
			}
		}
		return cty.TupleVal(elems), nil
	case reflect.Map:
		attrs := map[string]cty.Value{}
		for _, k := range v.MapKeys() {
			var err error
			if attrs[k.String()], err = ctyOf(v.MapIndex(k), where+"."+k.String()); err != nil {
				return cty.NilVal, err
			}
		}
		return cty.ObjectVal(attrs), nil
	}
	return cty.NilVal, fmt.Errorf("%s: cannot write a %s", where, v.Type())
}

// heredoc writes a multi-line string that ends with a newline as
// <<EOT ... EOT, with HCL's template introducers escaped.
func heredoc(s string) (hclwrite.Tokens, bool) {
	const marker = "EOT"
	body := strings.TrimSuffix(s, "\n")
	if body == s || !strings.Contains(body, "\n") {
		return nil, false
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.TrimSpace(line) == marker {
			return nil, false
		}
	}
	for _, r := range s {
		if r != '\n' && r != '\t' && !unicode.IsPrint(r) {
			return nil, false
		}
	}
	escaped := strings.NewReplacer("${", "$${", "%{", "%%{").Replace(s)
	return hclwrite.Tokens{
		{Type: hclsyntax.TokenOHeredoc, Bytes: []byte("<<" + marker + "\n")},
		{Type: hclsyntax.TokenStringLit, Bytes: []byte(escaped)},
		{Type: hclsyntax.TokenCHeredoc, Bytes: []byte(marker)},
	}, true
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	}
	return v.IsZero()
}

// elemStruct is the struct type a block field holds (through pointers and
// slices), or nil.
func elemStruct(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}

// labelIndex is the index of the field tagged as the block's label, or -1.
func labelIndex(t reflect.Type) int {
	if t == nil {
		return -1
	}
	for i := range t.NumField() {
		if tag, ok := parseTag(t.Field(i)); ok && tag.kind == "label" {
			return i
		}
	}
	return -1
}

func blockLabels(v reflect.Value, where string) ([]string, error) {
	i := labelIndex(v.Type())
	if i < 0 {
		return nil, nil
	}
	f := v.Field(i)
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return nil, fmt.Errorf("%s: the block's label (%s) is not set", where, v.Type().Field(i).Name)
		}
		f = f.Elem()
	}
	if f.Kind() != reflect.String || f.String() == "" {
		return nil, fmt.Errorf("%s: the block's label (%s) is empty", where, v.Type().Field(i).Name)
	}
	return []string{f.String()}, nil
}
