package main

import (
	"context"
	"io"
)

// runRotate restarts every instance of the running job, a bounded number
// at a time and health-gated, so that they read the secrets as they are
// now; exit codes as deploy's.
func runRotate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("rotate", "[connection flags] [-var name=value]... [-var-file FILE]... FILE", stderr)
	rel, cluster, code, ok := openRelease(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	return releaseExit(stderr, cluster.Rotate(ctx, rel))
}
