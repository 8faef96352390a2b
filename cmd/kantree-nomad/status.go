package main

import (
	"context"
	"io"

	"github.com/kantree-nomad/kantree-nomad/operator"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Exit codes of status. Like plan's, they let a script or a monitor tell
// apart what it must do.
const (
	statusOK         = 0 // everything read, nothing to act on, no drift
	statusUnreadable = 1 // Nomad or Consul could not be read (or a bad file): the status is incomplete
	statusAct        = 3 // an operator must act: no scheduler, failed deployment, migration not recorded, job not running, certificate
	statusDrift      = 4 // running and healthy, but the jobs differ from kantree.hcl
)

// runStatus prints the state of the deployment: groups, scheduler lock,
// load-balancer view, migrated release and drift, then a summary line,
// then the certificate the load balancer serves when kantree.hcl has a
// tls block. Exit 0 when all is well, 1 when Nomad or Consul could not be
// read, 2 on a usage mistake, 3 when an operator must act (a certificate
// that expires within -cert-warn or does not verify included), 4 on drift
// alone.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "[connection flags] [-timeout D] [-cert-warn 336h] [-var name=value]... [-var-file FILE]... FILE", stderr)
	certWarn := fs.Duration("cert-warn", operator.DefaultCertWarn, "warn (and exit 3) when the served certificate expires within this time")
	rel, cluster, code, ok := openRelease(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	rep, err := cluster.Status(ctx, rel)
	if err != nil {
		printError(stderr, err)
		return statusUnreadable
	}
	certErr := cluster.Certificates(ctx, rel, *certWarn, nil)
	if certErr != nil {
		printError(stderr, rules.WithHint(certErr, "renew the certificate (see the runbook's \"Certificate renewal\"), or check that clients reach the load balancer's HTTPS port"))
	}
	switch {
	case len(rep.Unreadable) > 0:
		printError(stderr, rep.Unreadable[0])
		return statusUnreadable
	case len(rep.Act) > 0 || certErr != nil:
		return statusAct
	case rep.Drift:
		return statusDrift
	}
	return statusOK
}
