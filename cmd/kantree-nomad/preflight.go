package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/preflight"
)

// runPreflight waits until PostgreSQL and Redis are usable (the prestart
// task of every group). The URLs come from DATABASE_URL and REDIS_URL;
// -postgres and -redis override them, but put secrets in argv, where every
// user of the node can read them.
func runPreflight(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, pg, rd, err := parsePreflightFlags(args, stderr)
	if err != nil {
		return flagExit(err)
	}
	cfg.PostgresDSN, cfg.RedisURL = runtimeEnv(pg, "DATABASE_URL"), runtimeEnv(rd, "REDIS_URL")
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

// parsePreflightFlags reads preflight's command line into a Config
// (without the URLs) and the -postgres and -redis flags. A mistake is
// printed on stderr and returned as errPrinted (flag.ErrHelp for -help).
func parsePreflightFlags(args []string, stderr io.Writer) (cfg preflight.Config, pg, rd string, err error) {
	fs := newFlagSet("preflight", "[-timeout 5m] [-release V] [-postgres URL] [-redis URL]", stderr)
	fs.StringVar(&pg, "postgres", "", "PostgreSQL URL or DSN (default $DATABASE_URL; prefer the variable: argv is public)")
	fs.StringVar(&rd, "redis", "", "Redis URL: redis://, rediss:// or redis-sentinel:// (default $REDIS_URL)")
	fs.DurationVar(&cfg.Timeout, "timeout", rules.PreflightTimeout, "give up after this long")
	fs.DurationVar(&cfg.AttemptTimeout, "attempt-timeout", rules.PreflightAttemptTimeout, "bound of one connection attempt")
	fs.DurationVar(&cfg.MaxBackoff, "max-backoff", rules.PreflightMaxBackoff, "longest wait between attempts")
	fs.StringVar(&cfg.Release, "release", "", "require the schema to be at this release, as recorded by migrate")
	if err := fs.Parse(args); err != nil {
		return cfg, "", "", parseError(err)
	}
	if fs.NArg() > 0 {
		printError(stderr, runtimeUsage("preflight takes no arguments, got %q", fs.Args()))
		return cfg, "", "", errPrinted
	}
	return cfg, pg, rd, nil
}

// runtimeEnv returns flagValue, or the environment variable name when the
// flag was not given.
func runtimeEnv(flagValue, name string) string {
	if flagValue != "" {
		return flagValue
	}
	return os.Getenv(name)
}

// errPrinted is a command-line mistake already reported on stderr.
var errPrinted = errors.New("command line refused")

// parseError is what a FlagSet's Parse error becomes: flag.ErrHelp stays,
// anything else was printed by the FlagSet.
func parseError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	return errPrinted
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
