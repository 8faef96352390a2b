package jobspec

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// functions are the HCL functions a deployment file may call. None reads
// files, the clock or the network: rendering stays hermetic.
func functions() map[string]function.Function {
	return map[string]function.Function{
		"lower":     stdlib.LowerFunc,
		"upper":     stdlib.UpperFunc,
		"join":      stdlib.JoinFunc,
		"format":    stdlib.FormatFunc,
		"concat":    stdlib.ConcatFunc,
		"replace":   stdlib.ReplaceFunc,
		"trimspace": stdlib.TrimSpaceFunc,
		"min":       stdlib.MinFunc,
		"max":       stdlib.MaxFunc,
	}
}

// decoder evaluates attributes in one evaluation context and collects the
// diagnostics. Every getter leaves its destination untouched when the
// attribute is absent, null, unknown (an unset variable, already reported)
// or invalid, and reports whether it stored a value.
type decoder struct {
	ctx   *hcl.EvalContext
	file  hcl.Range // the whole deployment file
	diags hcl.Diagnostics
}

func (d *decoder) add(diags ...*hcl.Diagnostic) {
	d.diags = append(d.diags, diags...)
}

// attrs is the attributes of one block, with the range to blame when a
// required one is missing.
type attrs struct {
	d     *decoder
	m     hcl.Attributes
	block string // for messages: `process "web"`
	rng   hcl.Range
	// done holds every field of the block's table: whether it was decoded.
	done map[string]bool
}

// rangeOf is the range of the named attribute's value, or the block's range.
func (a attrs) rangeOf(name string) hcl.Range {
	if attr, ok := a.m[a.declared(name)]; ok {
		return attr.Expr.Range()
	}
	return a.rng
}

// has says whether the file gives the named attribute.
func (a attrs) has(name string) bool {
	_, ok := a.m[a.declared(name)]
	return ok
}

// decoded says whether the named attribute's field stored a value.
func (a attrs) decoded(name string) bool {
	return a.done[a.declared(name)]
}

// declared returns name, which must be a field of the block's table: a
// rule about a name the schema does not accept could never apply.
func (a attrs) declared(name string) string {
	if _, ok := a.done[name]; !ok {
		panic(fmt.Sprintf("jobspec: %s has no field %q", a.block, name))
	}
	return name
}

// value evaluates the named attribute and converts it to t.
func (a attrs) value(name string, t cty.Type) (cty.Value, bool) {
	attr, ok := a.m[name]
	if !ok {
		return cty.NilVal, false
	}
	val, diags := attr.Expr.Value(a.d.ctx)
	a.d.add(diags...)
	if diags.HasErrors() || !val.IsWhollyKnown() {
		return cty.NilVal, false
	}
	if val.ContainsMarked() {
		a.d.add(a.d.sensitiveUse(name, attr.Expr))
		return cty.NilVal, false
	}
	if val.IsNull() {
		return cty.NilVal, false
	}
	out, err := convert.Convert(val, t)
	if err != nil {
		a.d.add(DiagWrongType(name, t, err, attr.Expr.Range()))
		return cty.NilVal, false
	}
	if out.IsNull() {
		return cty.NilVal, false
	}
	return out, true
}

// sensitiveUse blames the first reference to a sensitive variable in expr.
func (d *decoder) sensitiveUse(name string, expr hcl.Expression) *hcl.Diagnostic {
	for _, tr := range expr.Variables() {
		if v, diags := tr.TraverseAbs(d.ctx); !diags.HasErrors() && v.ContainsMarked() {
			return DiagSensitiveValue(name, traversalString(tr), tr.SourceRange())
		}
	}
	return DiagSensitiveValue(name, "a sensitive variable", expr.Range())
}

// traversalString spells a variable reference such as var.db_password.
func traversalString(tr hcl.Traversal) string {
	var b strings.Builder
	for _, step := range tr {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		}
	}
	return b.String()
}

func (a attrs) str(name string, dst *string) bool {
	v, ok := a.value(name, cty.String)
	if ok && a.printable(name, v.AsString()) {
		*dst = v.AsString()
		return true
	}
	return false
}

// printable refuses control characters (newlines included): every string
// ends up in a job, a YAML file or an nginx template, where one could
// break out of its place.
func (a attrs) printable(name, s string) bool {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return true
	}
	a.d.add(DiagControlChars(name, a.rangeOf(name)))
	return false
}

func (a attrs) boolean(name string, dst *bool) bool {
	v, ok := a.value(name, cty.Bool)
	if ok {
		*dst = v.True()
	}
	return ok
}

// integer reads a whole number in [lo, hi] (hi <= 0: no upper bound).
func (a attrs) integer(name string, dst *int, lo, hi int) bool {
	v, ok := a.value(name, cty.Number)
	if !ok {
		return false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		a.d.add(DiagNotWhole(name, a.rangeOf(name)))
		return false
	}
	i, acc := bf.Int64()
	switch {
	case acc != big.Exact:
		a.d.add(DiagOverflow(name, bf.Text('g', 10), a.rangeOf(name)))
		return false
	case i < int64(lo) || (hi > 0 && i > int64(hi)):
		a.d.add(DiagOutOfRange(name, i, lo, hi, a.rangeOf(name)))
		return false
	case i > math.MaxInt32: // no bound of its own, but Nomad's fields are 32-bit
		a.d.add(DiagOutOfRange(name, i, lo, math.MaxInt32, a.rangeOf(name)))
		return false
	}
	*dst = int(i)
	return true
}

// duration reads a Go duration string; positive requires it above zero,
// otherwise it may be zero but not negative.
func (a attrs) duration(name string, dst *time.Duration, positive bool) bool {
	var s string
	if !a.str(name, &s) {
		return false
	}
	dur, err := time.ParseDuration(s)
	if err != nil {
		a.d.add(DiagBadDuration(name, s, a.rangeOf(name)))
		return false
	}
	if dur < 0 || (positive && dur == 0) {
		a.d.add(DiagNegativeDuration(name, s, a.rangeOf(name)))
		return false
	}
	*dst = dur
	return true
}

func (a attrs) strList(name string, dst *[]string) bool {
	v, ok := a.value(name, cty.List(cty.String))
	if !ok {
		return false
	}
	out := []string{}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.IsNull() {
			a.d.add(DiagEmptyString(name, a.rangeOf(name)))
			return false
		}
		if !a.printable(name, e.AsString()) {
			return false
		}
		out = append(out, e.AsString())
	}
	*dst = out
	return true
}

func (a attrs) strMap(name string, dst *map[string]string) bool {
	v, ok := a.value(name, cty.Map(cty.String))
	if !ok {
		return false
	}
	out := map[string]string{}
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.IsNull() {
			a.d.add(DiagEmptyString(name+"."+k.AsString(), a.rangeOf(name)))
			return false
		}
		if !a.printable(name, k.AsString()+e.AsString()) {
			return false
		}
		out[k.AsString()] = e.AsString()
	}
	*dst = out
	return true
}

// oneOf reads a string that must be one of allowed.
func (a attrs) oneOf(name string, dst *string, allowed ...string) bool {
	var s string
	if !a.str(name, &s) {
		return false
	}
	for _, ok := range allowed {
		if s == ok {
			*dst = s
			return true
		}
	}
	a.d.add(DiagOneOf(name, s, allowed, a.rangeOf(name)))
	return false
}

// matches reads a string that must match re, described by what/pattern.
func (a attrs) matches(name string, dst *string, re *regexp.Regexp, what, pattern string) bool {
	var s string
	if !a.str(name, &s) {
		return false
	}
	if !re.MatchString(s) {
		a.d.add(DiagInvalidName(what, s, pattern, a.rangeOf(name)))
		return false
	}
	*dst = s
	return true
}

// single returns the one block of type typ, reporting duplicates.
func (d *decoder) single(blocks hcl.Blocks, typ string) *hcl.Block {
	of := blocks.OfType(typ)
	for _, b := range of[min(1, len(of)):] {
		d.add(DiagDuplicateBlock(typ, b.DefRange, of[0].DefRange))
	}
	if len(of) == 0 {
		return nil
	}
	return of[0]
}
