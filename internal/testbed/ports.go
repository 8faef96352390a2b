package testbed

import (
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"
)

// FreePort returns a TCP port that is free on 127.0.0.1 right now. Another
// program may take it before the caller binds it; services started by the
// testbed fail fast in that case, with their log in the message.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePortOn("127.0.0.1")
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return p
}

// freePortOn returns a port free for both TCP and UDP on ip (Consul's Serf
// uses both).
func freePortOn(ip string) (int, error) {
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return 0, fmt.Errorf("pick a free port on %s: %w", ip, err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort(ip, strconv.Itoa(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("pick a free port on %s: no port free for both TCP and UDP", ip)
}

// dialable reports whether a TCP connection to addr succeeds within d.
func dialable(addr string, d time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, d)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
