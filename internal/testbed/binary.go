package testbed

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

const modulePath = "github.com/kantree-nomad/kantree-nomad"

// CI reports whether the environment asks for a CI run (CI set to anything
// but "", "0" or "false"): then a missing program fails the test instead of
// skipping it.
func CI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}

// Missing fails the test when CI() is true and skips it otherwise, with a
// message that names what is missing and `make tools`.
func Missing(t testing.TB, what string) {
	t.Helper()
	msg := fmt.Sprintf("testbed: %s not found; hint: run `make tools` to install the services the tests run", what)
	if CI() {
		t.Fatal(msg + " (CI=true: a missing service fails the run)")
	}
	t.Skip(msg)
}

// Binary returns the path of the program name, looked up in
// <repo>/.tools/bin, $PATH, /usr/sbin and /usr/lib/postgresql/*/bin (newest
// version first). When it is missing the test fails if CI() and skips
// otherwise.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if p := lookBinary(name); p != "" {
		return p
	}
	Missing(t, "program "+name)
	return ""
}

func lookBinary(name string) string {
	var dirs []string
	if root, err := repoRoot(); err == nil {
		dirs = append(dirs, filepath.Join(root, ".tools", "bin"))
	}
	dirs = append(dirs, filepath.SplitList(os.Getenv("PATH"))...)
	dirs = append(dirs, "/usr/sbin", "/usr/local/sbin", "/sbin")
	dirs = append(dirs, postgresBinDirs()...)
	for _, d := range dirs {
		if d == "" || !filepath.IsAbs(d) {
			continue
		}
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// postgresBinDirs lists /usr/lib/postgresql/<version>/bin, newest first.
func postgresBinDirs() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) int {
		n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		return n
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	return dirs
}

// RepoRoot returns the root of the kantree-nomad checkout the test runs in.
func RepoRoot(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return root
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if isModuleRoot(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: no go.mod of module %s above the working directory", modulePath)
		}
		dir = parent
	}
}

func isModuleRoot(gomod string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if f := strings.Fields(s.Text()); len(f) == 2 && f[0] == "module" {
			return f[1] == modulePath
		}
	}
	return false
}

var builds struct {
	sync.Mutex
	paths map[string]string
}

// BuildPlatform builds the stand-in for Kantree's ./platform
// (internal/kantreestub/platform) once per test binary and returns the path
// of the executable, named "platform".
func BuildPlatform(t testing.TB) string {
	t.Helper()
	return build(t, "./internal/kantreestub/platform", "platform", false)
}

// BuildPlatformStatic is BuildPlatform built with CGO_ENABLED=0: a static
// executable that runs in the exec driver's chroot, which has no C
// library of the host.
func BuildPlatformStatic(t testing.TB) string {
	t.Helper()
	return build(t, "./internal/kantreestub/platform", "platform", true)
}

// BuildKantreeNomad builds ./cmd/kantree-nomad once per test binary and
// returns the path of the executable.
func BuildKantreeNomad(t testing.TB) string {
	t.Helper()
	return build(t, "./cmd/kantree-nomad", "kantree-nomad", false)
}

// BuildKantreeNomadStatic is BuildKantreeNomad built with CGO_ENABLED=0, as
// `make build` ships it: it runs in the exec driver's chroot.
func BuildKantreeNomadStatic(t testing.TB) string {
	t.Helper()
	return build(t, "./cmd/kantree-nomad", "kantree-nomad", true)
}

// build runs go build for pkg once per test binary (static: with
// CGO_ENABLED=0). The binary lives in a directory removed by Main, or in the
// test's TempDir when Main is not used; a static build in a subdirectory
// "static", under the same name.
func build(t testing.TB, pkg, name string, static bool) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	key := pkg + " static=" + strconv.FormatBool(static)
	if p, ok := builds.paths[key]; ok {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	dir := binDir(t)
	if static {
		dir = filepath.Join(dir, "static")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("testbed: %v", err)
		}
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = RepoRoot(t)
	if static {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testbed: go build %s: %v\n%s", pkg, err, b)
	}
	if builds.paths == nil {
		builds.paths = map[string]string{}
	}
	builds.paths[key] = out
	return out
}
