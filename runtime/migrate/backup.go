package migrate

import (
	"context"
	"fmt"
	"strings"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/backup"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

// BackupEntry is one row of the ledger's backup table.
type BackupEntry = ledger.BackupEntry

// backupFirst makes sure the release has a verified backup before its
// first attempt runs: it takes one when the ledger records none for this
// release, and reuses the one recorded otherwise (a retry after a failed
// attempt backs up nothing: the backup that matters is the one taken
// before the first change). It is called under the migration lock, only
// for a release the schema is not at. A backup that fails is recorded and
// stops the release: the error says why and the command does not run.
func (h *holder) backupFirst(ctx context.Context) error {
	if h.cfg.Backup == nil {
		return nil
	}
	if err := ledger.EnsureBackups(ctx, h.conn); err != nil {
		return wrap(err)
	}
	prev, found, err := ledger.GoodBackup(ctx, h.conn, h.cfg.Release)
	if err != nil {
		return wrap(err)
	}
	if found {
		h.cfg.Log.Info("this release already has a verified backup, taken before an earlier attempt; taking no other",
			"release", h.cfg.Release, "location", prev.Location, "taken", prev.Taken)
		h.backup = &prev
		return nil
	}
	return h.takeBackup(ctx)
}

// takeBackup runs runtime/backup and records the result in the ledger.
func (h *holder) takeBackup(ctx context.Context) error {
	cfg := *h.cfg.Backup
	cfg.DSN, cfg.Release = h.cfg.DSN, h.cfg.Release
	h.cfg.Log.Info("taking a backup before the upgrade", "release", h.cfg.Release, "dir", cfg.Dir,
		"command", len(cfg.Command) > 0)
	res, berr := backup.Take(ctx, cfg)
	e := BackupEntry{Release: h.cfg.Release, Host: h.cfg.Host, Method: res.Method, Location: res.Location,
		Size: res.Size, Duration: res.Duration, Checksum: res.Checksum, Status: ledger.BackupGood}
	if berr != nil {
		e.Status, e.Method, e.Detail = ledger.BackupFailed, method(cfg), h.mask(berr.Error())
		if _, err := ledger.RecordBackup(ctx, h.conn, e); err != nil {
			h.cfg.Log.Warn("could not record the failed backup", "error", diagnosis.Redact(err.Error()))
		}
		return rules.WithHint(fmt.Errorf("migrate: release %s not applied: no verified backup: %w", h.cfg.Release, berr),
			rules.Hint(berr)+"; the schema is unchanged. Fix the backup and run the upgrade-db job again, or turn backups off (backup { enabled = false }) knowing the upgrade then runs without one")
	}
	rec, err := ledger.RecordBackup(ctx, h.conn, e)
	if err != nil {
		return rules.WithHint(fmt.Errorf("migrate: release %s not applied: the backup %s was taken but not recorded: %w",
			h.cfg.Release, res.Location, err), "check the connection to PostgreSQL and run the upgrade-db job again")
	}
	h.backup = &rec
	h.cfg.Log.Info("backup taken and verified", "location", rec.Location, "size", rec.Size,
		"duration", rec.Duration, "checksum", rec.Checksum)
	if err := ledger.MarkRemoved(ctx, h.conn, res.Removed); err != nil {
		h.cfg.Log.Warn("could not record the backups retention removed", "error", diagnosis.Redact(err.Error()))
	}
	return nil
}

// mask removes the database's password from text (a backup command may
// print it in its error output) before it reaches the ledger.
func (h *holder) mask(text string) string {
	text = diagnosis.Redact(text)
	for _, s := range diagnosis.Secrets(h.cfg.DSN) {
		text = strings.ReplaceAll(text, s, "xxxxx")
	}
	return text
}

func method(cfg backup.Config) string {
	if len(cfg.Command) > 0 {
		return backup.MethodCommand
	}
	return backup.MethodPgDump
}
