package main

import (
	"context"
	"io"

	"github.com/kantree-nomad/kantree-nomad/operator"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// runStatus prints the state of the deployment: groups, scheduler lock,
// load-balancer view, migrated release and drift, then the certificate the
// load balancer serves when kantree.hcl has a tls block. Exit 0, or 1 on
// error or when that certificate expires within -cert-warn or does not
// verify.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "[connection flags] [-cert-warn 336h] [-var name=value]... [-var-file FILE]... FILE", stderr)
	certWarn := fs.Duration("cert-warn", operator.DefaultCertWarn, "warn (and exit 1) when the served certificate expires within this time")
	rel, cluster, code, ok := openRelease(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if _, err := cluster.Status(ctx, rel); err != nil {
		printError(stderr, err)
		return 1
	}
	if err := cluster.Certificates(ctx, rel, *certWarn, nil); err != nil {
		printError(stderr, rules.WithHint(err, "renew the certificate (see the runbook's \"Certificate renewal\"), or check that clients reach the load balancer's HTTPS port"))
		return 1
	}
	return 0
}
