package main

import (
	"context"
	"io"
)

// Exit codes of plan, as nomad job plan has them.
const (
	planNoChange = 0
	planChanges  = 1
	planError    = 255
)

// runPlan shows what deploy would change, for both jobs, per group:
// exit 0 when nothing, 1 when something would change, 255 on any error
// (a broken file included).
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("plan", "[connection flags] [-var name=value]... [-var-file FILE]... FILE", stderr)
	rel, cluster, code, ok := openRelease(fs, args, stdout, stderr)
	if !ok {
		if code == 0 {
			return 0 // -help
		}
		return planError
	}
	res, err := cluster.Plan(ctx, rel)
	if err != nil {
		printError(stderr, err)
		return planError
	}
	if res.Changed() {
		return planChanges
	}
	return planNoChange
}
