package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/migrate"
)

// runMigrate runs the database upgrade once per release (the upgrade-db
// job): kantree-nomad migrate -release V -- ./platform upgrade_db. The URL
// comes from DATABASE_URL; -postgres overrides it.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, pg, err := parseMigrateFlags(args, stderr)
	if err != nil {
		return flagExit(err)
	}
	cfg.DSN = runtimeEnv(pg, "DATABASE_URL")
	out := diagnosis.NewOutput(stdout, stderr, diagnosis.Secrets(cfg.DSN)...)
	cfg.Env, cfg.Host = os.Environ(), migrateHost()
	cfg.Stdout, cfg.Stderr, cfg.Log = out.Stdout, out.Stderr, out.Log.With("cmd", "migrate")
	if cfg.Backup == nil {
		cfg.Log.Warn("no backup is taken before the upgrade (no -backup-dir or -backup-command)")
	} else {
		cfg.Backup.Stdout, cfg.Backup.Stderr, cfg.Backup.Log = out.Stdout, out.Stderr, cfg.Log
	}
	res, err := migrate.Run(ctx, cfg)
	if err != nil {
		printRuntimeErrors(out, err)
		var unknown *migrate.UnknownError
		if errors.As(err, &unknown) {
			fmt.Fprintln(out.Stdout, rules.UnknownLedgerLine(cfg.Release, unknown.Attempt))
		}
		return 1
	}
	if res.Skipped {
		fmt.Fprintf(out.Stdout, "migrate: release %s: nothing to do, the schema is at release %s (attempt %d on %s)\n",
			cfg.Release, res.Schema, res.Entry.Attempt, res.Entry.Host)
		fmt.Fprintln(out.Stdout, rules.LedgerLine(cfg.Release, res.Schema, res.Entry.Attempt))
		return 0
	}
	printBackup(out, res.Backup)
	fmt.Fprintf(out.Stdout, "migrate: release %s applied (attempt %d)\n", cfg.Release, res.Entry.Attempt)
	fmt.Fprintln(out.Stdout, rules.LedgerLine(cfg.Release, cfg.Release, res.Entry.Attempt))
	return 0
}

// parseMigrateFlags reads migrate's command line into a Config (without
// the connection, environment and outputs) and the -postgres flag. A
// mistake is printed on stderr and returned as errPrinted (flag.ErrHelp
// for -help).
func parseMigrateFlags(args []string, stderr io.Writer) (migrate.Config, string, error) {
	fs := newFlagSet("migrate", "-release V [flags] -- COMMAND [ARGS...]", stderr)
	pg := fs.String("postgres", "", "PostgreSQL URL or DSN (default $DATABASE_URL; prefer the variable: argv is public)")
	release := fs.String("release", "", "the release the command applies (required); passed as KANTREE_VERSION")
	key := fs.Int64("lock-key", migrate.DefaultLockKey, "PostgreSQL advisory lock key; the same for every migrate of a database")
	poll := fs.Duration("poll", migrate.DefaultPoll, "how often a waiting migrate tries the lock and reads the lease")
	check := fs.Duration("check", migrate.DefaultCheck, "how often the lease is renewed while the command runs")
	pingLimit := fs.Duration("ping-timeout", migrate.DefaultPingLimit, "how long one lease renewal or reconnection may take")
	grace := fs.Duration("kill-grace", migrate.DefaultGrace, "SIGTERM to SIGKILL when the command must be stopped")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for PostgreSQL to be usable before giving up")
	lease := fs.Duration("lease", migrate.DefaultLease, "lease of a running attempt; a successor waits it out (plus 2s) after its holder goes silent")
	recordFor := fs.Duration("record-for", migrate.DefaultRecordFor, "how long to keep trying to record how the command ended")
	unknown := fs.String("unknown", migrate.UnknownStop, "an earlier attempt of this release ended with no result recorded: stop, rerun or succeeded")
	unknownAttempt := fs.Int("unknown-attempt", 0, "the attempt -unknown is about, as the refusal named it (0: any); a newer unknown attempt is refused")
	backups := addBackupFlags(fs)
	if err := fs.Parse(args); err != nil {
		return migrate.Config{}, "", parseError(err)
	}
	if *release == "" || fs.NArg() == 0 {
		printError(stderr, runtimeUsage("migrate needs -release V and a command after --, e.g. migrate -release 8.4.1 -- ./platform upgrade_db"))
		return migrate.Config{}, "", errPrinted
	}
	cfg := migrate.Config{
		Release: *release, LockKey: *key, Command: fs.Args(),
		Poll: *poll, Check: *check, PingLimit: *pingLimit, Grace: *grace, Wait: *wait,
		Lease: *lease, RecordFor: *recordFor, Unknown: *unknown, UnknownAttempt: *unknownAttempt, Backup: backups.config(os.Environ()),
	}
	return cfg, *pg, nil
}

// migrateHost names this node in the ledger: the host name, and the Nomad
// allocation when there is one.
func migrateHost() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	if alloc := os.Getenv("NOMAD_ALLOC_ID"); alloc != "" {
		host += " alloc " + alloc
	}
	return fmt.Sprintf("%s pid %d", host, os.Getpid())
}
