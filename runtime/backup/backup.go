package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/child"
)

// Method names recorded in the ledger.
const (
	MethodPgDump  = "pg_dump"
	MethodCommand = "command"
)

// Variables set in the environment of the backup command.
const (
	// FileVar is the path the command must write its archive to (when a
	// directory is configured).
	FileVar = "KANTREE_BACKUP_FILE"
	// ReleaseVar is the release about to be applied.
	ReleaseVar = "KANTREE_BACKUP_RELEASE"
)

// Config says how to take one backup.
type Config struct {
	DSN        string        // the database to back up; reaches commands only through the environment
	Release    string        // the release about to be applied (part of the archive's name)
	Dir        string        // where archives go; "" when Command stores the backup elsewhere
	Command    []string      // the operator's command; nil means pg_dump -Fc into Dir
	Keep       int           // verified archives kept in Dir (at least 1; default 5)
	ScratchDSN string        // when set, the archive's schema is restored there in a rolled-back transaction
	Timeout    time.Duration // how long the backup may take (default 1h)
	Env        []string      // base environment of the command (PATH...); database variables are replaced
	Stdout     io.Writer     // the command's output; nil discards it
	Stderr     io.Writer
	Log        *slog.Logger
	Now        func() time.Time // names the archive; time.Now when nil
}

// Result is a verified backup.
type Result struct {
	Method   string // MethodPgDump or MethodCommand
	Location string // the archive's path, or what the operator's command printed
	Size     int64  // bytes (0 when the command stored no file here)
	Duration time.Duration
	Checksum string   // "sha256:<hex>" ("" when there is no file)
	Removed  []string // archives retention deleted afterwards
}

// DefaultKeep is how many verified archives are kept when Config.Keep is 0.
const DefaultKeep = rules.BackupKeep

// DefaultTimeout bounds a backup when Config.Timeout is 0.
const DefaultTimeout = rules.BackupTimeout

func (c *Config) defaults() {
	if c.Keep == 0 {
		c.Keep = DefaultKeep
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) check() error {
	switch {
	case c.Dir == "" && len(c.Command) == 0:
		return rules.WithHint(errors.New("backup: no directory and no command"), "give -backup-dir, -backup-command, or both")
	case c.Keep < 1:
		return rules.WithHint(fmt.Errorf("backup: keep %d: at least the newest backup must be kept", c.Keep), "set keep to 1 or more")
	case c.Release == "":
		return errors.New("backup: a release is required")
	}
	return nil
}

// Take backs up the database, verifies the backup and applies retention:
// see the package documentation. Any error means there is no verified
// backup of this run (a partial archive is removed); it names the cause
// and ends with a hint.
func Take(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	dbEnv, err := libpqEnv(cfg.DSN)
	if err != nil {
		return Result{}, rules.WithHint(fmt.Errorf("backup: %w", err), "check DATABASE_URL")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	start := time.Now()
	var res Result
	if cfg.Dir == "" {
		res, err = takeElsewhere(ctx, &cfg, dbEnv)
	} else {
		res, err = takeFile(ctx, &cfg, dbEnv)
	}
	if err != nil {
		return Result{}, err
	}
	res.Duration = time.Since(start)
	if cfg.Dir != "" {
		res.Removed, err = Prune(cfg.Dir, database(cfg.DSN), cfg.Keep)
		if err != nil {
			cfg.Log.Warn("retention could not remove old backups", "dir", cfg.Dir, "error", err)
		}
	}
	return res, nil
}

// takeFile writes the archive to a partial file in cfg.Dir, verifies it,
// sums it and gives it its final name.
func takeFile(ctx context.Context, cfg *Config, dbEnv []string) (Result, error) {
	final := filepath.Join(cfg.Dir, ArchiveName(database(cfg.DSN), cfg.Release, cfg.Now()))
	partial := final + ".partial"
	if err := claim(partial); err != nil {
		return Result{}, err
	}
	ok := false
	defer func() {
		if !ok {
			_ = os.Remove(partial)
		}
	}()
	method, argv := MethodPgDump, []string{"pg_dump", "-Fc", "--no-password", "-f", partial}
	if len(cfg.Command) > 0 {
		method, argv = MethodCommand, cfg.Command
	}
	if _, err := run(ctx, cfg, argv, commandEnv(cfg, dbEnv, partial)); err != nil {
		return Result{}, err
	}
	size, err := verify(ctx, cfg, partial, dbEnv)
	if err != nil {
		return Result{}, err
	}
	sum, err := seal(partial, final)
	if err != nil {
		return Result{}, err
	}
	ok = true
	return Result{Method: method, Location: final, Size: size, Checksum: sum}, nil
}

// claim creates the partial file, proving the destination writable.
func claim(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return rules.WithHint(fmt.Errorf("backup: the destination is not writable: %w", err),
			"check the backup volume: it must exist on this node, be mounted read-write and have free space")
	}
	return f.Close()
}

// takeElsewhere runs the operator's command, which stores the backup
// itself and prints where on its last line.
func takeElsewhere(ctx context.Context, cfg *Config, dbEnv []string) (Result, error) {
	out, err := run(ctx, cfg, cfg.Command, commandEnv(cfg, dbEnv, ""))
	if err != nil {
		return Result{}, err
	}
	loc := lastLine(out)
	if loc == "" {
		return Result{}, rules.WithHint(errors.New("backup: the backup command exited 0 but printed no location"),
			"make the command print where the backup went (a URL or a path) on its last line of output")
	}
	return Result{Method: MethodCommand, Location: loc}, nil
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// commandEnv is the base environment without any database variable, then
// libpq's variables, DATABASE_URL, the release and the archive's path.
func commandEnv(cfg *Config, dbEnv []string, file string) []string {
	var env []string
	for _, kv := range cfg.Env {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "PG") && name != "DATABASE_URL" && name != FileVar && name != ReleaseVar {
			env = append(env, kv)
		}
	}
	env = append(env, dbEnv...)
	env = append(env, "DATABASE_URL="+cfg.DSN, ReleaseVar+"="+cfg.Release)
	if file != "" {
		env = append(env, FileVar+"="+file)
	}
	return env
}

// run runs argv as a process tree of its own, stopped when ctx ends, and
// returns its standard output (also copied to cfg.Stdout).
func run(ctx context.Context, cfg *Config, argv, env []string) ([]byte, error) {
	var out bytes.Buffer
	stdout := io.Writer(&out)
	if cfg.Stdout != nil {
		stdout = io.MultiWriter(&out, cfg.Stdout)
	}
	var stderr tail
	c, err := child.Start(child.Spec{Path: argv[0], Args: argv[1:], Env: env, Stdout: stdout,
		Stderr: io.MultiWriter(&stderr, orDiscard(cfg.Stderr))})
	if err != nil {
		return nil, rules.WithHint(fmt.Errorf("backup: start %s: %w", argv[0], err),
			"install the PostgreSQL client tools (pg_dump, pg_restore) where the upgrade-db task runs, or check the backup command")
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		_ = c.Stop(10 * time.Second)
		return nil, rules.WithHint(fmt.Errorf("backup: %s stopped: %w", argv[0], context.Cause(ctx)),
			"raise the backup timeout, or find out why the backup is slow")
	}
	if code := c.ExitCode(); code != 0 {
		return nil, rules.WithHint(fmt.Errorf("backup: %s exited with code %d%s", argv[0], code, stderr.say()),
			"read the backup command's output above; the upgrade did not run")
	}
	return out.Bytes(), nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// tail keeps the last line a command wrote to its standard error, for the
// error message (the whole output goes to the task's log).
type tail struct{ last string }

func (t *tail) Write(p []byte) (int, error) {
	if s := strings.TrimSpace(string(p)); s != "" {
		lines := strings.Split(s, "\n")
		t.last = lines[len(lines)-1]
	}
	return len(p), nil
}

func (t *tail) say() string {
	if t.last == "" {
		return ""
	}
	return ": " + t.last
}
