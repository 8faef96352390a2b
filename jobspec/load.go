package jobspec

import (
	"os"
	"regexp"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// LoadOptions are the variable values given outside the deployment file.
type LoadOptions struct {
	// Vars are -var options, each "name=value", applied in order.
	Vars []string
	// VarFiles are -var-file paths, applied in order: a later file wins.
	VarFiles []string
	// Environ is the process environment (os.Environ()); only
	// KANTREE_NOMAD_VAR_<name> entries are read from it.
	Environ []string
}

// Load reads and decodes the deployment file at filename. The returned map
// holds every parsed file (the deployment and the var files) for
// hcl.NewDiagnosticTextWriter. The Deployment is nil when the diagnostics
// hold an error; warnings may accompany a valid Deployment.
func Load(filename string, opts LoadOptions) (*Deployment, map[string]*hcl.File, hcl.Diagnostics) {
	src, err := os.ReadFile(filename)
	if err != nil {
		return nil, map[string]*hcl.File{}, hcl.Diagnostics{DiagReadFile("deployment file", filename, err)}
	}
	return Parse(filename, src, opts)
}

// Parse decodes src as the deployment file named filename; see Load.
func Parse(filename string, src []byte, opts LoadOptions) (*Deployment, map[string]*hcl.File, hcl.Diagnostics) {
	p := hclparse.NewParser()
	file, diags := p.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, p.Files(), diags
	}
	content, cd := file.Body.Content(rootSchema)
	diags = append(diags, cd...)
	vars, vd := decodeVariables(content.Blocks.OfType("variable"))
	diags = append(diags, vd...)
	values, rd := resolveVariables(p, vars, opts)
	diags = append(diags, rd...)
	d := &decoder{file: fileRange(filename, src), ctx: &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": values},
		Functions: functions(),
	}}
	dep := d.deployment(content, d.file)
	if !d.diags.HasErrors() && !diags.HasErrors() {
		d.validate(dep)
	}
	if !d.diags.HasErrors() && !diags.HasErrors() {
		resolve(dep)
	}
	diags = append(diags, d.diags...)
	sortDiagnostics(diags)
	if diags.HasErrors() {
		return nil, p.Files(), diags
	}
	return dep, p.Files(), diags
}

// sortDiagnostics orders diagnostics by position, those without a
// position (command-line values) first, so that they read top to bottom.
func sortDiagnostics(diags hcl.Diagnostics) {
	sort.SliceStable(diags, func(i, j int) bool {
		a, b := diags[i].Subject, diags[j].Subject
		switch {
		case a == nil || b == nil:
			return a == nil && b != nil
		case a.Filename != b.Filename:
			return false
		}
		return a.Start.Byte < b.Start.Byte
	})
}

// fileRange covers the whole file.
func fileRange(filename string, src []byte) hcl.Range {
	end := hcl.InitialPos
	for i, c := range src {
		end.Byte = i + 1
		end.Column++
		if c == '\n' {
			end.Line++
			end.Column = 1
		}
	}
	return hcl.Range{Filename: filename, Start: hcl.InitialPos, End: end}
}

// fileStart is an empty range at the start of the file, for diagnostics
// about something missing from the file as a whole.
func fileStart(file hcl.Range) hcl.Range {
	return hcl.Range{Filename: file.Filename, Start: hcl.InitialPos, End: hcl.InitialPos}
}

var (
	// jobNameRE keeps job names DNS-safe: they prefix the Consul service
	// names (kantree-web, kantree-scheduler-lock), which must fit in 63.
	jobNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?$`)
)

// rootBlocks are the blocks of the top level.
var rootBlocks = []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "kantree"},
	{Type: "process", LabelNames: []string{"kind"}},
	{Type: "worker_group", LabelNames: []string{"name"}},
	{Type: "secrets"},
	{Type: "config"},
	{Type: "scheduler_lock"},
	{Type: "load_balancer"},
	{Type: "kantree_nomad"},
	{Type: "consul"},
	{Type: "backup"},
}

// rootSchema is the top level's schema, read before there is a Deployment
// to decode into: only the names of rootFields are read.
var rootSchema = schema(rootFields(new(Deployment)), rootBlocks...)

// rootFields are the top-level attributes.
func rootFields(dep *Deployment) []field {
	return []field{
		{"job", matching(&dep.Job, jobNameRE, "job name", "lower-case letters, digits and '-' (not at either end), at most 48 characters, so that service names stay valid DNS labels")},
		{"region", str(&dep.Region)},
		{"namespace", str(&dep.Namespace)},
		{"node_pool", str(&dep.NodePool)},
		{"datacenters", nonEmptyList(&dep.Datacenters)},
		{"nomad_version", nomadVersion(&dep.Nomad)},
	}
}

// deployment decodes the root body; the blocks are decoded in dependency
// order (the kantree block decides process naming).
func (d *decoder) deployment(c *hcl.BodyContent, file hcl.Range) *Deployment {
	dep := &Deployment{Job: DefaultJob, Datacenters: []string{"*"}, DefRange: file,
		Nomad: NomadTarget{Version: rules.NewestNomad, Range: fileStart(file)}}
	d.decodeFields(c.Attributes, "top-level", fileStart(file), rootFields(dep))
	blocks := c.Blocks
	d.kantree(dep, d.single(blocks, "kantree"), file)
	d.consul(dep, d.single(blocks, "consul"))
	d.binary(dep, d.single(blocks, "kantree_nomad"))
	d.secrets(dep, d.single(blocks, "secrets"))
	d.config(dep, d.single(blocks, "config"))
	d.lock(dep, d.single(blocks, "scheduler_lock"))
	d.backup(dep, d.single(blocks, "backup"))
	d.loadBalancer(dep, d.single(blocks, "load_balancer"))
	d.processes(dep, blocks.OfType("process"), blocks.OfType("worker_group"), file)
	return dep
}

// nonEmptyList reports an empty list or an empty element.
func (d *decoder) nonEmptyList(name string, list []string, rng hcl.Range) {
	if len(list) == 0 {
		d.add(DiagEmptyList(name, rng))
	}
	for _, s := range list {
		if s == "" {
			d.add(DiagEmptyString(name, rng))
			return
		}
	}
}

// nomadVersion decodes nomad_version: the Nomad the jobs are written for.
func nomadVersion(dst *NomadTarget) decodeFunc {
	return func(a attrs, name string) bool {
		var v string
		if !a.str(name, &v) {
			return false
		}
		rng := a.rangeOf(name)
		c, err := rules.CompareVersions(v, rules.OldestNomad)
		if err != nil || c < 0 {
			a.d.add(DiagNomadVersion(v, rng))
			return false
		}
		*dst = NomadTarget{Version: v, Range: rng}
		return true
	}
}
