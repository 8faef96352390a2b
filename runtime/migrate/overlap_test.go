package migrate_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// script returns the absolute path of a testdata script.
func script(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run is what one ticker run wrote: its first and last tick.
type run struct {
	name        string
	first, last time.Time
	ticks       int
}

func withConn(t *testing.T, dbURL string, f func(ctx context.Context, conn *pgx.Conn) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := f(ctx, conn); err != nil {
		t.Fatal(err)
	}
}

// createTicks creates the table the ticker writes.
func createTicks(t *testing.T, dbURL string) {
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "CREATE TABLE ticks (run text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())")
		return err
	})
}

// tickRuns returns the ticker runs, in the order they started.
func tickRuns(t *testing.T, dbURL string) []run {
	var runs []run
	withConn(t, dbURL, func(ctx context.Context, conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, "SELECT run, min(at), max(at), count(*) FROM ticks GROUP BY run ORDER BY min(at)")
		if err != nil {
			return err
		}
		runs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (run, error) {
			var x run
			return x, r.Scan(&x.name, &x.first, &x.last, &x.ticks)
		})
		return err
	})
	return runs
}

// overlap returns the total time during which two runs ticked at once, and
// the smallest gap between one run's last tick and the next one's first.
func overlap(runs []run) (total, gap time.Duration) {
	gap = time.Hour
	for i := range runs {
		for j := i + 1; j < len(runs); j++ {
			start, end := later(runs[i].first, runs[j].first), earlier(runs[i].last, runs[j].last)
			if end.After(start) {
				total += end.Sub(start)
			}
			gap = min(gap, runs[j].first.Sub(runs[i].last))
		}
	}
	return total, gap
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func describe(runs []run) string {
	var b strings.Builder
	for _, r := range runs {
		fmt.Fprintf(&b, "  %s: %d ticks %s .. %s\n", r.name, r.ticks,
			r.first.Format("15:04:05.000"), r.last.Format("15:04:05.000"))
	}
	return b.String()
}

// waitTicks waits until some run has ticked.
func waitTicks(t *testing.T, dbURL string) {
	t.Helper()
	waitFor(t, 20*time.Second, "a tick", func() bool { return len(tickRuns(t, dbURL)) > 0 })
}

// killLeftovers SIGKILLs, when the test ends, every process whose
// environment names dbURL (a ticker that escaped its migrate).
func killLeftovers(t *testing.T, dbURL string) {
	t.Cleanup(func() {
		want := []byte("DATABASE_URL=" + dbURL + "\x00")
		paths, _ := filepath.Glob("/proc/[0-9]*/environ")
		for _, p := range paths {
			env, err := os.ReadFile(p)
			if err == nil && strings.Contains(string(env), string(want)) {
				var pid int
				fmt.Sscanf(filepath.Base(filepath.Dir(p)), "%d", &pid)
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}
