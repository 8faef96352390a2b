package generator

import (
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// plan holds a resolved deployment and the secrets view the templates
// share. Every default, name and path comes from jobspec already: the
// generator translates, it never decides or checks again.
type plan struct {
	d       *jobspec.Deployment
	secrets secretsView
}

func newPlan(d *jobspec.Deployment) *plan {
	return &plan{d: d, secrets: newSecretsView(d)}
}
