package operator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// Cluster is a Nomad cluster and its Consul, as the operator reaches them.
type Cluster struct {
	Nomad  *nomadapi.Client
	Consul *consulapi.Client
	// Out receives progress and reports, for a person to read.
	Out io.Writer
	// Now is the clock (time.Now outside tests).
	Now func() time.Time
	// Poll is how often a watch asks Nomad again.
	Poll time.Duration
	// Outage is how long a wait (for the migration, for a deployment or
	// the evaluation before it, for the load balancer) rides out Nomad not
	// answering before it stops, saying what to run once Nomad answers; 0
	// stops at the first failed call.
	Outage time.Duration
	// Warn receives notices that are not progress (Nomad not answering,
	// then answering again); Out when nil.
	Warn io.Writer
}

// Release is what one deployment file renders to, in memory.
type Release struct {
	Dep    *jobspec.Deployment
	Bundle *generator.Bundle
	// Unknown is the operator's word on attempt UnknownAttempt of this
	// release, whose end the ledger never recorded (rules.UnknownRerun or
	// rules.UnknownSucceeded; "" when none): deploy passes both to migrate
	// in the upgrade job it submits. See upgradeJob.
	Unknown        string
	UnknownAttempt int
}

// NewRelease renders d with the same pipeline as `render`.
func NewRelease(d *jobspec.Deployment) (*Release, error) {
	b, err := generator.Generate(d)
	if err != nil {
		return nil, err
	}
	return &Release{Dep: d, Bundle: b}, nil
}

// Version is the Kantree release the file names.
func (r *Release) Version() string { return r.Dep.Kantree.Version }

// query returns read options in the deployment's region and namespace
// (Nomad's defaults when the file leaves them out), bound to ctx.
func (r *Release) query(ctx context.Context) *nomadapi.QueryOptions {
	q := &nomadapi.QueryOptions{Region: r.Dep.Region, Namespace: r.Dep.Namespace}
	return q.WithContext(ctx)
}

// write is query for writes.
func (r *Release) write(ctx context.Context) *nomadapi.WriteOptions {
	w := &nomadapi.WriteOptions{Region: r.Dep.Region, Namespace: r.Dep.Namespace}
	return w.WithContext(ctx)
}

// printf writes one line of progress.
func (c *Cluster) printf(format string, args ...any) {
	fmt.Fprintf(c.Out, format+"\n", args...)
}

// sleep waits one poll interval, or returns ctx's error.
func (c *Cluster) sleep(ctx context.Context) error { return c.pause(ctx, c.Poll) }

// pause waits d, or returns ctx's error.
func (c *Cluster) pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// jobInfo returns the job, or nil when Nomad has no job of that ID.
func (c *Cluster) jobInfo(ctx context.Context, r *Release, id string) (*nomadapi.Job, error) {
	job, _, err := c.Nomad.Jobs().Info(id, r.query(ctx))
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, nomadError(fmt.Sprintf("read job %s", id), err)
	}
	return job, nil
}

// isNotFound reports whether err is Nomad's 404.
func isNotFound(err error) bool {
	var status interface{ StatusCode() int }
	return errors.As(err, &status) && status.StatusCode() == 404
}

// short is the first 8 characters of a Nomad ID, as the nomad CLI prints it.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// str dereferences a Nomad string pointer.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// num dereferences a Nomad int pointer.
func num(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

// version dereferences a job's version.
func version(j *nomadapi.Job) uint64 {
	if j == nil || j.Version == nil {
		return 0
	}
	return *j.Version
}

// consulQuery returns Consul read options bound to ctx.
func consulQuery(ctx context.Context) *consulapi.QueryOptions {
	return (&consulapi.QueryOptions{}).WithContext(ctx)
}
