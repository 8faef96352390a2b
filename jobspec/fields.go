package jobspec

import (
	"fmt"
	"regexp"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Each block declares its attributes once, as a table of fields: a name,
// and how that attribute is decoded into its destination with the checks
// that concern it alone. The block's hcl.BodySchema is derived from the
// table, so an attribute cannot be accepted and then ignored, nor decoded
// and never accepted. What a table cannot say, the rules across attributes
// (conflicts, requirements, defaults derived from other values), is
// written after the table has run, reading decoded values or a.has(name).
//
// gohcl struct tags would declare names once too, but they decode without
// our diagnostics: sensitive-variable detection, control characters,
// whole numbers and ranges, durations, and the range of each value.

// decodeFunc decodes the named attribute into the destination it was made
// for, and reports whether it stored a value. It is called for every field
// of a block, present or not, in table order, so a later field may depend
// on an earlier one.
type decodeFunc func(a attrs, name string) bool

// field is one attribute of a block.
type field struct {
	name   string
	decode decodeFunc
}

// schema is the body schema of a block with these fields and nested blocks.
func schema(fields []field, blocks ...hcl.BlockHeaderSchema) *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: blocks}
	for _, f := range fields {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: f.name})
	}
	return s
}

// block decodes b's body: its fields in order, and the nested blocks it
// may hold, which are returned for the caller to decode.
func (d *decoder) block(b *hcl.Block, what string, fields []field, blocks ...hcl.BlockHeaderSchema) (attrs, hcl.Blocks) {
	c, diags := b.Body.Content(schema(fields, blocks...))
	d.add(diags...)
	return d.decodeFields(c.Attributes, what, b.DefRange, fields), c.Blocks
}

// decodeFields runs every field over the attributes m, which hcl checked
// against the fields' schema.
func (d *decoder) decodeFields(m hcl.Attributes, what string, rng hcl.Range, fields []field) attrs {
	a := attrs{d: d, m: m, block: what, rng: rng, done: make(map[string]bool, len(fields))}
	for _, f := range fields {
		if _, dup := a.done[f.name]; dup {
			panic(fmt.Sprintf("jobspec: field %q declared twice in %s", f.name, what))
		}
		a.done[f.name] = false
	}
	for _, f := range fields {
		a.done[f.name] = f.decode(a, f.name)
	}
	return a
}

// Decoders of one value each, bound to their destination.

func str(dst *string) decodeFunc {
	return func(a attrs, name string) bool { return a.str(name, dst) }
}

func boolean(dst *bool) decodeFunc {
	return func(a attrs, name string) bool { return a.boolean(name, dst) }
}

// integer decodes a whole number in [lo, hi] (hi <= 0: no upper bound).
func integer(dst *int, lo, hi int) decodeFunc {
	return func(a attrs, name string) bool { return a.integer(name, dst, lo, hi) }
}

// duration decodes a Go duration, above zero if positive, else not negative.
func duration(dst *time.Duration, positive bool) decodeFunc {
	return func(a attrs, name string) bool { return a.duration(name, dst, positive) }
}

func strList(dst *[]string) decodeFunc {
	return func(a attrs, name string) bool { return a.strList(name, dst) }
}

func strMap(dst *map[string]string) decodeFunc {
	return func(a attrs, name string) bool { return a.strMap(name, dst) }
}

func oneOf(dst *string, allowed ...string) decodeFunc {
	return func(a attrs, name string) bool { return a.oneOf(name, dst, allowed...) }
}

// matching decodes a string that must match re; a mismatch is not stored.
func matching(dst *string, re *regexp.Regexp, what, pattern string) decodeFunc {
	return func(a attrs, name string) bool { return a.matches(name, dst, re, what, pattern) }
}

// Decoders that add a check or a rule to another.

// then runs check on the attribute once dec has stored its value.
func then(dec decodeFunc, check func(a attrs, name string)) decodeFunc {
	return func(a attrs, name string) bool {
		if !dec(a, name) {
			return false
		}
		check(a, name)
		return true
	}
}

// valid decodes with dec(dst), then refuses a stored value ok rejects: it
// is not what (a description), which should be pattern.
func valid(dec func(*string) decodeFunc, dst *string, ok func(string) bool, what, pattern string) decodeFunc {
	return then(dec(dst), func(a attrs, name string) {
		if !ok(*dst) {
			a.d.add(DiagInvalidName(what, *dst, pattern, a.rangeOf(name)))
		}
	})
}

// nonEmpty decodes a string that may not be "".
func nonEmpty(dst *string) decodeFunc {
	return func(a attrs, name string) bool {
		if !a.str(name, dst) {
			return false
		}
		if *dst == "" {
			a.d.add(DiagEmptyString(name, a.rangeOf(name)))
			return false
		}
		return true
	}
}

// nonEmptyList decodes a list of strings that may neither be empty nor
// hold an empty string.
func nonEmptyList(dst *[]string) decodeFunc {
	return then(strList(dst), func(a attrs, name string) {
		a.d.nonEmptyList(name, *dst, a.rangeOf(name))
	})
}

// mandatory reports the attribute missing, or decodes it with dec.
func mandatory(dec decodeFunc) decodeFunc {
	return func(a attrs, name string) bool {
		if !a.has(name) {
			a.d.add(DiagMissingAttribute(name, a.block, a.rng))
			return false
		}
		return dec(a, name)
	}
}

// required decodes a string that must be present and not "".
func required(dst *string) decodeFunc { return mandatory(nonEmpty(dst)) }

// requires reports, before decoding, an attribute given without what it
// needs (met says whether it is there, what names it).
func requires(met func(a attrs) bool, what string, dec decodeFunc) decodeFunc {
	return func(a attrs, name string) bool {
		if a.has(name) && !met(a) {
			a.d.add(DiagRequires(name, what, a.rangeOf(name)))
		}
		return dec(a, name)
	}
}

// guarded is for an attribute that only some settings allow: refuse
// returns the diagnostic for a present attribute where it does not apply
// (it is then not decoded), or nil.
func guarded(refuse func(a attrs, name string) *hcl.Diagnostic, dec decodeFunc) decodeFunc {
	return func(a attrs, name string) bool {
		if a.has(name) {
			if diag := refuse(a, name); diag != nil {
				a.d.add(diag)
				return false
			}
		}
		return dec(a, name)
	}
}

// ranged records the value's range in rng once dec has stored the value.
func ranged(rng *hcl.Range, dec decodeFunc) decodeFunc {
	return then(dec, func(a attrs, name string) { *rng = a.rangeOf(name) })
}
