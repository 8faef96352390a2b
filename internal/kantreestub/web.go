package kantreestub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"time"
)

// shutdownGrace bounds how long a server waits for requests in flight
// after SIGTERM.
const shutdownGrace = 10 * time.Second

// maxSleep bounds /sleep requests.
const maxSleep = time.Minute

// serveWeb answers "/" with the instance id, "/health" with ok, and
// "/sleep?ms=N" with the instance id after N ms (to test draining: a
// request in flight at SIGTERM completes). With a database it connects at
// start, as Kantree does, and fails when it cannot (a wrong password);
// its health check then also pings the database.
func (c command) serveWeb(ctx context.Context) error {
	db, err := c.openHealthDB(ctx)
	if err != nil {
		return fmt.Errorf("run web: %w", err)
	}
	defer db.close()
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if err := db.ping(r.Context()); err != nil {
			http.Error(w, "database: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		c.health(w, r)
	})
	mux.HandleFunc("/sleep", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 || time.Duration(ms)*time.Millisecond > maxSleep {
			http.Error(w, "ms: want milliseconds, at most 60000", http.StatusBadRequest)
			return
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintln(w, c.cfg.InstanceID)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, c.cfg.InstanceID)
	})
	return c.serve(ctx, "web", c.cfg.ListenPort(c.cfg.WebPort), mux, nil)
}

// health answers ok, or 503 when the knob KANTREE_STUB_HEALTH_FAIL=1 asks
// for an unhealthy instance (to test that a bad release is not promoted).
func (c command) health(w http.ResponseWriter, r *http.Request) {
	if c.knob("KANTREE_STUB_HEALTH_FAIL") == "1" {
		http.Error(w, "unhealthy as asked by KANTREE_STUB_HEALTH_FAIL=1", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// serve listens on BIND_ADDR:port and serves h until ctx is done, then
// shuts down gracefully; onStop runs after the listener is closed.
func (c command) serve(ctx context.Context, name string, port int, h http.Handler, onStop func()) error {
	addr := net.JoinHostPort(c.cfg.BindAddr, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("run %s: listen on %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: c.withInstance(h), ReadHeaderTimeout: 10 * time.Second}
	c.log.Info("listening", "process", name, "addr", l.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("run %s: serve: %w", name, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = srv.Shutdown(sctx)
	if onStop != nil {
		onStop()
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("run %s: shutdown: %w", name, err)
	}
	c.log.Info("stopped", "process", name)
	return nil
}

// withInstance adds the X-Kantree-Instance header to every response.
func (c command) withInstance(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Kantree-Instance", c.cfg.InstanceID)
		if id := c.cfg.SecretKeyID(); id != "" {
			w.Header().Set("X-Kantree-Secret", id)
		}
		h.ServeHTTP(w, r)
	})
}
