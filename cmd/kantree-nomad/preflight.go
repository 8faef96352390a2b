package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

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
	stdout, stderr = diagnosis.NewFilter(stdout, secrets...), diagnosis.NewFilter(stderr, secrets...)
	cfg.Log = slog.New(slog.NewTextHandler(stderr, nil)).With("cmd", "preflight")
	redis.SetLogger(quietRedisLog{})
	report, err := preflight.Run(ctx, cfg)
	if err != nil {
		printRuntimeErrors(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "preflight: ok: postgres %s: %s\n", diagnosis.Redact(cfg.PostgresDSN), report.Postgres)
	fmt.Fprintf(stdout, "preflight: ok: redis %s: %s\n", diagnosis.Redact(cfg.RedisURL), report.Redis)
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

// printRuntimeErrors prints each error of a joined error with its own hint.
func printRuntimeErrors(w io.Writer, err error) {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			printRuntimeErrors(w, e)
		}
		return
	}
	printError(w, err)
}

// runtimeUsageError is a command-line mistake; its hint points at -help.
type runtimeUsageError struct{ msg string }

func runtimeUsage(format string, args ...any) error {
	return &runtimeUsageError{msg: fmt.Sprintf(format, args...)}
}

func (e *runtimeUsageError) Error() string { return e.msg }

// Hint says where the flags are described.
func (e *runtimeUsageError) Hint() string { return "run 'kantree-nomad <command> -help' for the flags" }

// quietRedisLog drops go-redis's own log lines (each dial and sentinel
// retry), which would break the one-line-per-attempt output; the diagnosis
// of each attempt says what they would have said.
type quietRedisLog struct{}

// Printf discards the message.
func (quietRedisLog) Printf(context.Context, string, ...any) {}
