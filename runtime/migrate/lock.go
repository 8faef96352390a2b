package migrate

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

// DefaultLockKey is the advisory lock key used when none is given: the
// bytes "kntrmigr" read as a big-endian int64.
const DefaultLockKey int64 = 0x6b6e74726d696772

// acquire takes the session-level advisory lock key on conn, polling with
// pg_try_advisory_lock every poll until ctx ends. While it waits it logs
// who holds the lock, at most once per waitLogEvery.
func acquire(ctx context.Context, conn *pgx.Conn, key int64, poll time.Duration, log *slog.Logger) error {
	const waitLogEvery = 5 * time.Second
	var lastLog time.Time
	for {
		var got bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got); err != nil {
			return fmt.Errorf("try advisory lock %d: %w", key, err)
		}
		if got {
			return nil
		}
		if time.Since(lastLog) >= waitLogEvery {
			lastLog = time.Now()
			log.Info("waiting for the migration lock", "lock_key", key, "held_by", lockHolder(ctx, conn, key))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for advisory lock %d: %w", key, context.Cause(ctx))
		case <-time.After(poll):
		}
	}
}

// lockHolder describes the session holding the advisory lock key, as well as
// pg_locks, pg_stat_activity and the ledger can tell.
func lockHolder(ctx context.Context, conn *pgx.Conn, key int64) string {
	var pid int32
	var addr, host string
	err := conn.QueryRow(ctx, `SELECT l.pid, coalesce(host(a.client_addr), 'local'),
		coalesce((SELECT m.host FROM `+ledger.Table+` m WHERE m.status = 'running'
		          AND m.backend_pid = l.pid ORDER BY m.id DESC LIMIT 1), '?')
		FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		  AND l.classid = (($1::bigint >> 32) & 4294967295)::oid
		  AND l.objid = ($1::bigint & 4294967295)::oid LIMIT 1`, key).Scan(&pid, &addr, &host)
	if err != nil {
		// The ledger may not exist yet: say what pg_locks alone knows.
		err = conn.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND objsubid = 1 AND objid = ($1::bigint & 4294967295)::oid LIMIT 1`, key).Scan(&pid)
		if err != nil {
			return "unknown (it may just have been released)"
		}
		return fmt.Sprintf("backend pid %d", pid)
	}
	return fmt.Sprintf("backend pid %d from %s (ledger host %s)", pid, addr, host)
}

// deadSession is how long PostgreSQL keeps the session of a lock holder
// that went silent (a node cut off or powered off, with no FIN or RST ever
// sent) before it ends it, which frees the advisory lock: two thirds of
// the lease. With the server's defaults (TCP keepalive after 2h idle, and
// unacknowledged data retransmitted for about 15 minutes) a successor
// would wait on the lock long after the holder's lease ran out, and deploy
// with it; the lease, not the session, fences the holder, so ending the
// session early costs no safety.
func deadSession(lease time.Duration) time.Duration {
	return max(3*time.Second, lease*2/3)
}

// shortenDeadSession asks the server to end conn's session once its peer
// has been silent for deadSession(lease): keepalive probes after half of
// it while idle, three of them a sixth apart, and a TCP user timeout for
// data left unacknowledged. The settings belong to the session and any
// role may set them; on a Unix socket the server ignores them. A refusal
// (a pooler that does not pass them on) is logged: the lock then waits
// for the server's defaults, as before.
func shortenDeadSession(ctx context.Context, conn *pgx.Conn, lease time.Duration, log *slog.Logger) {
	d := deadSession(lease)
	idle, interval := max(1, int(d.Seconds()/2)), max(1, int(d.Seconds()/6))
	var failed []string
	for _, set := range []string{
		fmt.Sprintf("SET tcp_keepalives_idle = %d", idle),
		fmt.Sprintf("SET tcp_keepalives_interval = %d", interval),
		"SET tcp_keepalives_count = 3",
		fmt.Sprintf("SET tcp_user_timeout = %d", d.Milliseconds()), // PostgreSQL 12 and later
	} {
		if _, err := conn.Exec(ctx, set); err != nil {
			failed = append(failed, set+": "+err.Error())
		}
	}
	if len(failed) > 0 {
		log.Warn("cannot shorten the life of this session if its peer vanishes; a successor may wait on the lock for the server's TCP timeouts",
			"failed", strings.Join(failed, "; "))
	}
}

// release unlocks key on conn. Closing the connection would release it too;
// unlocking first makes the lock free at once for the next waiter.
func release(ctx context.Context, conn *pgx.Conn, key int64) error {
	var ok bool
	if err := conn.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&ok); err != nil {
		return fmt.Errorf("unlock advisory lock %d: %w", key, err)
	}
	if !ok {
		return fmt.Errorf("unlock advisory lock %d: this session did not hold it", key)
	}
	return nil
}
