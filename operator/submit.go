package operator

import (
	"context"
	"errors"
	"fmt"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// ErrConflict is wrapped by the error of a submission that Nomad refused
// because the job changed after it was planned.
var ErrConflict = fmt.Errorf("the job changed since it was planned")

// Submit registers the planned service job with the JobModifyIndex of its
// plan (0 for a new job: it must still not exist), so that Nomad refuses
// it if anyone changed the job in between. It returns the evaluation ID.
func (c *Cluster) Submit(ctx context.Context, r *Release, p *ServicePlan) (string, error) {
	return c.register(ctx, r, p.Job, p.Resp.JobModifyIndex)
}

// register submits job, refused by Nomad unless the job's JobModifyIndex
// is still index (0: the job must not exist), and prints Nomad's
// warnings. It returns the evaluation ID.
//
// When Nomad's answer is lost (the connection dropped after the request
// went out, no answer in time, a 5xx from a server that lost its leader
// midway), the submission may or may not have landed, and saying either
// would be a guess. register then reads the job back, riding out an
// outage as the watches do: a job still at index was not changed, and is
// submitted again (the enforced index makes that safe); a job that is now
// what was submitted (Nomad's plan shows no difference) landed, and its
// evaluation is returned; anything else is someone else's change, refused
// as ErrConflict.
func (c *Cluster) register(ctx context.Context, r *Release, job *nomadapi.Job, index uint64) (string, error) {
	id := str(job.ID)
	var out *outage
	for tries := 1; ; tries++ {
		evalID, err := c.registerOnce(ctx, r, job, index)
		if err == nil || errors.Is(err, ErrConflict) || ctx.Err() != nil || !transient(err) {
			return evalID, err
		}
		if tries > maxResubmit {
			return "", fmt.Errorf("submit job %s: Nomad's answer was lost %d times and the job was not changed each time: nothing was submitted: %w", id, tries, err)
		}
		if out == nil {
			fmt.Fprintf(c.warn(), "kantree-nomad: warning: the answer to the submission of job %s was lost (%v); reading the job back to learn whether it landed\n", id, err)
			out = c.newOutage("the submission of job "+id, "nomad job history "+id)
			out.fate = "whether job " + id + " was submitted is unknown"
			out.hint = fmt.Sprintf("Whether job %s was submitted is unknown. Once Nomad answers again, nomad job history %s shows it; running the same command again is safe (a submission that landed makes it say there is nothing to change, or that the job changed since it was read).", id, id)
		}
		evalID, landed, err := c.landed(ctx, r, job, index, out)
		if err != nil || landed {
			return evalID, err
		}
	}
}

// maxResubmit bounds how often register submits again after a lost
// answer that the job shows did not land.
const maxResubmit = 3

// registerOnce is one submission.
func (c *Cluster) registerOnce(ctx context.Context, r *Release, job *nomadapi.Job, index uint64) (string, error) {
	id := str(job.ID)
	opts := &nomadapi.RegisterOptions{EnforceIndex: true, ModifyIndex: index}
	resp, _, err := c.Nomad.Jobs().RegisterOpts(job, opts, r.write(ctx))
	if err != nil && strings.Contains(err.Error(), "modify index") {
		return "", conflict(id, err)
	}
	if err != nil {
		return "", nomadError("submit job "+id, err)
	}
	for _, w := range strings.Split(resp.Warnings, "\n") {
		if w = strings.TrimSpace(w); w != "" {
			c.printf("    Nomad warns: %s", w)
		}
	}
	return resp.EvalID, nil
}

func conflict(id string, err error) error {
	return rules.WithHint(fmt.Errorf("submit job %s: %w (%v)", id, ErrConflict, err),
		"Someone changed the job since it was read; nothing was submitted. Look at it (nomad job history "+id+"), then run the same command again.")
}

// landed reads job back after a lost answer (riding out an outage on
// out) and reports whether the submission landed, with its evaluation.
// A job still at index did not change: landed is false, and the caller
// submits again.
func (c *Cluster) landed(ctx context.Context, r *Release, job *nomadapi.Job, index uint64, out *outage) (string, bool, error) {
	id := str(job.ID)
	for {
		cur, plan, err := c.readBack(ctx, r, job)
		wait, err := out.check(ctx, "read job "+id+" back", err)
		if err != nil {
			return "", false, err
		}
		if wait > 0 {
			if c.pause(ctx, wait) != nil {
				return "", false, c.interrupted("nomad job history " + id)
			}
			continue
		}
		now := uint64(0)
		if cur != nil {
			now = *cur.JobModifyIndex
		}
		switch {
		case now == index:
			c.printf("    job %s was not changed: the submission did not land; submitting it again", id)
			return "", false, nil
		case cur == nil:
			return "", false, conflict(id, fmt.Errorf("read back after the lost answer, job %s no longer exists; it was at modify index %d", id, index))
		case plan == nil || plan.Diff == nil || plan.Diff.Type != "None":
			return "", false, conflict(id, fmt.Errorf("read back after the lost answer, the job is at modify index %d, not %d, and differs from the one submitted", now, index))
		}
		evalID, err := c.registerEval(ctx, r, id, now)
		if err != nil {
			return "", false, err
		}
		c.printf("    job %s version %d is the one submitted: the submission landed (evaluation %s)", id, version(cur), short(evalID))
		return evalID, true, nil
	}
}

// readBack reads the job (nil when Nomad has none) and plans the
// submitted one against it, with the client's errors as they are.
func (c *Cluster) readBack(ctx context.Context, r *Release, job *nomadapi.Job) (*nomadapi.Job, *nomadapi.JobPlanResponse, error) {
	cur, _, err := c.Nomad.Jobs().Info(str(job.ID), r.query(ctx))
	if isNotFound(err) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	plan, _, err := c.Nomad.Jobs().Plan(job, true, r.write(ctx))
	return cur, plan, err
}

// registerEval finds the evaluation Nomad created for the registration
// that gave job id its modify index.
func (c *Cluster) registerEval(ctx context.Context, r *Release, id string, index uint64) (string, error) {
	evals, _, err := c.Nomad.Jobs().Evaluations(id, r.query(ctx))
	if err != nil {
		return "", nomadError("list evaluations of job "+id, err)
	}
	for _, e := range evals {
		if e.JobModifyIndex == index && e.TriggeredBy == "job-register" {
			return e.ID, nil
		}
	}
	return "", fmt.Errorf("job %s: no evaluation of the registration at modify index %d", id, index)
}

// DeployService submits the planned service job and, unless detach is
// set, watches its deployment to the end (see Watch).
func (c *Cluster) DeployService(ctx context.Context, r *Release, p *ServicePlan, detach bool) error {
	id := r.Dep.Job
	if !p.Changed() {
		return c.unchanged(ctx, r, p, detach)
	}
	c.printf("==> Service job %s: %s", id, submitText(p))
	for _, ch := range p.Counts {
		c.printf("    %s", ch)
	}
	evalID, err := c.Submit(ctx, r, p)
	if err != nil {
		return err
	}
	return c.watchEval(ctx, r, evalID, detach)
}

// unchanged reports, when the running service job is already what
// kantree.hcl renders, the state of its latest deployment: an unchanged
// job is not a successful release by itself (a deploy that was
// interrupted, or a deployment that failed without a revert, leave the
// job unchanged too). A deployment still running is watched (or, with
// detach, named); a failed one is a failure.
func (c *Cluster) unchanged(ctx context.Context, r *Release, p *ServicePlan, detach bool) error {
	id := r.Dep.Job
	v := version(p.Running)
	dep, _, err := c.Nomad.Jobs().LatestDeployment(id, r.query(ctx))
	if err != nil && !isNotFound(err) {
		return nomadError("read the latest deployment of "+id, err)
	}
	if dep == nil || dep.JobVersion != v {
		c.printf("==> Service job %s: no change (version %d); nothing to deploy (Nomad made no deployment of this version)", id, v)
		return nil
	}
	c.printf("==> Service job %s: no change (version %d); its deployment %s is %s", id, v, short(dep.ID), dep.Status)
	switch {
	case dep.Status == nomadapi.DeploymentStatusSuccessful:
		c.printf("    deployed: deployment %s of version %d successful (%s)", short(dep.ID), v, dep.StatusDescription)
		return nil
	case active(dep.Status) && detach:
		c.printf("    deployment %s still runs. Watch it with: nomad deployment status -monitor %s", short(dep.ID), dep.ID)
		return nil
	case active(dep.Status):
		return c.Watch(ctx, r, dep.ID)
	}
	return rules.WithHint(fmt.Errorf("version %d of job %s is what kantree.hcl renders, but its deployment %s %s: %s: %w", v, id, short(dep.ID), dep.Status, dep.StatusDescription, ErrFailed),
		"'kantree-nomad status' shows the allocations; fix the cause, then deploy again (a changed kantree.hcl submits a new version), or run 'kantree-nomad rollback'.")
}

// watchEval waits for the deployment the evaluation of a service job
// submission created and, unless detach is set, watches it to the end.
func (c *Cluster) watchEval(ctx context.Context, r *Release, evalID string, detach bool) error {
	dep, err := c.awaitDeployment(ctx, r, evalID)
	if err != nil || dep == nil {
		return err
	}
	if detach {
		c.printf("    submitted; deployment %s runs on. Watch it with: nomad deployment status -monitor %s", short(dep.ID), dep.ID)
		return nil
	}
	return c.Watch(ctx, r, dep.ID)
}

func submitText(p *ServicePlan) string {
	if p.Running == nil {
		return "new job"
	}
	return fmt.Sprintf("version %d -> %d", version(p.Running), version(p.Running)+1)
}

// awaitDeployment waits for the evaluation of a submission and returns
// the deployment it created (nil when there is none: nothing to roll).
func (c *Cluster) awaitDeployment(ctx context.Context, r *Release, evalID string) (*nomadapi.Deployment, error) {
	ev, err := c.awaitEval(ctx, r, r.Dep.Job, evalID)
	if err != nil {
		return nil, err
	}
	return c.evalDeployment(ctx, r, ev)
}

// awaitEval waits until the evaluation of a submission of job id is
// complete and returns it.
func (c *Cluster) awaitEval(ctx context.Context, r *Release, id, evalID string) (*nomadapi.Evaluation, error) {
	out := c.newOutage(fmt.Sprintf("evaluation %s of job %s", short(evalID), id), "nomad job status "+id)
	for {
		ev, _, err := c.Nomad.Evaluations().Info(evalID, r.query(ctx))
		wait, err := out.check(ctx, "read evaluation "+short(evalID), err)
		if err != nil {
			return nil, err
		}
		if wait > 0 {
			if c.pause(ctx, wait) != nil {
				return nil, c.interrupted("nomad job status " + id)
			}
			continue
		}
		switch ev.Status {
		case nomadapi.EvalStatusComplete:
			return ev, nil
		case nomadapi.EvalStatusFailed, nomadapi.EvalStatusCancelled:
			return nil, fmt.Errorf("evaluation %s of job %s %s: %s", short(evalID), id, ev.Status, ev.StatusDescription)
		}
		if err := c.sleep(ctx); err != nil {
			return nil, c.interrupted("nomad job status " + id)
		}
	}
}

// evalDeployment returns the deployment a completed evaluation made.
func (c *Cluster) evalDeployment(ctx context.Context, r *Release, ev *nomadapi.Evaluation) (*nomadapi.Deployment, error) {
	for group, m := range ev.FailedTGAllocs {
		c.printf("    waiting: no node can run group %q yet (%s)", group, placementText(m))
	}
	if ev.DeploymentID == "" {
		c.printf("    Nomad placed nothing new: no deployment to watch")
		return nil, nil
	}
	dep, _, err := c.Nomad.Deployments().Info(ev.DeploymentID, r.query(ctx))
	if err != nil {
		return nil, nomadError("read deployment "+short(ev.DeploymentID), err)
	}
	return dep, nil
}
