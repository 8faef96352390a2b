package testbed

import (
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// portWindow is a range of ports reserved for the dynamic ports of one
// Nomad agent. Nomad picks dynamic ports without asking the kernel, so the
// range must be one that nothing else binds: outside FreePort's range and
// the kernel's ephemeral range, and not shared with another agent, even
// one of another test binary. An exclusive flock on a file named after the
// window reserves it; the kernel releases it when the test binary exits.
type portWindow struct {
	lo, hi int
	f      *os.File
}

const portWindowSize = 250

// lockPortWindow reserves a free window until the end of the test, waiting
// up to 2 minutes for one.
func lockPortWindow(t testing.TB) *portWindow {
	t.Helper()
	lo, hi := dynamicPortRange()
	dir := filepath.Join(os.TempDir(), "testbed-nomad-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatalf("testbed: nomad port windows: %v", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for _, i := range mrand.Perm((hi - lo + 1) / portWindowSize) {
			if w := tryWindow(dir, lo+i*portWindowSize); w != nil {
				t.Cleanup(func() { w.f.Close() })
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("testbed: nomad: every dynamic port window in %d-%d is taken (locks in %s)", lo, hi, dir)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func tryWindow(dir string, lo int) *portWindow {
	f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(lo)), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil
	}
	return &portWindow{lo: lo, hi: lo + portWindowSize - 1, f: f}
}

// dynamicPortRange is where the windows are: above the kernel's ephemeral
// range when there is room (61000-65535 by default), else 2000-9999 (below
// FreePort's range).
func dynamicPortRange() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		f := strings.Fields(string(b))
		if len(f) == 2 {
			flo, _ := strconv.Atoi(f[0])
			end, _ := strconv.Atoi(f[1])
			if tlo, _ := portRange(); end > 0 && 65535-end >= 4*portWindowSize && tlo < flo {
				return end + 1, 65535
			}
		}
	}
	return 2000, 9999
}
