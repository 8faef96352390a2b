package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/preflight"
)

// runPreflight waits until PostgreSQL and Redis are usable (the prestart
// task of every group). The URLs come from DATABASE_URL and REDIS_URL;
// -postgres and -redis override them, but put secrets in argv, where every
// user of the node can read them.
func runPreflight(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("preflight", "[-timeout 2m] [-release V] [-postgres URL] [-redis URL]", stderr)
	pg := fs.String("postgres", "", "PostgreSQL URL or DSN (default $DATABASE_URL; prefer the variable: argv is public)")
	rd := fs.String("redis", "", "Redis URL: redis://, rediss:// or redis-sentinel:// (default $REDIS_URL)")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	attempt := fs.Duration("attempt-timeout", 10*time.Second, "bound of one connection attempt")
	maxBackoff := fs.Duration("max-backoff", 10*time.Second, "longest wait between attempts")
	release := fs.String("release", "", "require the schema to be at this release, as recorded by migrate")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		printError(stderr, runtimeUsage("preflight takes no arguments, got %q", fs.Args()))
		return 2
	}
	cfg := preflight.Config{
		PostgresDSN: runtimeEnv(*pg, "DATABASE_URL"), RedisURL: runtimeEnv(*rd, "REDIS_URL"),
		Release: *release, Timeout: *timeout, AttemptTimeout: *attempt, MaxBackoff: *maxBackoff,
	}
	secrets := append(diagnosis.Secrets(cfg.PostgresDSN), diagnosis.Secrets(cfg.RedisURL)...)
	out := diagnosis.NewOutput(stdout, stderr, secrets...)
	cfg.Log = out.Log.With("cmd", "preflight")
	report, err := preflight.Run(ctx, cfg)
	if err != nil {
		printRuntimeErrors(out, err)
		return 1
	}
	fmt.Fprintf(out.Stdout, "preflight: ok: postgres %s: %s\n", diagnosis.RedactDSN(cfg.PostgresDSN), report.Postgres)
	fmt.Fprintf(out.Stdout, "preflight: ok: redis %s: %s\n", diagnosis.RedactDSN(cfg.RedisURL), report.Redis)
	return 0
}

// runtimeEnv returns flagValue, or the environment variable name when the
// flag was not given.
func runtimeEnv(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(name)
}

// printRuntimeErrors prints each error of a joined error with its own
// hint, redacted, on out.Stderr.
func printRuntimeErrors(out *diagnosis.Output, err error) {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			printRuntimeErrors(out, e)
		}
		return
	}
	printError(out.Stderr, out.Error(err))
}

// runtimeUsage is a command-line mistake; its hint points at -help.
func runtimeUsage(format string, args ...any) error {
	return rules.WithHint(fmt.Errorf(format, args...), "run 'kantree-nomad <command> -help' for the flags")
}
