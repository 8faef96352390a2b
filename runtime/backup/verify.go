package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// verify checks the archive at path: not empty, its table of contents
// lists, and (with a scratch database) its schema restores. It returns the
// archive's size.
func verify(ctx context.Context, cfg *Config, path string, dbEnv []string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	if st.Size() == 0 {
		return 0, rules.WithHint(fmt.Errorf("backup: %s is empty", path),
			"the backup command must write a pg_dump custom-format archive to $"+FileVar)
	}
	// An empty database (the first deploy) makes an archive with no
	// entries: that it lists at all is the check.
	toc, err := restoreOut(ctx, cfg, path, "--list")
	if err != nil {
		return 0, err
	}
	cfg.Log.Info("backup archive lists", "entries", entries(toc))
	if cfg.ScratchDSN != "" {
		if err := restoreSchema(ctx, cfg, path); err != nil {
			return 0, err
		}
	}
	return st.Size(), nil
}

// restoreOut runs pg_restore args... path, which reads only the file, and
// returns its output.
func restoreOut(ctx context.Context, cfg *Config, path string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	c := *cfg
	c.Stdout = &out
	argv := append(append([]string{"pg_restore"}, args...), path)
	if _, err := run(ctx, &c, argv, commandEnv(&Config{Env: cfg.Env, Release: cfg.Release}, nil, "")); err != nil {
		return nil, rules.WithHint(fmt.Errorf("backup: the archive cannot be read: %w", errors.Unwrap(err)),
			"the backup is not a usable pg_dump custom-format archive; the upgrade did not run")
	}
	return out.Bytes(), nil
}

// entries counts the table-of-contents lines of `pg_restore --list`.
func entries(toc []byte) int {
	n := 0
	for _, l := range strings.Split(string(toc), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, ";") {
			n++
		}
	}
	return n
}

// restoreSchema replays the archive's schema in the scratch database,
// inside a transaction that is rolled back: the scratch database is left
// as it was.
func restoreSchema(ctx context.Context, cfg *Config, path string) error {
	sql, err := restoreOut(ctx, cfg, path, "--schema-only", "--no-owner", "--no-privileges", "-f", "-")
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, cfg.ScratchDSN)
	if err != nil {
		return rules.WithHint(fmt.Errorf("backup: connect to the scratch database: %s", parseProblem(cfg.ScratchDSN, err)),
			"check KANTREE_BACKUP_SCRATCH_URL, or leave it unset to skip the schema restore")
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("backup: scratch database: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, withoutMetaCommands(sql)); err != nil {
		return rules.WithHint(fmt.Errorf("backup: the archive's schema does not restore into the scratch database: %w", err),
			"the scratch database must be empty and of the same PostgreSQL major version; the upgrade did not run")
	}
	return nil
}

// withoutMetaCommands drops psql's meta-command lines (pg_restore writes
// \restrict and \unrestrict around a script since PostgreSQL 13.22, 14.19,
// 15.14, 16.10 and 17.6); a schema-only script has no COPY data, so every
// line starting with a backslash is one.
func withoutMetaCommands(sql []byte) string {
	lines := strings.Split(string(sql), "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(l, "\\") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// seal sums the verified partial archive, writes its .sha256 and renames it
// to final, in that order: a .sha256 beside an archive means verified.
func seal(partial, final string) (string, error) {
	sum, err := fileSum(partial)
	if err != nil {
		return "", fmt.Errorf("backup: checksum: %w", err)
	}
	if err := os.Rename(partial, final); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	line := sum + "  " + filepath.Base(final) + "\n"
	if err := writeSynced(final+".sha256", line); err != nil {
		_ = os.Remove(final)
		return "", fmt.Errorf("backup: write checksum: %w", err)
	}
	return "sha256:" + sum, syncDir(filepath.Dir(final))
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func writeSynced(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}
