package supervise

import (
	"time"

	"golang.org/x/sys/unix"
)

// Clock is the supervisor's source of time. Now must carry a monotonic
// reading (time.Now does). Boottime is CLOCK_BOOTTIME: a clock shared by
// every process on the machine that keeps counting during suspend, used to
// hand the fence deadline to the watchdog process.
type Clock interface {
	Now() time.Time
	Boottime() time.Duration
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Boottime reads CLOCK_BOOTTIME.
func (SystemClock) Boottime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		panic("clock_gettime(CLOCK_BOOTTIME): " + err.Error()) // cannot fail on Linux
	}
	return time.Duration(ts.Nano())
}

// stamp is one instant read on both clocks, taken just before a request is
// sent: a successful answer proves the servers held our lock at some point
// after it.
type stamp struct {
	mono time.Time
	boot time.Duration
}

func now(c Clock) stamp { return stamp{mono: c.Now(), boot: c.Boottime()} }
