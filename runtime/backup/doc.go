// Package backup takes the PostgreSQL backup that runtime/migrate requires
// before it runs a release's upgrade, verifies it, and keeps the newest N.
//
// The default backup is `pg_dump -Fc` into a directory (a Nomad host volume
// in the generated upgrade-db job); the operator may give a command of
// their own (pgBackRest, WAL-G, a snapshot script). Either way the database
// reaches the command only through its environment: pg_dump gets libpq's
// PG* variables (PGPASSWORD among them), the operator's command gets
// DATABASE_URL as well. No secret is ever placed in an argument list, a
// file or a log line.
//
// An archive is written under a ".partial" name, verified (non-empty,
// `pg_restore --list` reads its table of contents, and, when a scratch
// database is configured, its schema restores there inside a transaction
// that is rolled back), summed (SHA-256), and only then renamed to its
// final name next to a "<name>.sha256" file in sha256sum's format. An
// archive with no .sha256 beside it was never verified: retention neither
// counts nor deletes it. Retention keeps the newest N verified archives by
// name (the name starts with the UTC time it was taken), so the newest good
// one is never removed.
//
// An operator's command without a directory stores the backup elsewhere
// and must print where on the last line of its output; its exit status is
// all this package can verify then.
//
// The package decides nothing about when a backup is due: runtime/migrate
// asks for one, under its lock, only for a release the ledger has not
// applied, and records the result in the ledger.
package backup
