package testbed

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"testing"
)

// shared holds the instances started through Shared and the cleanups that
// Main runs after the tests.
var shared struct {
	sync.Mutex
	active    bool
	instances map[string]*sharedInstance
	cleanups  *cleanupStack
	binDir    string
}

// cleanupStack holds the cleanups of shared instances, run last-in first-out.
type cleanupStack struct {
	mu  sync.Mutex
	fns []func()
	ctx context.Context
	end context.CancelFunc
}

func (c *cleanupStack) push(f func()) { c.mu.Lock(); c.fns = append(c.fns, f); c.mu.Unlock() }

func (c *cleanupStack) run() {
	c.end()
	for {
		c.mu.Lock()
		n := len(c.fns)
		if n == 0 {
			c.mu.Unlock()
			return
		}
		f := c.fns[n-1]
		c.fns = c.fns[:n-1]
		c.mu.Unlock()
		f()
	}
}

type sharedInstance struct {
	once   sync.Once
	value  any
	failed string
	skip   string
}

// Main runs the package's tests, then stops every service started through
// Shared and removes binaries built by BuildPlatform and BuildKantreeNomad;
// it exits with the tests' status. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testbed.Main(m) }
func Main(m *testing.M) {
	shared.Lock()
	ctx, cancel := context.WithCancel(context.Background())
	shared.active = true
	shared.cleanups = &cleanupStack{ctx: ctx, end: cancel}
	shared.instances = map[string]*sharedInstance{}
	shared.Unlock()
	code := m.Run()
	shared.cleanups.run()
	if shared.binDir != "" {
		os.RemoveAll(shared.binDir)
	}
	os.Exit(code)
}

// Shared returns the instance named key, starting it with start on first
// use. With Main active, the instance lives until the package's tests end
// and every test gets the same value; a start that skipped or failed makes
// every caller skip or fail with the same message. Without Main, Shared
// calls start(t) on every call.
func Shared[T any](t testing.TB, key string, start func(testing.TB) T) T {
	t.Helper()
	shared.Lock()
	if !shared.active {
		shared.Unlock()
		return start(t)
	}
	inst := shared.instances[key]
	if inst == nil {
		inst = &sharedInstance{}
		shared.instances[key] = inst
	}
	tb := &mainTB{stack: shared.cleanups, name: "TestMain/" + key}
	shared.Unlock()
	inst.once.Do(func() { inst.value, inst.failed, inst.skip = tb.run(func(tb testing.TB) any { return start(tb) }) })
	switch {
	case inst.failed != "":
		t.Fatalf("testbed: shared %s failed to start: %s", key, inst.failed)
	case inst.skip != "":
		t.Skipf("%s", inst.skip)
	}
	return inst.value.(T)
}

// binDir returns the directory for binaries built during the test run.
func binDir(t testing.TB) string {
	shared.Lock()
	defer shared.Unlock()
	if !shared.active {
		return t.TempDir()
	}
	if shared.binDir == "" {
		d, err := os.MkdirTemp("", "testbed-bin-")
		if err != nil {
			t.Fatalf("testbed: create build directory: %v", err)
		}
		shared.binDir = d
	}
	return shared.binDir
}

// mainTB is the testing.TB given to start functions of shared instances: its
// cleanups run at the end of Main, and its Fatal and Skip end only the start
// function's goroutine.
type mainTB struct {
	testing.TB // nil: every method is overridden below
	stack      *cleanupStack
	name       string
	mu         sync.Mutex
	failed     bool
	skipped    bool
	msg        string
}

// run calls start in its own goroutine (so that Fatal and Skip can end it)
// and reports its value, or why it failed or skipped.
func (m *mainTB) run(start func(testing.TB) any) (value any, failed, skip string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		value = start(m)
	}()
	<-done
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.failed:
		return nil, m.msg, ""
	case m.skipped:
		return nil, "", m.msg
	}
	return value, "", ""
}

func (m *mainTB) record(failed, skipped bool, msg string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failed = m.failed || failed
	m.skipped = m.skipped || skipped
	if msg != "" {
		if m.msg != "" {
			m.msg += "; "
		}
		m.msg += msg
	}
	if failed {
		fmt.Fprintf(os.Stderr, "testbed: %s: %s\n", m.name, msg)
	}
}

func (m *mainTB) ArtifactDir() string          { return m.TempDir() }
func (m *mainTB) Attr(key, value string)       {}
func (m *mainTB) Cleanup(f func())             { m.stack.push(f) }
func (m *mainTB) Error(args ...any)            { m.record(true, false, fmt.Sprint(args...)) }
func (m *mainTB) Errorf(f string, args ...any) { m.record(true, false, fmt.Sprintf(f, args...)) }
func (m *mainTB) Fail()                        { m.record(true, false, "") }
func (m *mainTB) FailNow()                     { m.record(true, false, ""); runtime.Goexit() }
func (m *mainTB) Fatal(args ...any)            { m.Error(args...); runtime.Goexit() }
func (m *mainTB) Fatalf(f string, args ...any) { m.Errorf(f, args...); runtime.Goexit() }
func (m *mainTB) Helper()                      {}
func (m *mainTB) Log(args ...any)              { m.logf("%s", fmt.Sprint(args...)) }
func (m *mainTB) Logf(f string, args ...any)   { m.logf(f, args...) }
func (m *mainTB) Name() string                 { return m.name }
func (m *mainTB) Setenv(key, value string) {
	m.Fatalf("Setenv is not allowed in a shared instance's start")
}
func (m *mainTB) Chdir(dir string) { m.Fatalf("Chdir is not allowed in a shared instance's start") }
func (m *mainTB) Skip(args ...any) { m.record(false, true, fmt.Sprint(args...)); runtime.Goexit() }
func (m *mainTB) SkipNow()         { m.record(false, true, ""); runtime.Goexit() }
func (m *mainTB) Skipf(f string, args ...any) {
	m.record(false, true, fmt.Sprintf(f, args...))
	runtime.Goexit()
}
func (m *mainTB) Context() context.Context { return m.stack.ctx }
func (m *mainTB) Output() io.Writer        { return logWriter{m} }
func (m *mainTB) Failed() bool             { m.mu.Lock(); defer m.mu.Unlock(); return m.failed }
func (m *mainTB) Skipped() bool            { m.mu.Lock(); defer m.mu.Unlock(); return m.skipped }

func (m *mainTB) TempDir() string {
	d, err := os.MkdirTemp("", "testbed-main-")
	if err != nil {
		m.Fatalf("testbed: create temp dir: %v", err)
	}
	m.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func (m *mainTB) logf(f string, args ...any) {
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "testbed: "+f+"\n", args...)
	}
}

type logWriter struct{ m *mainTB }

func (w logWriter) Write(p []byte) (int, error) { w.m.logf("%s", p); return len(p), nil }
