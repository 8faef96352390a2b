package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// agent is the Consul dev agent the bench started.
type agent struct {
	cmd  *exec.Cmd
	addr string // host:port of the HTTP API
}

// startConsul starts a dev agent on free loopback ports and waits until it
// has a leader.
func startConsul(ctx context.Context, bin, dir string) (*agent, error) {
	ports, err := freePorts(6)
	if err != nil {
		return nil, err
	}
	a := &agent{addr: "127.0.0.1:" + strconv.Itoa(ports[0])}
	log, err := os.Create(filepath.Join(dir, "consul.log"))
	if err != nil {
		return nil, err
	}
	a.cmd = exec.Command(bin, "agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
		"-http-port", strconv.Itoa(ports[0]), "-serf-lan-port", strconv.Itoa(ports[1]),
		"-serf-wan-port", strconv.Itoa(ports[2]), "-server-port", strconv.Itoa(ports[3]),
		"-grpc-port", strconv.Itoa(ports[4]), "-grpc-tls-port", strconv.Itoa(ports[5]), "-dns-port", "-1", "-log-level", "warn")
	a.cmd.Stdout, a.cmd.Stderr = log, log
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start consul: %w", err)
	}
	ok := waitFor(ctx, 30*time.Second, func() bool { return a.hasLeader() })
	if !ok {
		a.stop()
		return nil, fmt.Errorf("consul dev agent has no leader after 30 s; see %s", log.Name())
	}
	return a, nil
}

func (a *agent) hasLeader() bool {
	resp, err := http.Get("http://" + a.addr + "/v1/status/leader")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && strings.Contains(string(b), ":")
}

func (a *agent) stop() {
	_ = a.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = a.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = a.cmd.Process.Kill()
		<-done
	}
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
