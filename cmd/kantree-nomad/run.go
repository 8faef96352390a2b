package main

import (
	"context"
	"errors"
	"io"

	"github.com/kantree-nomad/kantree-nomad/operator"
)

// runRun runs a one-off Kantree command as a Nomad batch job in the
// release's environment and exits with its exit code (1 when it could not
// run, 2 on a usage mistake, 130 when interrupted: the job is stopped).
// Its own progress goes to stderr, so that the command's stdout is clean.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("run", "[connection flags] [-ignore-migration] [-var name=value]... FILE -- COMMAND [ARGS...]", stderr)
	o := operator.RunOptions{Stdout: stdout, Stderr: stderr}
	fs.BoolVar(&o.IgnoreMigration, "ignore-migration", false, "run even though this release's migration has not completed")
	at := indexOf(args, "--")
	if at < 0 || at == len(args)-1 {
		printError(stderr, usageError("run", "give the command after --, e.g. run kantree.hcl -- ./platform COMMAND"))
		return 2
	}
	rel, cluster, code, ok := openRelease(fs, args[:at], stderr, stderr)
	if !ok {
		return code
	}
	exit, err := cluster.RunCommand(ctx, rel, args[at+1:], o)
	switch {
	case errors.Is(err, operator.ErrInterrupted):
		printError(stderr, err)
		return 130
	case err != nil:
		printError(stderr, err)
		return 1
	}
	return exit
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}
