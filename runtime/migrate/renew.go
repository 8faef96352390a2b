package migrate

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/ledger"
)

// renewer renews the lease of one attempt every Check, on the holder's
// connection or, once that fails, on a new one. It reports each renewal
// that succeeded by the boottime at which it was sent, and closes lost when
// the server says the lease is gone (run out, or taken over).
type renewer struct {
	cfg    *Config
	id     int64
	conn   *pgx.Conn
	ok     chan time.Duration
	lost   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

func startRenewer(ctx context.Context, cfg *Config, conn *pgx.Conn, id int64) *renewer {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r := &renewer{cfg: cfg, id: id, conn: conn, ok: make(chan time.Duration, 1),
		lost: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go r.loop(rctx)
	return r
}

// stop ends the renewals and returns the connection in use (nil if none).
func (r *renewer) stop() *pgx.Conn {
	r.cancel()
	<-r.done
	return r.conn
}

func (r *renewer) loop(ctx context.Context) {
	defer close(r.done)
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.cfg.Check):
		}
		sent := boottime()
		ok, err := r.renew(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				r.cfg.Log.Warn("cannot renew the lease; retrying on a new connection",
					"attempt_id", r.id, "error", diagnosis.Redact(err.Error()))
			}
			failing = true
		case err == nil && !ok:
			close(r.lost)
			return
		case err == nil:
			if failing {
				r.cfg.Log.Info("lease renewed again", "attempt_id", r.id)
			}
			failing = false
			r.report(sent)
		}
	}
}

// report replaces any unread renewal time with sent.
func (r *renewer) report(sent time.Duration) {
	select {
	case <-r.ok:
	default:
	}
	r.ok <- sent
}

// renew makes one renewal, connecting again first if needed.
func (r *renewer) renew(ctx context.Context) (bool, error) {
	if r.conn == nil || r.conn.IsClosed() {
		cctx, cancel := context.WithTimeout(ctx, r.cfg.PingLimit)
		defer cancel()
		c, err := connectOnce(cctx, r.cfg.DSN, diagnosis.RedactDSN(r.cfg.DSN))
		if err != nil {
			return false, err
		}
		r.conn = c
	}
	rctx, cancel := context.WithTimeout(ctx, r.cfg.PingLimit)
	defer cancel()
	ok, err := ledger.Renew(rctx, r.conn, r.id, r.cfg.Lease)
	if err != nil {
		r.conn.Close(context.WithoutCancel(ctx))
		r.conn = nil
	}
	return ok, err
}
