package kantreestub

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// healthDB is the web process's database connection: opened at start
// with DATABASE_URL (so a wrong password fails the process, as it fails
// Kantree), and pinged by each health check. A nil *healthDB (no
// database configured) always passes.
type healthDB struct {
	c    command
	mu   sync.Mutex
	conn *pgx.Conn
}

func (c command) openHealthDB(ctx context.Context) (*healthDB, error) {
	if c.cfg.DatabaseURL == "" {
		return nil, nil
	}
	conn, err := c.connect(ctx)
	if err != nil {
		return nil, err
	}
	return &healthDB{c: c, conn: conn}, nil
}

// ping checks the connection within 2 s, reconnecting once when it was
// lost; the error never holds the password.
func (h *healthDB) ping(ctx context.Context) error {
	if h == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn != nil {
		if err := h.conn.Ping(ctx); err == nil {
			return nil
		}
		h.conn.Close(context.Background())
		h.conn = nil
	}
	conn, err := h.c.connect(ctx)
	if err != nil {
		return err
	}
	h.conn = conn
	return nil
}

func (h *healthDB) close() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conn != nil {
		h.conn.Close(context.Background())
	}
}
