package generator

import (
	"fmt"
	"sort"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// File is one rendered output file.
type File struct {
	Path string // slash-separated, relative to the output directory
	Data []byte
}

// Bundle is everything one deployment renders to: the two Nomad jobs and
// the other files (lb/..., acl/..., README.md).
type Bundle struct {
	Service   *api.Job // the long-running job: one task group per process
	UpgradeDB *api.Job // the batch job that runs ./platform upgrade_db once per release
	Files     []File   // sorted by Path
}

// Generate builds the jobs and files of d. It is pure: the same d always
// gives an identical Bundle. d must come from jobspec.Load or Parse: valid,
// with every default and derived value resolved; Generate does not check
// it again.
func Generate(d *jobspec.Deployment) (*Bundle, error) {
	if d == nil {
		return nil, fmt.Errorf("generate: no deployment")
	}
	p := newPlan(d)
	svc, err := p.serviceJob()
	if err != nil {
		return nil, fmt.Errorf("generate job %s: %w", d.Job, err)
	}
	up, err := p.upgradeJob()
	if err != nil {
		return nil, fmt.Errorf("generate job %s: %w", d.UpgradeJob, err)
	}
	files, err := p.files()
	if err != nil {
		return nil, fmt.Errorf("generate files for %s: %w", d.Job, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return &Bundle{Service: svc, UpgradeDB: up, Files: files}, nil
}

// Render prints the bundle in format "hcl" or "json": the two jobs as
// <job>.nomad.hcl and <job>-upgrade-db.nomad.hcl (or .json), followed by
// b.Files. The result is sorted by path.
func (b *Bundle) Render(format string) ([]File, error) {
	encode, ext := EncodeHCL, "hcl"
	switch format {
	case "hcl":
	case "json":
		encode, ext = EncodeJSON, "json"
	default:
		return nil, fmt.Errorf("render: unknown format %q; use \"hcl\" or \"json\"", format)
	}
	var out []File
	for _, job := range []*api.Job{b.Service, b.UpgradeDB} {
		data, err := encode(job)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Path: *job.ID + ".nomad." + ext, Data: data})
	}
	out = append(out, b.Files...)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}
