package main

import (
	"context"
	"io"
)

// runRollback returns the service job to its previous stable version and
// watches the deployment; exit codes as deploy's.
func runRollback(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rollback", "[connection flags] [-detach] [-outage D] [-var name=value]... [-var-file FILE]... FILE", stderr)
	detach := fs.Bool("detach", false, "return once the revert is submitted")
	outage := addOutageFlag(fs)
	rel, cluster, code, ok := openRelease(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	cluster.Outage = *outage
	return releaseExit(stderr, cluster.Rollback(ctx, rel, *detach))
}
