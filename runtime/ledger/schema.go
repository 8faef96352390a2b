package ledger

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// SchemaRelease returns the newest release (compared as versions) that has
// a succeeded attempt: the release the schema is at. found is false when no
// release has succeeded yet or the table does not exist. Recorded releases
// that are not versions (an older migrate accepted any text) are ignored.
func SchemaRelease(ctx context.Context, conn *pgx.Conn) (release string, found bool, err error) {
	rows, err := conn.Query(ctx, `SELECT DISTINCT release FROM `+Table+` WHERE status = $1`, StatusSucceeded)
	if err != nil {
		return "", false, missingIsEmpty(fmt.Errorf("read applied releases from %s: %w", Table, err))
	}
	releases, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", false, missingIsEmpty(fmt.Errorf("read applied releases from %s: %w", Table, err))
	}
	release = Newest(releases)
	return release, release != "", nil
}

// Newest returns the newest of releases compared as versions, ignoring
// those that are not versions; "" when none is.
func Newest(releases []string) string {
	var best rules.Version
	found := false
	for _, r := range releases {
		v, err := rules.ParseVersion(r)
		if err == nil && (!found || v.Compare(best) > 0) {
			best, found = v, true
		}
	}
	if !found {
		return ""
	}
	return best.String()
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
