package testbed

import (
	"net"
	"strconv"
	"testing"
)

func TestStartRetryingPicksNewPortsWhenOneIsTaken(t *testing.T) {
	t.Parallel()
	bin := Binary(t, "redis-server")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	r := &Redis{Dir: dir}
	builds := 0
	r.Process = startRetrying(t, func() procSpec {
		builds++
		port := taken
		if builds > 1 {
			port = FreePort(t)
		}
		r.Addr = "127.0.0.1:" + strconv.Itoa(port)
		return procSpec{name: "redis", path: bin, dir: dir, logDir: dir, ready: r.ping,
			args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", ""}}
	})
	if builds != 2 || r.Addr == "127.0.0.1:"+strconv.Itoa(taken) {
		t.Fatalf("%d builds, redis on %s (taken port %d); want a second build on a new port", builds, r.Addr, taken)
	}
}
