package main

import (
	"context"
	"io"
)

// runStatus prints the state of the deployment: groups, scheduler lock,
// load-balancer view, migrated release and drift. Exit 0, or 1 on error.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "[connection flags] [-var name=value]... [-var-file FILE]... FILE", stderr)
	rel, cluster, code, ok := openRelease(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	if _, err := cluster.Status(ctx, rel); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}
