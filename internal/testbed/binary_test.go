package testbed_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// helperMode is set when this test binary runs itself as a helper.
var helperMode = os.Getenv("TESTBED_HELPER")

// TestHelperProcess is what the tests below run in a child test binary.
func TestHelperProcess(t *testing.T) {
	switch helperMode {
	case "":
		return // only does something as a helper (no Skip: CI audits skips)
	case "missing":
		testbed.Binary(t, "no-such-program-testbed")
		t.Fatal("Binary returned for a missing program")
	case "shared":
		for i := 0; i < 2; i++ {
			t.Run(fmt.Sprint("user", i), func(t *testing.T) {
				v := testbed.Shared(t, "counter", func(tb testing.TB) *int {
					fmt.Println("HELPER: start ran")
					tb.Cleanup(func() { fmt.Println("HELPER: cleanup ran") })
					n := 42
					return &n
				})
				fmt.Printf("HELPER: got %p %d\n", v, *v)
			})
		}
	case "shared-missing":
		for i := 0; i < 2; i++ {
			t.Run(fmt.Sprint("user", i), func(t *testing.T) {
				testbed.Shared(t, "missing", func(tb testing.TB) string {
					return testbed.Binary(tb, "no-such-program-testbed")
				})
				t.Fatal("Shared returned although its start did not")
			})
		}
	}
}

// runHelper runs TestHelperProcess in mode with CI=ci and returns its
// output and whether it passed.
func runHelper(t *testing.T, mode, ci string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTBED_HELPER="+mode, "CI="+ci)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return string(out), err == nil
}

func TestMissingBinaryFailsInCIAndSkipsOtherwise(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"missing", "shared-missing"} {
		out, ok := runHelper(t, mode, "true")
		if ok || !strings.Contains(out, "--- FAIL") || !strings.Contains(out, "make tools") {
			t.Errorf("%s with CI=true: passed=%v, want a failure naming make tools:\n%s", mode, ok, out)
		}
		out, ok = runHelper(t, mode, "")
		if !ok || !strings.Contains(out, "--- SKIP") || !strings.Contains(out, "make tools") || strings.Contains(out, "--- FAIL") {
			t.Errorf("%s without CI: passed=%v, want a skip naming make tools:\n%s", mode, ok, out)
		}
	}
}

func TestSharedStartsOnceAndCleansUpAfterTheTests(t *testing.T) {
	t.Parallel()
	out, ok := runHelper(t, "shared", "")
	if !ok {
		t.Fatalf("helper failed:\n%s", out)
	}
	var gots []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "HELPER: got ") {
			gots = append(gots, line)
		}
	}
	if strings.Count(out, "HELPER: start ran") != 1 || len(gots) != 2 || gots[0] != gots[1] {
		t.Errorf("want one start and the same value twice:\n%s", out)
	}
	if i, j := strings.Index(out, "HELPER: cleanup ran"), strings.LastIndex(out, "--- PASS: TestHelperProcess"); i < j {
		t.Errorf("cleanup must run once, after the tests:\n%s", out)
	}
}

func TestRepoRootAndBuilds(t *testing.T) {
	t.Parallel()
	root := testbed.RepoRoot(t)
	if _, err := os.Stat(root + "/tools/install.sh"); err != nil {
		t.Fatalf("RepoRoot = %s: %v", root, err)
	}
	p := testbed.BuildPlatform(t)
	if p2 := testbed.BuildPlatform(t); p2 != p {
		t.Errorf("BuildPlatform built twice: %s, %s", p, p2)
	}
	out, _ := exec.Command(p).CombinedOutput()
	if !strings.Contains(string(out), "usage: platform") {
		t.Errorf("platform without arguments: %q", out)
	}
}
