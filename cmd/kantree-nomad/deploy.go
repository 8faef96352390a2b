package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/kantree-nomad/kantree-nomad/operator"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Exit codes of deploy and rollback besides 0 (the deployment
// succeeded), 1 (it failed, or any error) and 2 (a usage mistake).
const (
	releaseUnknown     = 3   // the watch lost Nomad for longer than -outage: the outcome is unknown; the last line says how to watch again
	releaseInterrupted = 130 // interrupted: Nomad goes on
)

// runDeploy runs a release: the migration once, waited for, then the
// service job, watched to the end. Exit 0 when the deployment succeeds, 1
// when the migration or the deployment fails (or on any error), 2 on a
// usage mistake, 3 when Nomad did not answer the watch for longer than
// -outage, 130 when interrupted (Nomad goes on in both).
func runDeploy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("deploy", "[connection flags] [-detach] [-outage D] [-unknown rerun|succeeded -unknown-attempt N] [-var name=value]... [-var-file FILE]... FILE", stderr)
	detach := fs.Bool("detach", false, "return once the service job is submitted (the migration is still waited for)")
	outage := addOutageFlag(fs)
	unknown := fs.String("unknown", "", "what happened to the attempt of this release whose end was never recorded (deploy's hint names it): rerun (it did not complete) or succeeded (it did); passed to migrate")
	unknownAttempt := fs.Int("unknown-attempt", 0, "the attempt -unknown is about, as deploy's hint names it")
	rel, cluster, code, ok := openRelease(fs, args, stdout, stderr)
	if !ok {
		return code
	}
	cluster.Outage = *outage
	switch {
	case *unknown == "" && *unknownAttempt == 0:
	case *unknown != rules.UnknownRerun && *unknown != rules.UnknownSucceeded:
		printError(stderr, usageError("deploy", fmt.Sprintf("-unknown %q: use rerun (the attempt did not complete) or succeeded (it did)", *unknown)))
		return 2
	case *unknownAttempt <= 0:
		printError(stderr, usageError("deploy", "-unknown needs -unknown-attempt N, the attempt deploy's hint named (the decision covers that attempt only)"))
		return 2
	}
	rel.Unknown, rel.UnknownAttempt = *unknown, *unknownAttempt
	return releaseExit(stderr, cluster.Deploy(ctx, rel, *detach))
}

// addOutageFlag registers -outage, the bound of a watch on Nomad not
// answering.
func addOutageFlag(fs *flag.FlagSet) *time.Duration {
	return fs.Duration("outage", operator.DefaultOutage,
		"how long a wait (for the migration, the deployment or the load balancer) rides out Nomad not answering (a server restart, a leader election) before it stops, exit 3, saying what to run once Nomad answers; 0: stop at the first failed call")
}

// openRelease parses the flags shared by plan, deploy, status and
// rollback (connection and variables), loads and renders the deployment
// file in memory and connects to Nomad and Consul. When ok is false the
// command must return code (2 for usage, 1 for a bad file or client).
func openRelease(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (*operator.Release, *operator.Cluster, int, bool) {
	conn := operator.AddFlags(fs)
	vars := addVarFlags(fs)
	file, code, ok := parseFlags(fs, args, stderr)
	if !ok {
		return nil, nil, code, false
	}
	dep, ok := loadDeployment(file, vars, stderr)
	if !ok {
		return nil, nil, 1, false
	}
	rel, err := operator.NewRelease(dep)
	if err != nil {
		printError(stderr, rules.WithHint(fmt.Errorf("render %s: %w", file, err), "this is a bug if validate passes: please report it with the deployment file"))
		return nil, nil, 1, false
	}
	cluster, err := conn.Connect(stdout)
	if err != nil {
		printError(stderr, err)
		return nil, nil, 1, false
	}
	cluster.Warn = stderr
	return rel, cluster, 0, true
}

// releaseExit prints err (if any) and returns the exit code of deploy and
// rollback: 0, 1, 3 when Nomad did not answer the watch, or 130 when
// interrupted.
func releaseExit(stderr io.Writer, err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, operator.ErrUnreachable):
		printError(stderr, err)
		return releaseUnknown
	case errors.Is(err, operator.ErrInterrupted):
		printError(stderr, err)
		return releaseInterrupted
	}
	printError(stderr, err)
	return 1
}
