// Package ledger is the migration ledger: the PostgreSQL table in which
// runtime/migrate records every attempt to apply a release, and from which
// runtime/preflight (and status tools) read the release the schema is at.
//
// Each row is one attempt. A row in status "running" carries a lease: a
// deadline in the server's clock (lease_until) that its holder renews while
// the command runs, the holder's host boot ID and the marker placed in the
// command's environment, so that a successor on the same host can find what
// the attempt left behind. A unique partial index allows at most one
// running row per database, whatever advisory lock key the holders use.
//
// Every deadline is compared with clock_timestamp() on the server: a lease
// never depends on the clocks of the hosts that run migrate agreeing.
//
// The package only reads and writes the table; it runs no command, prints
// nothing and decides no policy (when to wait, take over or refuse is
// runtime/migrate's business).
package ledger
