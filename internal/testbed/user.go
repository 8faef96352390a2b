package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// serviceUsers are the unprivileged accounts that run PostgreSQL and
// PgBouncer when the tests run as root, in order of preference.
var serviceUsers = []string{"postgres", "nobody"}

// serviceCredential returns the credential to run a program that refuses
// root (PostgreSQL, PgBouncer), or nil when the tests do not run as root.
func serviceCredential(t testing.TB) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	for _, name := range serviceUsers {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	t.Fatalf("testbed: running as root and none of the users %v exists to run PostgreSQL; hint: create one (useradd -r postgres) or run the tests as a normal user", serviceUsers)
	return nil
}

// serviceDir returns a fresh directory writable by the user that runs
// PostgreSQL and PgBouncer: t.TempDir() normally; as root, a directory under
// os.TempDir() (whose parents that user can traverse) owned by that user.
// It is removed at the end of the test.
func serviceDir(t testing.TB, name string) string {
	t.Helper()
	cred := serviceCredential(t)
	if cred == nil {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp(traversableTempDir(), "testbed-"+name+"-")
	if err != nil {
		t.Fatalf("testbed: create %s directory: %v", name, err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		t.Fatalf("testbed: give %s to uid %d: %v", dir, cred.Uid, err)
	}
	return dir
}

// traversableTempDir returns os.TempDir() when every directory on its path
// lets others through (o+x), else /tmp.
func traversableTempDir() string {
	d := os.TempDir()
	for p := d; ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if p == filepath.Dir(p) {
			return d
		}
	}
}

// writeFile writes a configuration file readable by the service user.
func writeFile(t testing.TB, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatalf("testbed: write %s: %v", p, err)
	}
	if cred := serviceCredential(t); cred != nil && mode&0o004 == 0 {
		if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
			t.Fatalf("testbed: give %s to uid %d: %v", p, cred.Uid, err)
		}
	}
	return p
}

// runAs runs a program to completion (initdb, pg_basebackup) as the service
// user, returning its combined output in the error.
func runAs(t testing.TB, dir string, path string, args ...string) error {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: serviceCredential(t), Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(path), err, out)
	}
	return nil
}
