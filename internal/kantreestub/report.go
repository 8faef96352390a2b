package kantreestub

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
)

// Querier is what the report functions read with: *pgx.Conn, *pgxpool.Pool
// and pgx.Tx all satisfy it.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// SchedulerRun is one run of `platform run scheduler`, from its heartbeats.
// First and Last are PostgreSQL clock_timestamp() values.
type SchedulerRun struct {
	RunID        string
	InstanceID   string
	FencingToken string
	LockHeld     bool
	First, Last  time.Time
	Beats        int  // rows, the start and stop rows included
	Stopped      bool // it wrote its "stop" row (it stopped cleanly)
}

// SchedulerRuns reads the heartbeat table and returns the runs ordered by
// their first heartbeat. A missing table means no runs.
func SchedulerRuns(ctx context.Context, db Querier) ([]SchedulerRun, error) {
	rows, err := db.Query(ctx, `SELECT run_id, min(instance_id), min(fencing_token), bool_or(lock_held),
		min(at), max(at), count(*), bool_or(kind = 'stop')
		FROM kantree_stub_heartbeats GROUP BY run_id ORDER BY min(at), run_id`)
	if err != nil {
		if isUndefinedTable(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read scheduler runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (SchedulerRun, error) {
		var s SchedulerRun
		err := r.Scan(&s.RunID, &s.InstanceID, &s.FencingToken, &s.LockHeld, &s.First, &s.Last, &s.Beats, &s.Stopped)
		return s, err
	})
	if err != nil && !isUndefinedTable(err) {
		return nil, fmt.Errorf("read scheduler runs: %w", err)
	}
	return runs, nil
}

// Overlap returns the total time during which two or more runs were active
// at once, a run being active from its first to its last heartbeat. With
// heartbeats every HeartbeatInterval, an overlap shorter than that interval
// can go unseen.
func Overlap(runs []SchedulerRun) time.Duration {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, r := range runs {
		edges = append(edges, edge{r.First, +1}, edge{r.Last, -1})
	}
	// Ends sort before starts at the same instant: touching runs do not overlap.
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return edges[i].delta < edges[j].delta
	})
	var total time.Duration
	active := 0
	for i, e := range edges {
		if active >= 2 && i > 0 {
			total += e.at.Sub(edges[i-1].at)
		}
		active += e.delta
	}
	return total
}

// Gaps returns the intervals, between the first heartbeat of the first run
// and the last heartbeat of the last run, when no run was active.
func Gaps(runs []SchedulerRun) []time.Duration {
	sorted := append([]SchedulerRun(nil), runs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].First.Before(sorted[j].First) })
	var gaps []time.Duration
	var end time.Time
	for i, r := range sorted {
		if i > 0 && r.First.After(end) {
			gaps = append(gaps, r.First.Sub(end))
		}
		if r.Last.After(end) {
			end = r.Last
		}
	}
	return gaps
}

// Job is one job recorded by `platform run worker`.
type Job struct {
	Queue, Payload, InstanceID string
	DoneAt                     time.Time
}

// Jobs returns the recorded jobs in the order they were recorded.
func Jobs(ctx context.Context, db Querier) ([]Job, error) {
	rows, err := db.Query(ctx, "SELECT queue, payload, instance_id, done_at FROM kantree_stub_jobs ORDER BY id")
	if err != nil {
		if isUndefinedTable(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Job, error) {
		var j Job
		err := r.Scan(&j.Queue, &j.Payload, &j.InstanceID, &j.DoneAt)
		return j, err
	})
	if err != nil && !isUndefinedTable(err) {
		return nil, fmt.Errorf("read jobs: %w", err)
	}
	return jobs, nil
}

// UpgradeRun is one run of `platform upgrade_db`.
type UpgradeRun struct {
	ID           int64
	InstanceID   string
	Version      string
	FencingToken string
	Started      time.Time
	Finished     *time.Time // nil while running (or when killed)
	Status       string     // UpgradeRunning, UpgradeDone, UpgradeFailed or UpgradeInterrupted
}

// UpgradeRuns returns every recorded upgrade_db run, in start order.
func UpgradeRuns(ctx context.Context, db Querier) ([]UpgradeRun, error) {
	rows, err := db.Query(ctx, `SELECT id, instance_id, version, fencing_token, started_at, finished_at, status
		FROM kantree_stub_upgrade_runs ORDER BY id`)
	if err != nil {
		if isUndefinedTable(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read upgrade_db runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (UpgradeRun, error) {
		var u UpgradeRun
		err := r.Scan(&u.ID, &u.InstanceID, &u.Version, &u.FencingToken, &u.Started, &u.Finished, &u.Status)
		return u, err
	})
	if err != nil && !isUndefinedTable(err) {
		return nil, fmt.Errorf("read upgrade_db runs: %w", err)
	}
	return runs, nil
}

// CountUpgradeRuns counts the upgrade_db runs that started for version
// (all versions when version is "").
func CountUpgradeRuns(ctx context.Context, db Querier, version string) (int, error) {
	runs, err := UpgradeRuns(ctx, db)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range runs {
		if version == "" || r.Version == version {
			n++
		}
	}
	return n, nil
}

// SchemaVersion returns the version the last successful upgrade_db applied
// ("" when none did).
func SchemaVersion(ctx context.Context, db Querier) (string, error) {
	rows, err := db.Query(ctx, "SELECT version FROM kantree_stub_schema WHERE id = 1")
	if err != nil {
		if isUndefinedTable(err) {
			return "", nil
		}
		return "", fmt.Errorf("read schema version: %w", err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil && !isUndefinedTable(err) {
		return "", fmt.Errorf("read schema version: %w", err)
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

// NodeInitRun is one recorded run of init_node.
type NodeInitRun struct {
	InstanceID string // KANTREE_INSTANCE_ID (the allocation id in the rendered jobs)
	Root       string // the Kantree root it initialized
	InitID     string // the InitID it wrote in NodeMarker
	Run        int    // its number on that root (1 for the first)
	At         time.Time
}

// NodeInitRuns returns the recorded init_node runs in the order they ran.
func NodeInitRuns(ctx context.Context, db Querier) ([]NodeInitRun, error) {
	rows, err := db.Query(ctx, "SELECT instance_id, root, init_id, run, at FROM kantree_stub_node_inits ORDER BY id")
	if err != nil {
		if isUndefinedTable(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read init_node runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (NodeInitRun, error) {
		var n NodeInitRun
		err := r.Scan(&n.InstanceID, &n.Root, &n.InitID, &n.Run, &n.At)
		return n, err
	})
	if err != nil && !isUndefinedTable(err) {
		return nil, fmt.Errorf("read init_node runs: %w", err)
	}
	return runs, nil
}

// ProcessStart is one recorded start of `platform run X` on an initialized
// root.
type ProcessStart struct {
	InstanceID string
	Process    string // web, push, realtime, worker or scheduler
	Root       string
	InitID     string // the InitID of the marker it started on
	InitRuns   int    // how many init_node runs that marker counted
	At         time.Time
}

// ProcessStarts returns the recorded process starts in the order they
// started.
func ProcessStarts(ctx context.Context, db Querier) ([]ProcessStart, error) {
	rows, err := db.Query(ctx, "SELECT instance_id, process, root, init_id, init_runs, at FROM kantree_stub_process_starts ORDER BY id")
	if err != nil {
		if isUndefinedTable(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read process starts: %w", err)
	}
	starts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ProcessStart, error) {
		var s ProcessStart
		err := r.Scan(&s.InstanceID, &s.Process, &s.Root, &s.InitID, &s.InitRuns, &s.At)
		return s, err
	})
	if err != nil && !isUndefinedTable(err) {
		return nil, fmt.Errorf("read process starts: %w", err)
	}
	return starts, nil
}
