package generator

import (
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/nomad/api"
	"github.com/zclconf/go-cty/cty"
)

// decodeHCLJob reads a rendered job specification back into an api.Job,
// independently of the encoder: it parses with hclsyntax, builds each
// body's schema from the api structs' hcl tags (so an attribute or block
// the tags do not know is an error), parses durations from strings, and
// applies the normalizations of Nomad's own HCL2 parser (job label = ID,
// name defaults to ID, `port` blocks with a static value are reserved
// ports, driver config blocks are lists of maps).
func decodeHCLJob(src []byte) (*api.Job, error) {
	f, diags := hclsyntax.ParseConfig(src, "job.nomad.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	content, diags := f.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "job", LabelNames: []string{"id"}}}})
	if diags.HasErrors() {
		return nil, diags
	}
	if len(content.Blocks) != 1 {
		return nil, fmt.Errorf("want one job block, got %d", len(content.Blocks))
	}
	block := content.Blocks[0]
	job := &api.Job{}
	if err := decodeStruct(block.Body, reflect.ValueOf(job).Elem(), "job"); err != nil {
		return nil, err
	}
	job.ID = new(block.Labels[0])
	if job.Name == nil {
		job.Name = new(block.Labels[0])
	}
	for _, g := range job.TaskGroups {
		splitReservedPorts(g.Networks)
		for _, t := range g.Tasks {
			if t.Resources != nil {
				splitReservedPorts(t.Resources.Networks)
			}
		}
	}
	return job, nil
}

func splitReservedPorts(networks []*api.NetworkResource) {
	for _, n := range networks {
		var dynamic, reserved []api.Port
		for _, p := range n.DynamicPorts {
			if p.Value > 0 {
				reserved = append(reserved, p)
			} else {
				dynamic = append(dynamic, p)
			}
		}
		n.DynamicPorts, n.ReservedPorts = dynamic, append(n.ReservedPorts, reserved...)
	}
}

type tagField struct {
	index int
	tag   hclTag
}

func tagFields(t reflect.Type) map[string]tagField {
	out := map[string]tagField{}
	for i := range t.NumField() {
		if tag, ok := parseTag(t.Field(i)); ok && tag.kind != "label" && tag.name != "reserved_ports" {
			out[tag.name] = tagField{i, tag}
		}
	}
	return out
}

// decodeStruct decodes body into the struct v.
func decodeStruct(body hcl.Body, v reflect.Value, where string) error {
	fields := tagFields(v.Type())
	if attrFormParents[v.Type()] { // env = {...} / meta = {...}
		var err error
		if body, err = decodeAttrForm(body, v, fields, where); err != nil {
			return err
		}
	}
	schema := &hcl.BodySchema{}
	for name, f := range fields {
		if f.tag.kind == "attr" {
			schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name})
			continue
		}
		var labels []string
		if labelIndex(elemStruct(v.Type().Field(f.index).Type)) >= 0 {
			labels = []string{"label"}
		}
		schema.Blocks = append(schema.Blocks, hcl.BlockHeaderSchema{Type: name, LabelNames: labels})
	}
	content, diags := body.Content(schema)
	if diags.HasErrors() {
		return fmt.Errorf("%s: %w", where, diags)
	}
	for name, attr := range content.Attributes {
		val, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return fmt.Errorf("%s.%s: %w", where, name, diags)
		}
		if err := assign(v.Field(fields[name].index), val, where+"."+name); err != nil {
			return err
		}
	}
	byType := map[string][]*hcl.Block{}
	for _, b := range content.Blocks {
		byType[b.Type] = append(byType[b.Type], b)
	}
	for name, blocks := range byType {
		if err := decodeBlocks(v.Field(fields[name].index), blocks, where+"."+name); err != nil {
			return err
		}
	}
	return nil
}

func decodeAttrForm(body hcl.Body, v reflect.Value, fields map[string]tagField, where string) (hcl.Body, error) {
	content, rest, diags := body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "env"}, {Name: "meta"}}})
	if diags.HasErrors() {
		return body, nil // the block form: decoded with the rest
	}
	for name, attr := range content.Attributes {
		f, ok := fields[name]
		if !ok {
			return nil, fmt.Errorf("%s: unexpected attribute %s", where, name)
		}
		val, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diags
		}
		if err := assign(v.Field(f.index), val, where+"."+name); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

func decodeBlocks(field reflect.Value, blocks []*hcl.Block, where string) error {
	t := field.Type()
	switch {
	case t.Kind() == reflect.Map:
		if len(blocks) != 1 {
			return fmt.Errorf("%s: %d blocks, want one", where, len(blocks))
		}
		return decodeMap(field, blocks[0].Body, where)
	case t.Kind() == reflect.Slice:
		s := reflect.MakeSlice(t, 0, len(blocks))
		for i, b := range blocks {
			elem := reflect.New(t.Elem()).Elem()
			if err := decodeOneBlock(elem, b, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
			s = reflect.Append(s, elem)
		}
		field.Set(s)
		return nil
	}
	if len(blocks) != 1 {
		return fmt.Errorf("%s: %d blocks, want one", where, len(blocks))
	}
	return decodeOneBlock(field, blocks[0], where)
}

// decodeOneBlock decodes into a struct or a pointer to one, setting its label.
func decodeOneBlock(v reflect.Value, b *hcl.Block, where string) error {
	if v.Kind() == reflect.Pointer {
		v.Set(reflect.New(v.Type().Elem()))
		v = v.Elem()
	}
	if i := labelIndex(v.Type()); i >= 0 {
		if err := assign(v.Field(i), cty.StringVal(b.Labels[0]), where); err != nil {
			return err
		}
	}
	return decodeStruct(b.Body, v, where)
}

// decodeMap reads a block of attributes into a map; a driver config
// (map[string]any) also reads nested blocks as lists of maps.
func decodeMap(field reflect.Value, body hcl.Body, where string) error {
	if field.Type().Elem().Kind() == reflect.Interface {
		m, err := decodeConfig(body.(*hclsyntax.Body), where)
		field.Set(reflect.ValueOf(m))
		return err
	}
	attrs, diags := body.JustAttributes()
	if diags.HasErrors() {
		return fmt.Errorf("%s: %w", where, diags)
	}
	obj := map[string]cty.Value{}
	for name, attr := range attrs {
		val, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return diags
		}
		obj[name] = val
	}
	return assign(field, cty.ObjectVal(obj), where)
}

func decodeConfig(body *hclsyntax.Body, where string) (map[string]any, error) {
	m := map[string]any{}
	for name, attr := range body.Attributes {
		val, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, diags
		}
		m[name] = goValue(val)
	}
	for _, b := range body.Blocks {
		if len(b.Labels) > 0 {
			return nil, fmt.Errorf("%s.%s: labelled block in a driver config", where, b.Type)
		}
		inner, err := decodeConfig(b.Body, where+"."+b.Type)
		if err != nil {
			return nil, err
		}
		list, _ := m[b.Type].([]map[string]any)
		m[b.Type] = append(list, inner)
	}
	return m, nil
}

// goValue converts a cty value the way Nomad's parser does for driver configs.
func goValue(val cty.Value) any {
	t := val.Type()
	switch {
	case t == cty.String:
		return val.AsString()
	case t == cty.Bool:
		return val.True()
	case t == cty.Number:
		if i, acc := val.AsBigFloat().Int64(); acc == big.Exact {
			return int(i)
		}
		f, _ := val.AsBigFloat().Float64()
		return f
	case t.IsTupleType() || t.IsListType():
		out := []any{}
		for it := val.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, goValue(e))
		}
		return out
	case t.IsObjectType() || t.IsMapType():
		out := map[string]any{}
		for it := val.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = goValue(e)
		}
		return out
	}
	return nil
}

// assign stores a cty value into a Go field of the api structs.
func assign(v reflect.Value, val cty.Value, where string) error {
	if val.IsNull() {
		return fmt.Errorf("%s: null", where)
	}
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		if err := assign(p.Elem(), val, where); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	if v.Type() == durationType {
		if val.Type() != cty.String {
			return fmt.Errorf("%s: duration must be a string, got %s", where, val.Type().FriendlyName())
		}
		d, err := time.ParseDuration(val.AsString())
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		v.SetInt(int64(d))
		return nil
	}
	return assignPlain(v, val, where)
}

func assignPlain(v reflect.Value, val cty.Value, where string) error {
	want := map[reflect.Kind]cty.Type{reflect.String: cty.String, reflect.Bool: cty.Bool}
	if ty, ok := want[v.Kind()]; ok && val.Type() != ty {
		return fmt.Errorf("%s: want %s, got %s", where, ty.FriendlyName(), val.Type().FriendlyName())
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(val.AsString())
	case reflect.Bool:
		v.SetBool(val.True())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return assignNumber(v, val, where)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 0, val.LengthInt())
		for it := val.ElementIterator(); it.Next(); {
			_, e := it.Element()
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := assign(elem, e, where+"[]"); err != nil {
				return err
			}
			s = reflect.Append(s, elem)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for it := val.ElementIterator(); it.Next(); {
			k, e := it.Element()
			elem := reflect.New(v.Type().Elem()).Elem()
			if err := assign(elem, e, where+"."+k.AsString()); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k.AsString()), elem)
		}
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf(goValue(val)))
	default:
		return fmt.Errorf("%s: cannot decode into %s", where, v.Type())
	}
	return nil
}

func assignNumber(v reflect.Value, val cty.Value, where string) error {
	if val.Type() != cty.Number {
		return fmt.Errorf("%s: want number, got %s", where, val.Type().FriendlyName())
	}
	bf := val.AsBigFloat()
	if v.CanInt() {
		i, acc := bf.Int64()
		if acc != big.Exact || v.OverflowInt(i) {
			return fmt.Errorf("%s: %s does not fit %s", where, bf, v.Type())
		}
		v.SetInt(i)
		return nil
	}
	u, acc := bf.Uint64()
	if acc != big.Exact || v.OverflowUint(u) {
		return fmt.Errorf("%s: %s does not fit %s", where, bf, v.Type())
	}
	v.SetUint(u)
	return nil
}

// normalizeJob prepares a job for comparison: a round trip through JSON
// (what Nomad receives), then empty slices and maps as nil, since neither
// printing distinguishes them from absent.
func normalizeJob(job *api.Job) (*api.Job, error) {
	data, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	out := &api.Job{}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, err
	}
	nilEmpty(reflect.ValueOf(out))
	return out, nil
}

func nilEmpty(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			nilEmpty(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				nilEmpty(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
		for i := range v.Len() {
			nilEmpty(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
		for _, k := range v.MapKeys() { // map values are not addressable: rebuild them
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			nilEmpty(e)
			v.SetMapIndex(k, e)
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
