package ledger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// SchemaRelease returns the newest release (compared as versions) that has
// a succeeded attempt: the release the schema is at. found is false when no
// release has succeeded yet or the table does not exist. A recorded release
// that is not a version is an error: the ledger cannot then say which
// release is newest.
func SchemaRelease(ctx context.Context, conn *pgx.Conn) (release string, found bool, err error) {
	rows, err := conn.Query(ctx, `SELECT DISTINCT release FROM `+Table+` WHERE status = $1`, StatusSucceeded)
	if err != nil {
		return "", false, missingIsEmpty(fmt.Errorf("read applied releases from %s: %w", Table, err))
	}
	releases, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", false, missingIsEmpty(fmt.Errorf("read applied releases from %s: %w", Table, err))
	}
	return newest(releases)
}

// newest returns the newest of releases, compared as versions.
func newest(releases []string) (string, bool, error) {
	best := ""
	for _, r := range releases {
		if best == "" {
			if _, err := rules.ParseVersion(r); err != nil {
				return "", false, fmt.Errorf("ledger %s: release %q: %w", Table, r, err)
			}
			best = r
			continue
		}
		c, err := rules.CompareVersions(r, best)
		if err != nil {
			return "", false, fmt.Errorf("ledger %s: release %q: %w", Table, r, err)
		}
		if c > 0 {
			best = r
		}
	}
	return best, best != "", nil
}

// AtOrAfter reports whether a schema at release applied serves a process of
// release want: a process starts on a schema at or after its own release,
// never on an older one.
func AtOrAfter(applied, want string) (bool, error) {
	c, err := rules.CompareVersions(applied, want)
	if err != nil {
		return false, err
	}
	return c >= 0, nil
}
