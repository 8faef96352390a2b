package migrate

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// MarkerVar is the environment variable migrate puts in its command's
// environment. Its value is recorded with the attempt, so that the attempt's
// processes can be found on this host even after they left the command's
// process group or session: descendants inherit it.
const MarkerVar = "KANTREE_NOMAD_MIGRATION_ATTEMPT"

// newMarker returns a random marker value.
func newMarker() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// BootID returns this host's boot ID: processes recorded under another boot
// ID are on another host or from before a reboot.
func BootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// boottime is CLOCK_BOOTTIME: it keeps counting while the host is
// suspended, so a lease deadline measured with it is never late.
func boottime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		panic(fmt.Sprintf("clock_gettime(CLOCK_BOOTTIME): %v", err))
	}
	return time.Duration(ts.Nano())
}

// markedPIDs lists the processes of this host whose environment carries
// marker, and how many processes could not be read (another user's).
func markedPIDs(marker string) (pids []int, unreadable int) {
	want := []byte(MarkerVar + "=" + marker)
	paths, _ := filepath.Glob("/proc/[0-9]*/environ")
	self := os.Getpid()
	for _, p := range paths {
		pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if pid == self {
			continue
		}
		env, err := os.ReadFile(p)
		switch {
		case errors.Is(err, os.ErrPermission):
			unreadable++
		case err == nil && hasEntry(env, want) && !zombie(pid):
			pids = append(pids, pid)
		}
	}
	return pids, unreadable
}

func hasEntry(env, want []byte) bool {
	for e := range bytes.SplitSeq(env, []byte{0}) {
		if bytes.Equal(e, want) {
			return true
		}
	}
	return false
}

// zombie reports whether pid has exited and waits to be reaped.
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || len(b) < i+3 || b[i+2] == 'Z'
}

// sweep SIGKILLs every process of this host that carries marker, until
// none is left or timeout passes. It returns the pids still alive.
func sweep(marker string, timeout time.Duration) []int {
	if marker == "" {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for {
		pids, _ := markedPIDs(marker)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
