// Package migrate runs the database upgrade (./platform upgrade_db) exactly
// once per release, however many copies of the upgrade-db job start at once.
//
// It first waits (runtime/retry, up to Config.Wait) for PostgreSQL to be a
// usable primary. Then one dedicated connection (a pgx.Conn, not a pool)
// takes a session-level PostgreSQL advisory lock. Holding it, migrate reads
// a ledger table it creates itself, skips a release that already succeeded,
// marks rows left "running" by a holder that has died as "interrupted",
// records the start of a new attempt, runs the command while pinging the
// lock connection, and records how it ended (succeeded, failed, killed).
// Then it unlocks. When the lock connection stops answering, it stops the
// command and exits without recording: the row stays "running" until the
// next holder marks it interrupted. A pooler that shares server sessions
// (PgBouncer transaction pooling) is refused, since the lock would not
// belong to this client.
//
// The lock is taken by polling pg_try_advisory_lock rather than by blocking
// in pg_advisory_lock: a waiter then stays in control between attempts, so
// it prints who holds the lock, notices at once when its own connection is
// lost, and leaves promptly on SIGTERM without relying on a query
// cancellation reaching the server. The cost, up to one poll interval of
// extra latency and no FIFO order among waiters, does not matter for a job
// that runs once per release.
//
// The package does not retry the command: a failed attempt is recorded and
// the job (Nomad's restart policy, or a person) runs migrate again.
package migrate
