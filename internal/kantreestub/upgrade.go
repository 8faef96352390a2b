package kantreestub

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Statuses of an upgrade_db run in UpgradeRunTable.
const (
	UpgradeRunning     = "running"
	UpgradeDone        = "done"
	UpgradeFailed      = "failed"
	UpgradeInterrupted = "interrupted"
)

// upgradeDB records a run, waits KANTREE_STUB_UPGRADE_SECONDS (default 1),
// sets the schema version to KANTREE_VERSION and records the finish. With
// KANTREE_STUB_UPGRADE_FAIL set it records a failure and exits 1 instead;
// SIGTERM during the wait records an interruption.
func (c command) upgradeDB(ctx context.Context) error {
	wait, err := c.upgradeDuration()
	if err != nil {
		return err
	}
	version := first(c.cfg.Version, "unversioned")
	conn, err := c.connect(ctx, UpgradeRunTable, SchemaTable)
	if err != nil {
		return fmt.Errorf("upgrade_db: %w", err)
	}
	defer conn.Close(context.Background())
	var id int64
	err = conn.QueryRow(ctx, `INSERT INTO kantree_stub_upgrade_runs (instance_id, version, fencing_token, started_at, status)
		VALUES ($1, $2, $3, clock_timestamp(), $4) RETURNING id`, c.cfg.InstanceID, version, c.cfg.Fencing, UpgradeRunning).Scan(&id)
	if err != nil {
		return fmt.Errorf("upgrade_db: record start: %w", err)
	}
	c.log.Info("upgrade_db started", "version", version, "run", id, "seconds", wait.Seconds())
	status, runErr := UpgradeDone, error(nil)
	switch failure := c.upgradeFailure(); {
	case !sleep(ctx, wait):
		status, runErr = UpgradeInterrupted, errors.New("upgrade_db: interrupted")
	case failure != nil:
		status, runErr = UpgradeFailed, failure
	}
	if err := finishUpgrade(conn, id, version, status); err != nil {
		return err
	}
	c.log.Info("upgrade_db finished", "version", version, "run", id, "status", status)
	return runErr
}

// upgradeFailure is the failure KANTREE_STUB_UPGRADE_FAIL asks for: "1"
// fails with a message naming the knob, any other text but "0" fails with
// that text as the message; nil when the knob is unset.
func (c command) upgradeFailure() error {
	switch v := c.knob("KANTREE_STUB_UPGRADE_FAIL"); v {
	case "", "0":
		return nil
	case "1":
		return errors.New("upgrade_db: failed as asked by KANTREE_STUB_UPGRADE_FAIL=1")
	default:
		return fmt.Errorf("upgrade_db: %s", v)
	}
}

func (c command) upgradeDuration() (time.Duration, error) {
	v := c.knob("KANTREE_STUB_UPGRADE_SECONDS")
	if v == "" {
		return time.Second, nil
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || s < 0 {
		return 0, fmt.Errorf("upgrade_db: KANTREE_STUB_UPGRADE_SECONDS=%q is not a number of seconds", v)
	}
	return time.Duration(s * float64(time.Second)), nil
}

// finishUpgrade records the end of run id and, when done, the version.
func finishUpgrade(conn *pgx.Conn, id int64, version, status string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if status == UpgradeDone {
			if _, err := tx.Exec(ctx, `INSERT INTO kantree_stub_schema (id, version, applied_at) VALUES (1, $1, clock_timestamp())
				ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, applied_at = EXCLUDED.applied_at`, version); err != nil {
				return fmt.Errorf("upgrade_db: apply version %s: %w", version, err)
			}
		}
		_, err := tx.Exec(ctx, "UPDATE kantree_stub_upgrade_runs SET finished_at = clock_timestamp(), status = $2 WHERE id = $1", id, status)
		if err != nil {
			return fmt.Errorf("upgrade_db: record finish: %w", err)
		}
		return nil
	})
}
