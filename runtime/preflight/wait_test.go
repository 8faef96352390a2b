package preflight_test

import (
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestPreflightWaitsForPostgresToComeUp(t *testing.T) {
	pg := testbed.StartPostgres(t)
	rd := sharedRedis(t)
	dbURL := pg.URL("postgres")
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	cmd, out := preflightCmd(t, dbURL, rd.URL(), "-timeout", "60s", "-max-backoff", "1s")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	restarted := time.Now()
	pg.Restart(t)
	up := time.Since(restarted)
	r := wait(t, cmd, out, start)
	if r.code != 0 || !strings.Contains(r.output, "preflight: ok: postgres") {
		t.Fatalf("exit %d, want 0 once PostgreSQL is up:\n%s", r.code, r.output)
	}
	if r.elapsed < 5*time.Second || strings.Count(r.output, "kind=connection-refused") < 3 {
		t.Errorf("preflight did not wait with refused attempts (%v):\n%s", r.elapsed, r.output)
	}
	t.Logf("figure: preflight started 5s before PostgreSQL; PostgreSQL took %v to start; preflight succeeded after %v (%v after the restart began), %d refused attempts",
		up.Round(time.Millisecond), r.elapsed.Round(time.Millisecond), (r.elapsed - restarted.Sub(start)).Round(time.Millisecond),
		strings.Count(r.output, "kind=connection-refused"))
}

func TestPreflightChecksTheSchemaRelease(t *testing.T) {
	pg, rd := sharedPostgres(t), sharedRedis(t)
	dbURL := pg.CreateDatabase(t)
	checkBroken(t, brokenCase{name: "no release yet", dbURL: dbURL, redisURL: rd.URL(),
		kind: "postgres-schema-release", says: "migrate has recorded no successful release",
		secrets: []string{pg.Password, redisPassword}, args: []string{"-release", "8.4.1"}})

	recordRelease(t, dbURL, "8.4.0")
	r := runPreflight(t, dbURL, rd.URL(), "-timeout", "1500ms", "-release", "8.4.1")
	if r.code == 0 || !strings.Contains(finalLines(r.output), "the schema is at release 8.4.0, older than 8.4.1") {
		t.Fatalf("exit %d, want the release found named:\n%s", r.code, r.output)
	}
	recordRelease(t, dbURL, "8.4.1")
	r = runPreflight(t, dbURL, rd.URL(), "-timeout", "20s", "-release", "8.4.1")
	if r.code != 0 || !strings.Contains(r.output, "schema at release 8.4.1") {
		t.Fatalf("exit %d, want 0 with the release:\n%s", r.code, r.output)
	}
}

// A process starts on a schema at or after its own release (an old
// allocation restarting mid-release, a rollback), never on an older one;
// releases compare as versions, not as strings.
func TestPreflightReleaseGateComparesVersions(t *testing.T) {
	pg, rd := sharedPostgres(t), sharedRedis(t)
	dbURL := pg.CreateDatabase(t)
	recordRelease(t, dbURL, "8.9.0")
	recordRelease(t, dbURL, "8.10.0")
	for _, tc := range []struct {
		release string
		ok      bool
	}{{"8.9.0", true}, {"8.10", true}, {"8.10.0-rc1", true}, {"8.10.0", true}, {"8.10.1", false}, {"9.0", false}} {
		r := runPreflight(t, dbURL, rd.URL(), "-timeout", "1500ms", "-attempt-timeout", "1s", "-release", tc.release)
		if (r.code == 0) != tc.ok || (r.code == 0 && !strings.Contains(r.output, "schema at release 8.10.0")) {
			t.Errorf("-release %s on a schema at 8.10.0: exit %d, want ok=%v:\n%s", tc.release, r.code, tc.ok, r.output)
		}
	}
}

// recordRelease applies release with `kantree-nomad migrate` running a
// command that succeeds at once, so that the ledger is written by migrate.
func recordRelease(t *testing.T, dbURL, release string) {
	t.Helper()
	bin := testbed.BuildKantreeNomad(t)
	cmd, out := preflightCmd(t, dbURL, "", "unused")
	cmd.Args = []string{bin, "migrate", "-release", release, "--", "/bin/true"}
	if err := cmd.Run(); err != nil {
		t.Fatalf("migrate -release %s: %v\n%s", release, err, out.String())
	}
}

func TestPreflightWaitsForTheMigration(t *testing.T) {
	pg, rd := sharedPostgres(t), sharedRedis(t)
	dbURL := pg.CreateDatabase(t)
	recordRelease(t, dbURL, "8.4.0")
	cmd, out := preflightCmd(t, dbURL, rd.URL(), "-timeout", "60s", "-max-backoff", "500ms", "-release", "8.4.1")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	recordRelease(t, dbURL, "8.4.1")
	r := wait(t, cmd, out, start)
	if r.code != 0 || !strings.Contains(r.output, "kind=postgres-schema-release") ||
		!strings.Contains(r.output, "schema at release 8.4.1") {
		t.Fatalf("exit %d, want 0 after waiting for release 8.4.1:\n%s", r.code, r.output)
	}
}
