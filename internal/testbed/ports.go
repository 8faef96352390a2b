package testbed

import (
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FreePort returns a TCP port that is free on 127.0.0.1 right now. Ports
// come from below the kernel's ephemeral range (so that no outgoing
// connection takes one before the service binds it) and are never handed
// out twice by one test binary. Another program may still take it first;
// the service then fails to start, with its log in the message.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePortOn("127.0.0.1")
	if err != nil {
		t.Fatalf("testbed: %v", err)
	}
	return p
}

var handedOut struct {
	sync.Mutex
	ports map[string]bool // "ip:port"
}

// freePortOn returns a port free for both TCP and UDP on ip (Consul's Serf
// uses both).
func freePortOn(ip string) (int, error) {
	lo, hi := portRange()
	for i := 0; i < 200; i++ {
		port := lo + mrand.IntN(hi-lo)
		if claim(ip, port) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("pick a free port on %s: none free among 200 tries in %d-%d", ip, lo, hi)
}

// claim reports whether port is free on ip for TCP and UDP and not handed
// out before, and records it as handed out.
func claim(ip string, port int) bool {
	key := net.JoinHostPort(ip, strconv.Itoa(port))
	handedOut.Lock()
	defer handedOut.Unlock()
	if handedOut.ports[key] {
		return false
	}
	l, err := net.Listen("tcp", key)
	if err != nil {
		return false
	}
	defer l.Close()
	u, err := net.ListenPacket("udp", key)
	if err != nil {
		return false
	}
	u.Close()
	if handedOut.ports == nil {
		handedOut.ports = map[string]bool{}
	}
	handedOut.ports[key] = true
	return true
}

// portRange is where free ports are looked for: from 10000 up to the start
// of the ephemeral range (32768 on Linux by default).
func portRange() (lo, hi int) {
	lo, hi = 10000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return lo, hi
	}
	f := strings.Fields(string(b))
	if len(f) == 2 {
		if start, err := strconv.Atoi(f[0]); err == nil && start > lo+1000 {
			hi = start
		} else if end, err := strconv.Atoi(f[1]); err == nil && end < 64000 {
			lo, hi = end+1, 65535
		}
	}
	return lo, hi
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
