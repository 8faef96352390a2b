package pgcheck

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// CheckPrimary returns a PGStandby diagnosis when the server conn talks to
// is in recovery (a hot standby), and nil when it is a primary.
func CheckPrimary(ctx context.Context, conn *pgx.Conn, target string) error {
	var inRecovery bool
	if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil {
		return Classify(target, fmt.Errorf("check pg_is_in_recovery(): %w", err))
	}
	if inRecovery {
		d := &diagnosis.Diagnosis{Service: Service, Target: target, Err: errors.New("pg_is_in_recovery() is true")}
		d.Kind, d.Summary, d.Advice = standby()
		return d
	}
	return nil
}

// poolingRounds is how many times CheckSessionPooling looks for a shared
// server session before it concludes that sessions are not shared.
const poolingRounds = 3

// CheckSessionPooling tells whether conn keeps one server session for its
// whole life, as session-level advisory locks need. It opens a second client
// connection to the same dsn and compares pg_backend_pid(): through a pooler
// that hands server connections out per transaction or statement, the server
// session conn just used is idle in the pool and is given to the second
// client (PgBouncer reuses the most recently released one), so both report
// the same backend pid, or conn's pid changes from one statement to the next.
// Neither can happen on a direct connection or in session pooling, where a
// server session belongs to one client until it disconnects: so the check
// has no false positives. It returns a PGTransactionPooling diagnosis when
// sessions are shared.
func CheckSessionPooling(ctx context.Context, conn *pgx.Conn, dsn string) error {
	target := diagnosis.RedactDSN(dsn)
	other, err := Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer other.Close(context.WithoutCancel(ctx))
	for range poolingRounds {
		first, err := backendPID(ctx, conn)
		if err != nil {
			return Classify(target, err)
		}
		second, err := backendPID(ctx, other)
		if err != nil {
			return Classify(target, err)
		}
		again, err := backendPID(ctx, conn)
		if err != nil {
			return Classify(target, err)
		}
		if first == second || first != again {
			return sharedSessions(target, first, second, again)
		}
	}
	return nil
}

func backendPID(ctx context.Context, conn *pgx.Conn) (int32, error) {
	var pid int32
	err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid)
	if err != nil {
		return 0, fmt.Errorf("query pg_backend_pid(): %w", err)
	}
	return pid, nil
}

func sharedSessions(target string, first, second, again int32) *diagnosis.Diagnosis {
	return &diagnosis.Diagnosis{
		Kind: diagnosis.PGTransactionPooling, Service: Service, Target: target,
		Summary: fmt.Sprintf("a pooler shares server sessions between clients (PgBouncer pool_mode=transaction or statement): "+
			"backend pids %d, %d (other client), %d: session advisory locks and session state do not work there", first, second, again),
		Advice: "point kantree-nomad and Kantree at PostgreSQL directly or at a PgBouncer pool with pool_mode=session",
	}
}
