// Package migrate runs the database upgrade (./platform upgrade_db) exactly
// once per release, however many copies of the upgrade-db job start at
// once and whatever happens to their connections and processes.
//
// It waits (runtime/retry, up to Config.Wait) for PostgreSQL to be a usable
// primary, takes a session-level advisory lock on one dedicated connection
// (polling pg_try_advisory_lock, so a waiter stays in control and says who
// holds the lock), and, holding it, reads the ledger (runtime/ledger):
//
//   - the schema is at or after this release (compared as versions): nothing
//     to do;
//   - an attempt is running and its lease is live: wait for it, then look
//     again;
//   - an attempt is running and its lease plus a 2s margin has run out on
//     the server's clock: mark it unknown, kill what it left on this host;
//   - this release has an unknown attempt: refuse with a hint, unless the
//     operator said what happened (Config.Unknown: rerun or succeeded);
//   - otherwise record a new running attempt with a lease, run the command
//     while renewing the lease, record how it ended.
//
// A pooler that shares server sessions (PgBouncer transaction pooling) is
// refused, since the lock would not belong to this client.
//
// # Why two upgrade_db never overlap
//
// The advisory lock only orders the migrates that decide; it cannot fence
// a holder, because PostgreSQL frees it the moment the holder's session
// ends (pg_terminate_backend, a PgBouncer restart, a network cut) while the
// holder's command keeps running. Conversely, a holder that vanishes
// without a word (its node cut off or powered off) would keep its session,
// and the lock, for the server's TCP timeouts (hours): the lock session
// asks the server to end it after two thirds of the lease of silence
// (tcp_keepalives_*, tcp_user_timeout), so that a successor reaches the
// ledger by the time the lease runs out. The fence is the lease:
//
//  1. At most one attempt is running: a unique partial index on the ledger
//     allows one row in status running per database, whatever lock key each
//     migrate uses. A command runs only under its own running row.
//  2. A running row leaves that status only when its holder records the end,
//     after the command's whole tree is gone (see below), or when a
//     successor expires it, which the server allows only once
//     clock_timestamp() > lease_until + margin (Expire's WHERE clause; a
//     renewal's WHERE clause requires lease_until > clock_timestamp(), and
//     PostgreSQL serialises the two updates on the row).
//  3. The holder measures its lease from the moment it sent the request that
//     set it, with CLOCK_BOOTTIME (which counts suspended time): the server
//     computed lease_until = clock_timestamp() + Lease after that moment, so
//     the holder's deadline is never later than the server's. Only the
//     clocks' rates matter, never their offset; the margin covers the rates
//     and the final SIGKILL.
//  4. The holder renews every Config.Check, on its connection or, when that
//     fails, on a new one (a lost connection is not a lost lease). When no
//     renewal has succeeded for Lease - 1s - kill grace, it sends SIGTERM to
//     the command; at Lease - 1s, SIGKILL. A deadline found already past
//     (the holder was starved or stopped) means SIGKILL at once, with no
//     grace. A renewal the server refuses (the lease ran out or was taken
//     over) also means SIGKILL at once.
//
// So the holder's command is dead by its deadline, which comes before the
// server's lease_until, which comes before any successor may start its
// own: the successor waits out the lease whether or not the advisory lock
// was free.
//
// # The whole tree
//
// The command is started through runtime/child (its own process group,
// Pdeathsig: it dies with migrate) with a marker variable in its
// environment (MarkerVar) whose value is recorded with the attempt, with
// the host's boot ID. Descendants inherit the marker even when they leave
// the process group or the session (setsid). When the command's leader
// exits, its group is killed, then every process of this host that carries
// the marker: the end is recorded only after that. When migrate itself is
// SIGKILLed, the kernel kills the leader (Pdeathsig), but a descendant in
// another process group survives; the next migrate on the same host (same
// boot ID) kills every process carrying that attempt's marker before it
// runs anything, and refuses if one survives SIGKILL.
//
// What this cannot see: a descendant that clears its environment, or runs
// as a user whose /proc/<pid>/environ migrate cannot read; and leftovers on
// another host, which the next migrate cannot reach. Under Nomad the task
// driver cleans up the latter when migrate's task ends (exec and raw_exec
// kill the task's cgroup, docker its container); outside Nomad, run
// migrate where it is the only thing that starts upgrades, or under a
// supervisor that kills its cgroup. A migrate stopped by SIGSTOP alone
// (its command still running) does not enforce its deadline until it is
// continued: the fence assumes migrate runs when its command runs, as a
// cgroup freeze or a VM pause ensures; runtime/supervise's fence watchdog
// is the way to remove that assumption.
//
// # A success is never repeated because its record was lost
//
// How the command ended is recorded on the holder's connection or, when
// that fails, on new ones, with backoff, for up to Config.RecordFor; the
// command is already gone, so waiting costs no safety, and a late record
// also settles a row a successor has meanwhile marked unknown. When no
// record is possible at all, the row stays running until its lease runs
// out and is then marked unknown: the command may have succeeded (a SIGKILL
// of migrate, a host that vanished, a record that never reached the
// server look the same from outside). Nothing runs that release again until
// a person says what happened: migrate -unknown rerun, or -unknown
// succeeded. A command that exits 0 after being asked to stop is also
// recorded unknown.
//
// The package does not retry the command: a failed attempt is recorded and
// the job (Nomad's restart policy, or a person) runs migrate again.
package migrate
