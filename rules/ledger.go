package rules

import (
	"fmt"
	"strings"
)

// The ledger line is how `kantree-nomad migrate` tells the operator side
// what its ledger recorded: migrate prints it on stdout only after the
// ledger holds the release as applied (a new successful attempt, or a
// schema already at or after the release), and the operator's deploy,
// plan and status read it from the upgrade-db task's log through Nomad.
// The operator never connects to PostgreSQL: the task's own exit code
// and this line are the two witnesses a migration must have.
const ledgerPrefix = "kantree-nomad-ledger:"

// LedgerLine is the line migrate prints once the ledger says release is
// applied: schema is the release the schema is at (release itself, or a
// later one when nothing had to run) and attempt the ledger's attempt.
func LedgerLine(release, schema string, attempt int) string {
	return fmt.Sprintf("%s release=%s status=%s schema=%s attempt=%d", ledgerPrefix, release, LedgerSucceeded, schema, attempt)
}

// LedgerSucceeded is the status of a ledger line that says the release
// is applied.
const LedgerSucceeded = "succeeded"

// LedgerUnknown is the status of an attempt whose end was never recorded
// (its lease ran out while it ran): it may have succeeded, and migrate
// runs the release again only when a person says what happened.
const LedgerUnknown = "unknown"

// UnknownLedgerLine is the line migrate prints when it refuses to go on
// because attempt of release ended with no result recorded: the operator's
// deploy reads it to name the attempt and the decision it needs.
func UnknownLedgerLine(release string, attempt int) string {
	return fmt.Sprintf("%s release=%s status=%s schema=- attempt=%d", ledgerPrefix, release, LedgerUnknown, attempt)
}

// What migrate does with an attempt of its release whose end was never
// recorded: migrate's -unknown flag, which deploy passes on.
const (
	UnknownStop      = "stop"      // refuse, with a hint: a person decides (default)
	UnknownRerun     = "rerun"     // the upgrade did not complete: run the command again
	UnknownSucceeded = "succeeded" // the upgrade completed: record it and run nothing
)

// LedgerRecord is a ledger line read back.
type LedgerRecord struct {
	Release, Status, Schema string
	Attempt                 int
}

// FindLedgerLine returns the last ledger line of output that names
// release, and whether there is one.
func FindLedgerLine(output, release string) (LedgerRecord, bool) {
	lines := strings.Split(output, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		rest, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), ledgerPrefix)
		if !ok {
			continue
		}
		var rec LedgerRecord
		if _, err := fmt.Sscanf(strings.TrimSpace(rest), "release=%s status=%s schema=%s attempt=%d", &rec.Release, &rec.Status, &rec.Schema, &rec.Attempt); err != nil {
			continue
		}
		if rec.Release == release {
			return rec, true
		}
	}
	return LedgerRecord{}, false
}
