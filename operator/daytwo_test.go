package operator

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	"github.com/redis/go-redis/v9"

	"github.com/kantree-nomad/kantree-nomad/internal/kantreestub"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// Day two on one deployment (two web instances behind nginx as the LB
// system job, under a bounded load the whole time): maintenance on and
// off, then a rotation of secret_key and of the database credentials, then
// a rotation to a wrong database password. One site for all of them keeps
// the package's CI time down (one deploy).
func TestDayTwoUnderLoad(t *testing.T) {
	t.Parallel()
	s := newSite(t, "ktday")
	// Longer than testContext's 5 minutes: the scenario has five steps.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	t.Cleanup(cancel)
	port := testbed.FreePort(t)
	s.webExtra = "  count          = 2\n"
	// quickTimings with a longer healthy deadline: on the shared 2-core
	// machine tasks took up to 45s from received to started, which failed
	// the first deploy. A canary with a wrong password is unhealthy at
	// that deadline (its preflight retries for 2m: credentials may be
	// fixed meanwhile).
	s.timingsHCL = strings.Replace(quickTimings, `"45s"`, `"100s"`, 1)
	creds := newRoles(t, s)
	s.putSecrets(creds.url("a"), "first-secret")
	s.write("8.4.1", s.stdArchive("8.4.1"), lbBlock(t, port, "", ""))
	mustDeploy(t, s, ctx)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	l := startDayLoad(t, base)
	l.waitInstances(t, 2)

	t.Run("maintenance", func(t *testing.T) { checkMaintenance(t, s, ctx, l, base) })
	t.Run("logs", func(t *testing.T) { checkLogs(t, s, ctx) })
	t.Run("run", func(t *testing.T) { checkRun(t, s, ctx) })
	follow := startFollow(t, s, ctx)
	t.Run("rotate", func(t *testing.T) { checkRotation(t, s, ctx, l, creds) })
	t.Run("logs-follow", func(t *testing.T) { follow.check(t, s) })
	t.Run("rotate-bad", func(t *testing.T) { checkBadRotation(t, s, ctx, l, creds) })
}

// checkLogs: the merged logs of web (two allocations), of the migration
// and of the load balancer, each line prefixed with its allocation.
func checkLogs(t *testing.T, s *site, ctx context.Context) {
	start := time.Now()
	out, code := s.run(ctx, "logs", s.file, "web", "-stderr", "-n", "5")
	t.Logf("figure: logs of web took %s", time.Since(start).Round(time.Millisecond))
	if code != 0 {
		t.Fatalf("logs: exit %d\n%s", code, out)
	}
	for _, id := range runningAllocs(t, s, s.job, "web") {
		if !strings.Contains(out, "[web "+id+" ") {
			t.Errorf("logs of web lack allocation %s:\n%s", id, out)
		}
	}
	if out, code := s.run(ctx, "logs", "-stderr", s.file, "upgrade-db"); code != 0 || !strings.Contains(out, "[upgrade-db ") {
		t.Errorf("logs of upgrade-db: exit %d\n%s", code, out)
	}
	if out, code := s.run(ctx, "logs", s.file, "lb"); code != 0 { // nginx may have written nothing
		t.Errorf("logs of lb: exit %d\n%s", code, out)
	}
	if out, code := s.run(ctx, "logs", s.file, "nope"); code != 1 || !strings.Contains(out, "The processes of this deployment are: web") {
		t.Errorf("logs of an unknown process: exit %d\n%s", code, out)
	}
}

// runningAllocs lists the short IDs of the running allocations of a group.
func runningAllocs(t *testing.T, s *site, job, group string) []string {
	allocs, _, err := s.b.nomad.Client().Jobs().Allocations(job, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range allocs {
		if a.TaskGroup == group && a.ClientStatus == nomadapi.AllocClientStatusRunning {
			out = append(out, short(a.ID))
		}
	}
	return out
}

// follower is `logs -f -stderr FILE web` running in the background.
type follower struct {
	cmd *exec.Cmd
	out *lockedBuffer
}

func startFollow(t *testing.T, s *site, ctx context.Context) *follower {
	f := &follower{out: &lockedBuffer{t: t}}
	f.cmd = exec.CommandContext(ctx, s.b.cli, "logs", "-f", "-stderr", "-n", "1", s.file, "web")
	f.cmd.Env = append(os.Environ(), "NOMAD_ADDR="+s.b.nomad.Addr(), "CONSUL_HTTP_ADDR="+s.b.consul.HTTPAddr)
	f.cmd.Stdout, f.cmd.Stderr = f.out, f.out
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.cmd.Process.Kill(); f.cmd.Wait() })
	return f
}

// check: lines of the web allocations placed after the follower started
// (by the rotation), then a clean end on SIGINT.
func (f *follower) check(t *testing.T, s *site) {
	time.Sleep(2 * time.Second)
	for _, id := range runningAllocs(t, s, s.job, "web") {
		if !strings.Contains(f.out.String(), "[web "+id+" ") {
			t.Errorf("logs -f did not pick up allocation %s, started after it", id)
		}
	}
	f.cmd.Process.Signal(os.Interrupt)
	err := f.cmd.Wait()
	if err != nil {
		t.Errorf("logs -f after Ctrl-C: %v, want exit 0", err)
	}
}

// checkRun: an admin command writes to the database with the release's
// secrets; exit codes and both streams pass through; no job remains; a
// file naming a release that is not migrated is refused.
func checkRun(t *testing.T, s *site, ctx context.Context) {
	note := `note {{x}} ${y} %{z} ${NOMAD_ALLOC_ID} "q" @`
	start := time.Now()
	out, code := s.run(ctx, "run", s.file, "--", "./platform", "admin_note", note)
	t.Logf("figure: run admin_note took %s (exit %d):\n%s", time.Since(start).Round(100*time.Millisecond), code, out)
	if code != 0 || !strings.Contains(out, "admin_note: wrote") {
		t.Errorf("run admin_note: exit %d, want 0 and its output", code)
	}
	var got, key string
	if err := testbed.Connect(t, s.db).QueryRow(context.Background(), "SELECT note, secret_key_id FROM kantree_stub_admin_notes ORDER BY id DESC LIMIT 1").Scan(&got, &key); err != nil {
		t.Errorf("read the admin note: %v", err)
	} else if got != note || key != fingerprint("first-secret") {
		t.Errorf("admin note %q with key %q, want %q with %q", got, key, note, fingerprint("first-secret"))
	}
	out, code = s.run(ctx, "run", s.file, "--", "./platform", "admin_exit", "3")
	if code != 3 || !strings.Contains(out, "admin_exit: about to exit 3") || !strings.Contains(out, "admin_exit: this line is on stderr") {
		t.Errorf("run admin_exit 3: exit %d, want 3 and both streams:\n%s", code, out)
	}
	jobs, _, err := s.b.nomad.Client().Jobs().PrefixList(s.job + "-run-")
	if err != nil || len(jobs) != 0 {
		t.Errorf("run left jobs behind: %v %v", jobs, err)
	}
	orig, _ := os.ReadFile(s.file)
	os.WriteFile(s.file, []byte(strings.Replace(string(orig), `version     = "8.4.1"`, `version     = "8.5.0"`, 1)), 0o644)
	out, code = s.run(ctx, "run", s.file, "--", "./platform", "admin_exit", "0")
	os.WriteFile(s.file, orig, 0o644)
	if code != 1 || !strings.Contains(out, "-ignore-migration") {
		t.Errorf("run with a release not migrated: exit %d, want 1 and the hint:\n%s", code, out)
	}
}

// checkMaintenance switches maintenance on (allowing 127.0.0.2) and off
// under load, and reports how long nginx took to follow each switch.
func checkMaintenance(t *testing.T, s *site, ctx context.Context, l *dayLoad, base string) {
	before := allocState(t, s)
	l.expect(expectAny)
	start := time.Now()
	if out, code := s.run(ctx, "maintenance", "on", "-allow", "127.0.0.2", s.file); code != 0 {
		t.Fatalf("maintenance on: exit %d\n%s", code, out)
	}
	on := l.waitSteady(t, http.StatusServiceUnavailable)
	t.Logf("figure: maintenance on: every request answered 503 %s after the command returned (command %s)", on, time.Since(start)-on)
	l.expect(expectMaintenance)
	time.Sleep(3 * time.Second)
	if code, _ := getFrom(t, "127.0.0.2", base+"/"); code != http.StatusOK {
		t.Errorf("GET / from the allowed network 127.0.0.2 during maintenance: %d, want 200", code)
	}
	if code, _ := getFrom(t, "127.0.0.1", base+"/.kantree-lb/health"); code != http.StatusOK {
		t.Errorf("the load balancer's health answer during maintenance: %d, want 200", code)
	}
	if out, _ := s.run(ctx, "status", s.file); !strings.Contains(out, "Maintenance mode: on (still reaching Kantree: 127.0.0.2/32)") {
		t.Errorf("status during maintenance lacks the mode:\n%s", out)
	}
	l.expect(expectAny)
	if out, code := s.run(ctx, "maintenance", "off", s.file); code != 0 {
		t.Fatalf("maintenance off: exit %d\n%s", code, out)
	}
	off := l.waitSteady(t, http.StatusOK)
	t.Logf("figure: maintenance off: every request answered 200 %s after the command returned", off)
	l.expect(expectOK)
	time.Sleep(2 * time.Second)
	if out, _ := s.run(ctx, "status", s.file); !strings.Contains(out, "Maintenance mode: off") {
		t.Errorf("status after maintenance lacks the mode:\n%s", out)
	}
	if after := allocState(t, s); after != before {
		t.Errorf("maintenance restarted or replaced instances:\nbefore %s\nafter  %s", before, after)
	}
	l.check(t, "maintenance")
}

// checkRotation puts a new secret_key and new database credentials (a
// new role whose password has quotes, '@', '{{' and '${'), runs rotate
// under load, and checks: no failed request, every web instance sends the
// new key's fingerprint, no connection of the old role remains, no two
// schedulers ran at once, every queued job was done once.
func checkRotation(t *testing.T, s *site, ctx context.Context, l *dayLoad, creds *roles) {
	jobs := startJobs(t, s, ctx)
	s.putSecrets(creds.url("b"), "second-secret")
	time.Sleep(2 * time.Second) // the templates re-render (noop): nothing may restart
	l.check(t, "the variable change alone")
	start := time.Now()
	out, code := s.run(ctx, "rotate", s.file)
	took := time.Since(start)
	t.Logf("rotate (exit %d):\n%s", code, out)
	if code != 0 || !strings.Contains(out, "==> Every instance of job ktday restarted with the secrets as of") {
		t.Fatalf("rotate: exit %d", code)
	}
	t.Logf("figure: rotate restarted every instance with the new values in %s (2 web, push, worker, scheduler; min_healthy_time 2s)", took.Round(100*time.Millisecond))
	time.Sleep(2 * time.Second)
	want := fingerprint("second-secret")
	if got := l.secretsSince(start.Add(took)); len(got) != 1 || got[0] != want {
		t.Errorf("fingerprints of secret_key answered after rotate: %v, want only %s", got, want)
	}
	if n := creds.connections(t, "a"); n != 0 {
		t.Errorf("%d connections of the old database role remain after rotate", n)
	}
	l.check(t, "rotate")
	if out, _ := s.run(ctx, "status", s.file); !strings.Contains(out, "Drift: none") {
		t.Errorf("status after rotate shows drift (deploy would roll again):\n%s", out)
	}
	jobs.check(t)
	checkSchedulerOverlap(t, s)
}

// checkBadRotation puts a wrong database password and rotates: web's
// canary fails its check, Nomad reverts web, no other group is touched,
// and the load sees no failure.
func checkBadRotation(t *testing.T, s *site, ctx context.Context, l *dayLoad, creds *roles) {
	before := allocState(t, s)
	bad := creds.url("b")
	u, _ := url.Parse(bad)
	u.User = url.UserPassword(u.User.Username(), "not-the-password")
	s.putSecrets(u.String(), "third-secret")
	start := time.Now()
	out, code := s.run(ctx, "rotate", s.file)
	t.Logf("rotate with a wrong database password (exit %d, %s):\n%s", code, time.Since(start).Round(100*time.Millisecond), out)
	if code != 1 || !strings.Contains(out, "Step 1 of 2: restart web") || strings.Contains(out, "Step 2") ||
		!strings.Contains(out, "not restarted: ") || strings.Contains(out, "not-the-password") {
		t.Errorf("rotate with a wrong password: exit %d, want 1, stopped at web's canary, the other groups named as not restarted", code)
	}
	if after := allocState(t, s); after != before {
		t.Errorf("a failed rotation changed the running instances:\nbefore %s\nafter  %s", before, after)
	}
	l.check(t, "a failed rotation")
	if got := l.secretsSince(time.Now().Add(-2 * time.Second)); len(got) != 1 || got[0] != fingerprint("second-secret") {
		t.Errorf("after the failed rotation, instances answer with keys %v, want the previous one", got)
	}
	s.putSecrets(creds.url("b"), "second-secret")
}

// putSecrets writes the site's variable with a database URL and secret key.
func (s *site) putSecrets(dbURL, secretKey string) {
	s.t.Helper()
	v := &nomadapi.Variable{Path: "nomad/jobs/" + s.job, Items: nomadapi.VariableItems{
		"database_url": dbURL, "redis_url": s.redisURL(), "secret_key": secretKey, "license": "test license",
	}}
	if _, _, err := s.b.nomad.Client().Variables().Update(v, nil); err != nil {
		s.t.Fatalf("put variables: %v", err)
	}
}

// redisURL is the site's own Redis database (9): its worker's queue is its
// own.
func (s *site) redisURL() string { return strings.TrimSuffix(s.b.redis.URL(), "/0") + "/9" }

// fingerprint is the stand-in's X-Kantree-Secret for a key.
func fingerprint(key string) string {
	return kantreestub.Config{SecretKey: key}.SecretKeyID()
}

// roles are two login roles of the site's database ("a" and "b"), whose
// sessions act as the database's owner, so either can be the one in
// DATABASE_URL; b's password holds quotes, '@', '{{' and '${'.
type roles struct {
	super, db string
	names     map[string]string
	passwords map[string]string
	base      *url.URL
}

func newRoles(t *testing.T, s *site) *roles {
	u, err := url.Parse(s.db)
	if err != nil {
		t.Fatal(err)
	}
	r := &roles{db: strings.TrimPrefix(u.Path, "/"), base: u, names: map[string]string{}, passwords: map[string]string{
		"a": "first-password", "b": `p@ss"w'{{x}}${y}`,
	}}
	r.super = s.b.pg.SuperURL(r.db)
	conn := testbed.Connect(t, r.super)
	// Sessions of these roles act as the owner (SET role); migrate reads
	// its own session's row of pg_stat_activity, which PostgreSQL shows
	// to the current role only when it may read the stats of the session
	// user's.
	if _, err := conn.Exec(context.Background(), "GRANT pg_read_all_stats TO "+u.User.Username()); err != nil {
		t.Fatalf("grant: %v", err)
	}
	suffix := strings.TrimPrefix(r.db, "test_")
	for _, k := range []string{"a", "b"} {
		r.names[k] = "ktday_" + k + "_" + suffix
		for _, q := range []string{
			fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' IN ROLE %s", r.names[k], strings.ReplaceAll(r.passwords[k], "'", "''"), u.User.Username()),
			fmt.Sprintf("ALTER ROLE %s SET role = %s", r.names[k], u.User.Username()),
		} {
			if _, err := conn.Exec(context.Background(), q); err != nil {
				t.Fatalf("create role: %v", err)
			}
		}
	}
	return r
}

func (r *roles) url(k string) string {
	u := *r.base
	u.User = url.UserPassword(r.names[k], r.passwords[k])
	return u.String()
}

// connections counts the open sessions of role k.
func (r *roles) connections(t *testing.T, k string) int {
	var n int
	if err := testbed.Connect(t, r.super).QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", r.names[k]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// allocState lists the running allocations of the service job with their
// restart counts, to tell whether anything restarted.
func allocState(t *testing.T, s *site) string {
	t.Helper()
	allocs, _, err := s.b.nomad.Client().Jobs().Allocations(s.job, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range allocs {
		if a.ClientStatus != nomadapi.AllocClientStatusRunning {
			continue
		}
		restarts := 0
		for _, ts := range a.TaskStates {
			restarts += int(ts.Restarts)
		}
		out = append(out, fmt.Sprintf("%s/%s(restarts %d)", a.TaskGroup, short(a.ID), restarts))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func checkSchedulerOverlap(t *testing.T, s *site) {
	runs, err := kantreestub.SchedulerRuns(context.Background(), testbed.Connect(t, s.db))
	if err != nil {
		t.Fatal(err)
	}
	if o := kantreestub.Overlap(runs); o != 0 {
		t.Errorf("two schedulers ran at once for %s", o)
	}
	t.Logf("figure: %d scheduler runs, overlap 0", len(runs))
}

// getFrom GETs url from a local source address.
func getFrom(t *testing.T, src, u string) (int, http.Header) {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	cl := &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := cl.Get(u)
	if err != nil {
		t.Logf("GET %s from %s: %v", u, src, err)
		return 0, nil
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// jobQueue pushes a job every 50 ms onto the worker's queue until check.
type jobQueue struct {
	s      *site
	cancel context.CancelFunc
	done   chan struct{}
	pushed atomic.Int64
}

func startJobs(t *testing.T, s *site, ctx context.Context) *jobQueue {
	ctx, cancel := context.WithCancel(ctx)
	q := &jobQueue{s: s, cancel: cancel, done: make(chan struct{})}
	opts, err := redis.ParseURL(s.redisURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	go func() {
		defer close(q.done)
		for i := 0; ctx.Err() == nil; i++ {
			if err := rdb.RPush(ctx, kantreestub.QueuePrefix+"default", fmt.Sprintf("ktday-%d", i)).Err(); err == nil {
				q.pushed.Add(1)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	t.Cleanup(cancel)
	return q
}

// check stops pushing and waits until every pushed job is recorded
// exactly once.
func (q *jobQueue) check(t *testing.T) {
	q.cancel()
	<-q.done
	want := int(q.pushed.Load())
	deadline := time.Now().Add(time.Minute)
	for {
		jobs, err := kantreestub.Jobs(context.Background(), testbed.Connect(t, q.s.db))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		for _, j := range jobs {
			seen[j.Payload]++
		}
		dup := 0
		for _, n := range seen {
			if n > 1 {
				dup++
			}
		}
		if len(seen) == want || time.Now().After(deadline) {
			t.Logf("figure: %d jobs queued during the rotation, %d recorded, %d twice", want, len(seen), dup)
			if len(seen) != want || dup != 0 {
				t.Errorf("jobs: %d queued, %d recorded, %d recorded twice", want, len(seen), dup)
			}
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// What the load expects of each answer.
const (
	expectOK          = iota // 200 from an instance
	expectMaintenance        // 503 with Retry-After
	expectAny                // a switch is under way
)

// dayLoad sends requests through nginx from 3 workers (2 GET /, 1 POST
// /sleep?ms=20), bounded to 5 minutes, and checks each answer against
// what is expected at the time.
type dayLoad struct {
	base   string
	cancel context.CancelFunc
	want   atomic.Int32

	mu       sync.Mutex
	sent     int
	failures []string
	last     []answer // the recent answers, for waitSteady
	secrets  []answer // 200s with their X-Kantree-Secret
	insts    map[string]bool
}

type answer struct {
	at     time.Time
	status int
	secret string
}

func startDayLoad(t *testing.T, base string) *dayLoad {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	l := &dayLoad{base: base, cancel: cancel, insts: map[string]bool{}}
	t.Cleanup(cancel)
	dial := (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	get := &http.Client{Transport: &http.Transport{DialContext: dial}, Timeout: 15 * time.Second}
	post := &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}, Timeout: 15 * time.Second}
	for i := range 3 {
		cl, method, path := get, http.MethodGet, "/"
		if i == 2 {
			cl, method, path = post, http.MethodPost, "/sleep?ms=20"
		}
		go func() {
			for ctx.Err() == nil {
				l.one(ctx, cl, method, base+path)
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	return l
}

func (l *dayLoad) one(ctx context.Context, cl *http.Client, method, u string) {
	req, _ := http.NewRequestWithContext(ctx, method, u, nil)
	resp, err := cl.Do(req)
	if ctx.Err() != nil {
		return
	}
	a := answer{at: time.Now()}
	if err == nil {
		resp.Body.Close()
		a.status, a.secret = resp.StatusCode, resp.Header.Get("X-Kantree-Secret")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	l.last = append(l.last, a)
	if len(l.last) > 30 {
		l.last = l.last[1:]
	}
	if a.status == http.StatusOK {
		l.secrets = append(l.secrets, a)
		l.insts[resp.Header.Get("X-Kantree-Instance")] = true
	}
	bad := false
	switch l.want.Load() {
	case expectOK:
		bad = a.status != http.StatusOK
	case expectMaintenance:
		bad = a.status != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == ""
	}
	if bad {
		l.failures = append(l.failures, fmt.Sprintf("%s %s at %s: status %d, error %v", method, u, a.at.Format("15:04:05.000"), a.status, err))
	}
}

func (l *dayLoad) expect(e int32) { l.want.Store(e) }

// waitInstances waits until n instances answered through nginx.
func (l *dayLoad) waitInstances(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		got := len(l.insts)
		l.mu.Unlock()
		if got >= n {
			l.mu.Lock()
			l.failures = nil // nginx may not have routed yet when the load began
			l.mu.Unlock()
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("fewer than %d instances answered through nginx in a minute", n)
}

// waitSteady waits until the last 30 answers all have status, and
// returns how long after its call the first of them came.
func (l *dayLoad) waitSteady(t *testing.T, status int) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 30*time.Second {
		l.mu.Lock()
		steady := len(l.last) == 30
		for _, a := range l.last {
			steady = steady && a.status == status && a.at.After(start)
		}
		first := time.Duration(0)
		if steady {
			first = l.last[0].at.Sub(start)
		}
		l.mu.Unlock()
		if steady {
			return first
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("answers did not settle on %d within 30s", status)
	return 0
}

// secretsSince returns the distinct fingerprints answered since at.
func (l *dayLoad) secretsSince(at time.Time) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	set := map[string]bool{}
	for _, a := range l.secrets {
		if a.at.After(at) {
			set[a.secret] = true
		}
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// check reports the requests that did not get the expected answer since
// the last check.
func (l *dayLoad) check(t *testing.T, during string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	t.Logf("figure: %s: %d requests through nginx, %d failed", during, l.sent, len(l.failures))
	for i, f := range l.failures {
		if i == 10 {
			break
		}
		t.Errorf("%s: %s", during, f)
	}
	l.sent, l.failures = 0, nil
}
