package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Nginx is an nginx master (daemon off) with one worker, whose files all
// live in Dir.
type Nginx struct {
	*Process
	Port     int    // the port that replaced @PORT@, else the first listen port; 0 if none
	Dir      string // prefix directory: nginx.conf, error.log, access.log, temp dirs
	ConfPath string // Dir/nginx.conf
	bin      string
}

// Placeholders StartNginx replaces in the configuration it is given.
const (
	NginxPortPlaceholder = "@PORT@" // a free port on 127.0.0.1, then Nginx.Port
	NginxDirPlaceholder  = "@DIR@"  // Nginx.Dir, e.g. for include @DIR@/upstreams.conf
)

var (
	httpBlock    = regexp.MustCompile(`(?m)^\s*http\s*\{`)
	listenPort   = regexp.MustCompile(`(?m)^\s*listen\s+(?:[0-9.]+:|\[[^\]]*\]:)?([0-9]+)\b`)
	hasEvents    = regexp.MustCompile(`(?m)^\s*events\s*\{`)
	hasDirective = func(name string) *regexp.Regexp { return regexp.MustCompile(`(?m)^\s*` + name + `\s`) }
)

// StartNginx starts nginx with confBody, after replacing @PORT@ (by a free
// port) and @DIR@ (by the prefix directory). confBody is either the inside
// of the http block (server and upstream blocks), or, when it has a
// top-level "http {", a whole nginx.conf: then the testbed adds what is
// missing to run in the test (daemon off, pid, error_log, events, temp
// paths, and "user root" when running as root). It returns when the port
// accepts connections (or, without a port, when nginx runs).
func StartNginx(t testing.TB, confBody string) *Nginx {
	t.Helper()
	n := &Nginx{Dir: t.TempDir(), bin: Binary(t, "nginx")}
	n.ConfPath = filepath.Join(n.Dir, "nginx.conf")
	n.Process = startRetrying(t, func() procSpec {
		if strings.Contains(confBody, NginxPortPlaceholder) {
			n.Port = FreePort(t)
		}
		conf := n.expand(confBody)
		if n.Port == 0 {
			if m := listenPort.FindStringSubmatch(conf); m != nil {
				n.Port, _ = strconv.Atoi(m[1])
			}
		}
		writeFile(t, n.Dir, "nginx.conf", n.wrap(conf), 0o644)
		if err := n.Test(); err != nil {
			t.Fatalf("testbed: %v", err)
		}
		return procSpec{name: "nginx", path: n.bin, args: n.args(), dir: n.Dir, logDir: n.Dir, ready: n.ready}
	})
	return n
}

func (n *Nginx) expand(body string) string {
	body = strings.ReplaceAll(body, NginxPortPlaceholder, strconv.Itoa(n.Port))
	return strings.ReplaceAll(body, NginxDirPlaceholder, n.Dir)
}

func (n *Nginx) args() []string {
	return []string{"-p", n.Dir + "/", "-c", n.ConfPath, "-e", filepath.Join(n.Dir, "error.log")}
}

// wrap completes conf into an nginx.conf that runs in the foreground with
// every file in Dir.
func (n *Nginx) wrap(conf string) string {
	temps := ""
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		temps += fmt.Sprintf("    %s_temp_path %s;\n", k, filepath.Join(n.Dir, k+"_temp"))
	}
	head := ""
	add := func(name, line string) {
		if !hasDirective(name).MatchString(conf) {
			head += line + "\n"
		}
	}
	add("daemon", "daemon off;")
	add("worker_processes", "worker_processes 1;")
	add("pid", "pid "+filepath.Join(n.Dir, "nginx.pid")+";")
	add("error_log", "error_log "+filepath.Join(n.Dir, "error.log")+" warn;")
	if os.Geteuid() == 0 {
		add("user", "user root;")
	}
	if !httpBlock.MatchString(conf) {
		return head + "events {}\nhttp {\n    access_log " + filepath.Join(n.Dir, "access.log") + ";\n" + temps + conf + "\n}\n"
	}
	if !hasEvents.MatchString(conf) {
		head += "events {}\n"
	}
	loc := httpBlock.FindStringIndex(conf)
	return head + conf[:loc[1]] + "\n" + temps + conf[loc[1]:]
}

func (n *Nginx) ready(ctx context.Context) error {
	if n.Port != 0 {
		return TCPReady("127.0.0.1:" + strconv.Itoa(n.Port))(ctx)
	}
	if _, err := os.Stat(filepath.Join(n.Dir, "nginx.pid")); err != nil {
		return fmt.Errorf("nginx: no pid file yet")
	}
	return nil
}

// Test checks the configuration in ConfPath with nginx -t.
func (n *Nginx) Test() error {
	out, err := exec.Command(n.bin, append([]string{"-t", "-q"}, n.args()...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("nginx -t %s: %w\n%s", n.ConfPath, err, out)
	}
	return nil
}

// WriteConf replaces ConfPath with confBody, completed as StartNginx does
// (the same port and directory); call Reload to apply it.
func (n *Nginx) WriteConf(confBody string) error {
	if err := os.WriteFile(n.ConfPath, []byte(n.wrap(n.expand(confBody))), 0o644); err != nil {
		return fmt.Errorf("write nginx conf: %w", err)
	}
	return nil
}

// Reload checks the configuration (nginx -t), sends SIGHUP and waits until
// a new worker runs, so that requests after Reload see the new
// configuration.
func (n *Nginx) Reload() error {
	if err := n.Test(); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	old := map[int]bool{}
	for _, pid := range descendants(n.PID()) {
		old[pid] = true
	}
	if err := n.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("reload: %w", err)
	}
	if !n.waitWorkers(func(pid int) bool { return !old[pid] }, true, 30*time.Second) {
		return fmt.Errorf("reload nginx: no new worker after 30s; see %s", filepath.Join(n.Dir, "error.log"))
	}
	// Old workers stop accepting and exit once their connections close;
	// long-lived connections (websockets) may keep them longer.
	n.waitWorkers(func(pid int) bool { return old[pid] }, false, 5*time.Second)
	return nil
}

// waitWorkers waits until some worker matching match exists (want true) or
// none does (want false), and reports whether that happened in time.
func (n *Nginx) waitWorkers(match func(pid int) bool, want bool, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		found := false
		for _, pid := range descendants(n.PID()) {
			found = found || (match(pid) && alive(pid))
		}
		if found == want {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
