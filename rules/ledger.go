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
	return fmt.Sprintf("%s release=%s status=succeeded schema=%s attempt=%d", ledgerPrefix, release, schema, attempt)
}

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
