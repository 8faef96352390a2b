package backup_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kantree-nomad/kantree-nomad/runtime/backup"
)

// BenchmarkBackup measures the default backup (pg_dump -Fc, pg_restore
// --list, SHA-256, rename) of a database of KANTREE_BENCH_ROWS cards
// (default 200000, about 100 MB on disk) and prints the database's size,
// the archive's size and the time per backup:
//
//	go test -run '^$' -bench BenchmarkBackup -benchtime 3x ./runtime/backup
func BenchmarkBackup(b *testing.B) {
	rows := 200000
	if v, err := strconv.Atoi(os.Getenv("KANTREE_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	db := sharedPostgres(b).CreateDatabase(b)
	seed(b, db, rows)
	execSQL(b, db, "VACUUM ANALYZE")
	dbSize := databaseSize(b, db)
	dir := b.TempDir()
	var res backup.Result
	b.ResetTimer()
	for i := range b.N {
		var err error
		res, err = backup.Take(context.Background(), backup.Config{DSN: db, Release: "2.0.0", Dir: dir, Keep: 1,
			Env: os.Environ(), Now: func() time.Time { return time.Unix(int64(i), 0) }})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(res.Size), "archive-bytes")
	b.ReportMetric(float64(dbSize), "database-bytes")
	fmt.Printf("figure: backup of a %d-row, %.1f MB database: archive %.1f MB, %s per backup (pg_dump -Fc + pg_restore --list + sha256)\n",
		rows, float64(dbSize)/1e6, float64(res.Size)/1e6, (b.Elapsed() / time.Duration(b.N)).Round(time.Millisecond))
}

func databaseSize(b *testing.B, db string) int64 {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n); err != nil {
		b.Fatal(err)
	}
	return n
}
