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

// Bundle is everything one deployment renders to: the Nomad jobs and the
// other files (lb/..., acl/..., README.md).
type Bundle struct {
	Service   *api.Job // the long-running job: one task group per process
	UpgradeDB *api.Job // the batch job that runs ./platform upgrade_db once per release
	// LB is the load balancer as a system job (<job>-lb), or nil when the
	// deployment does not ask for one.
	LB    *api.Job
	Files []File // sorted by Path
}

// Jobs returns the bundle's jobs: service, upgrade-db, then the LB job if any.
func (b *Bundle) Jobs() []*api.Job {
	jobs := []*api.Job{b.Service, b.UpgradeDB}
	if b.LB != nil {
		jobs = append(jobs, b.LB)
	}
	return jobs
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
	b := &Bundle{Service: svc, UpgradeDB: up}
	if d.LB.SystemJob != nil {
		if b.LB, err = p.lbJob(); err != nil {
			return nil, fmt.Errorf("generate job %s: %w", d.LB.SystemJob.Job, err)
		}
	}
	if b.Files, err = p.files(); err != nil {
		return nil, fmt.Errorf("generate files for %s: %w", d.Job, err)
	}
	sort.Slice(b.Files, func(i, j int) bool { return b.Files[i].Path < b.Files[j].Path })
	return b, nil
}

// Render prints the bundle in format "hcl" or "json": the jobs as
// <job>.nomad.hcl, <job>-upgrade-db.nomad.hcl and <job>-lb.nomad.hcl (or
// .json), and b.Files. The result is sorted by path.
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
	for _, job := range b.Jobs() {
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

// FindFile returns the data of the file at path among files.
func FindFile(files []File, path string) ([]byte, bool) {
	for _, f := range files {
		if f.Path == path {
			return f.Data, true
		}
	}
	return nil, false
}
