package generator_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	consul "github.com/hashicorp/consul/api"
	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// lbHost is a load-balancer host in a temporary directory: the generated
// consul-template configuration, rendered with the host layout of
// load_balancer { nginx { } } pointed at a test Consul and at files in the
// directory, and an nginx main configuration that includes the site.
type lbHost struct {
	dir, ctConfig, site, nginxConf string
	nginx, consulTemplate          string
	token                          string // CONSUL_HTTP_TOKEN for consul-template, if any
}

// newLBHost makes a load-balancer host for files rendered from the basic
// example: their site template, and the consul-template configuration
// rendered again with this host's layout.
func newLBHost(t *testing.T, consulAddr string, files []generator.File) *lbHost {
	t.Helper()
	h := newHost(t)
	ours := renderBasicOn(t, "cookie", jobspec.DefaultListen, h.layout(consulAddr))
	write(t, filepath.Join(h.dir, "nginx.conf.ctmpl"), fileData(t, files, "lb/nginx.conf.ctmpl"))
	write(t, h.ctConfig, fileData(t, ours, "lb/consul-template.hcl"))
	return h
}

// newHost makes the directory of a load-balancer host; render the
// deployment with h.layout applied, then call h.install.
func newHost(t *testing.T) *lbHost {
	t.Helper()
	h := &lbHost{dir: t.TempDir(), nginx: testbed.Binary(t, "nginx"), consulTemplate: testbed.Binary(t, "consul-template")}
	h.site, h.nginxConf, h.ctConfig = filepath.Join(h.dir, "conf.d", "kantree.conf"), filepath.Join(h.dir, "nginx.conf"), filepath.Join(h.dir, "consul-template.hcl")
	for _, sub := range []string{"tmp", "logs", "conf.d"} {
		if err := os.MkdirAll(filepath.Join(h.dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write(t, h.nginxConf, []byte(fmt.Sprintf("pid %[1]s/nginx.pid;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n"+
		"  client_body_temp_path %[1]s/tmp/body;\n  proxy_temp_path %[1]s/tmp/proxy;\n  fastcgi_temp_path %[1]s/tmp/fastcgi;\n"+
		"  uwsgi_temp_path %[1]s/tmp/uwsgi;\n  scgi_temp_path %[1]s/tmp/scgi;\n  include %[1]s/conf.d/*.conf;\n}\n", h.dir)))
	return h
}

// layout is the load_balancer nginx block of this host: its paths, and
// nginx commands that name its prefix and configuration.
func (h *lbHost) layout(consulAddr string) jobspec.NginxHost {
	n := jobspec.NginxHost{Site: h.site, ConfigDir: h.dir, ConsulAddress: consulAddr, ConsulTemplate: h.consulTemplate,
		WaitMin: jobspec.DefaultWaitMin, WaitMax: jobspec.DefaultWaitMax, ReloadTime: jobspec.DefaultReloadTime}
	args := []string{"-p", h.dir + "/", "-e", h.dir + "/logs/error.log", "-c", h.nginxConf}
	n.TestCommand = append([]string{h.nginx, "-t", "-q"}, args...)
	n.ReloadCommand = append([]string{h.nginx, "-s", "reload"}, args...)
	return n
}

// install copies the rendered template and configuration where the
// runbook puts them: both in the configuration directory.
func (h *lbHost) install(t *testing.T, files []generator.File) {
	t.Helper()
	write(t, filepath.Join(h.dir, "nginx.conf.ctmpl"), fileData(t, files, "lb/nginx.conf.ctmpl"))
	write(t, h.ctConfig, fileData(t, files, "lb/consul-template.hcl"))
}

// runOnce runs consul-template once with the generated configuration:
// render the site, then the guarded test-and-reload command. No nginx runs
// here, so the reload fails; consul-template must still exit 0.
func (h *lbHost) runOnce(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.consulTemplate, "-config", h.ctConfig, "-once")
	var errBuf strings.Builder
	cmd.Stdout, cmd.Stderr = &errBuf, &errBuf
	cmd.Env = append(os.Environ(), "CONSUL_HTTP_TOKEN="+h.token)
	if err := cmd.Run(); err != nil {
		t.Fatalf("consul-template -once: %v\n%s", err, errBuf.String())
	}
	return errBuf.String()
}

// render runs consul-template once (see runOnce) and returns the site it
// left in place.
func (h *lbHost) render(t *testing.T) (site, stderr string) {
	t.Helper()
	stderr = h.runOnce(t)
	data, err := os.ReadFile(h.site)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(h.site); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("rendered site mode = %v (%v), want 0644 from perms = 0644", st.Mode(), err)
	}
	return string(data), stderr
}

// nginxTest runs nginx -t on the main configuration including the site.
func (h *lbHost) nginxTest() (string, error) {
	out, err := exec.Command(h.nginx, "-t", "-p", h.dir+"/", "-e", h.dir+"/logs/error.log", "-c", h.nginxConf).CombinedOutput()
	return string(out), err
}

func TestNginxSiteRenderedByConsulTemplate(t *testing.T) {
	c := testbed.StartConsul(t)
	cl := c.Client()
	web := []int{testbed.FreePort(t), testbed.FreePort(t)}
	push := []int{testbed.FreePort(t), testbed.FreePort(t)}
	register(t, cl, "kantree-web", web[0], "passing")
	register(t, cl, "kantree-web", web[1], "passing")
	register(t, cl, "kantree-web", 1, "critical") // must not be routed to
	register(t, cl, "kantree-push", push[0], "passing")
	register(t, cl, "kantree-push", push[1], "passing")

	for _, sticky := range []string{"cookie", "ip"} {
		t.Run(sticky, func(t *testing.T) {
			h := newHost(t)
			h.install(t, renderBasicOn(t, sticky, testbed.FreePort(t), h.layout(c.HTTPAddr)))
			site, stderr := h.render(t)
			if !strings.Contains(stderr, "kantree-nomad: nginx reload failed") {
				t.Errorf("the reload of a stopped nginx did not go through the guard; consul-template said:\n%s", stderr)
			}
			checkUpstream(t, site, "app", web)
			checkUpstream(t, site, "push", push)
			hash := map[string]string{"cookie": "hash $kantree_push_key consistent;", "ip": "hash $remote_addr consistent;"}[sticky]
			if !strings.Contains(site, hash) {
				t.Errorf("no %q in\n%s", hash, site)
			}
			if out, err := h.nginxTest(); err != nil {
				t.Fatalf("nginx -t: %v\n%s\n%s", err, out, site)
			}
		})
	}

	t.Run("no healthy instance", func(t *testing.T) {
		deregisterAll(t, cl, "kantree-web")
		h := newHost(t)
		h.install(t, renderBasicOn(t, "cookie", testbed.FreePort(t), h.layout(c.HTTPAddr)))
		site, _ := h.render(t)
		if got := upstreamServers(site, "app"); len(got) != 1 || got[0] != "127.0.0.1:65535 down" {
			t.Errorf("upstream app = %q, want only the placeholder", got)
		}
		if out, err := h.nginxTest(); err != nil {
			t.Fatalf("nginx -t with the placeholder: %v\n%s\n%s", err, out, site)
		}
	})

	t.Run("failing nginx -t keeps consul-template up", func(t *testing.T) {
		h := newHost(t)
		h.install(t, renderBasicOn(t, "cookie", testbed.FreePort(t), h.layout(c.HTTPAddr)))
		write(t, h.nginxConf, []byte("events {}\nhttp { this_is_not_a_directive on; }\n"))
		previous := "# the previous site\n"
		write(t, h.site, []byte(previous))
		site, stderr := h.render(t) // fails the test if consul-template exits non-zero
		if !strings.Contains(stderr, "this_is_not_a_directive") {
			t.Errorf("nginx -t did not run on the broken configuration; consul-template said:\n%s", stderr)
		}
		if site != previous {
			t.Errorf("after a failing nginx -t the site is\n%s\nwant the previous one restored: %q", site, previous)
		}
	})

	t.Run("failing nginx -t with no previous site removes the new one", func(t *testing.T) {
		h := newHost(t)
		h.install(t, renderBasicOn(t, "cookie", testbed.FreePort(t), h.layout(c.HTTPAddr)))
		write(t, h.nginxConf, []byte("events {}\nhttp { this_is_not_a_directive on; }\n"))
		h.runOnce(t)
		if _, err := os.Stat(h.site); !os.IsNotExist(err) {
			t.Errorf("a site that failed nginx -t was left in place (stat: %v)", err)
		}
	})
}

// renderBasic renders the basic example with the given stickiness and
// nginx port, for a Debian load-balancer host.
func renderBasic(t *testing.T, sticky string, listen int) []generator.File {
	t.Helper()
	d, _, diags := jobspec.Load("../examples/basic/kantree.hcl", jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return renderBasicOn(t, sticky, listen, d.LB.Nginx)
}

// renderBasicOn renders the basic example with the given stickiness, nginx
// port and load-balancer host layout (as the nginx block would set it).
func renderBasicOn(t *testing.T, sticky string, listen int, host jobspec.NginxHost) []generator.File {
	t.Helper()
	d, _, diags := jobspec.Load("../examples/basic/kantree.hcl", jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	d.LB.Sticky, d.LB.Listen, d.LB.Nginx = sticky, listen, host
	b, err := generator.Generate(d)
	if err != nil {
		t.Fatal(err)
	}
	files, err := b.Render("hcl")
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func register(t *testing.T, cl *consul.Client, name string, port int, status string) {
	t.Helper()
	err := cl.Agent().ServiceRegister(&consul.AgentServiceRegistration{
		ID: fmt.Sprintf("%s-%d", name, port), Name: name, Address: "127.0.0.1", Port: port, Tags: []string{jobspec.RoutedTag},
		Check: &consul.AgentServiceCheck{TTL: "1h", Status: status},
	})
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
}

func deregisterAll(t *testing.T, cl *consul.Client, name string) {
	t.Helper()
	services, err := cl.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range services {
		if s.Service == name {
			if err := cl.Agent().ServiceDeregister(id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

var serverLine = regexp.MustCompile(`(?m)^\s*server (\S+)( down)?`)

// upstreamServers lists the servers of one upstream block of the site.
func upstreamServers(site, name string) []string {
	start := strings.Index(site, "upstream "+name+" {")
	if start < 0 {
		return nil
	}
	block := site[start : start+strings.Index(site[start:], "}")]
	var out []string
	for _, m := range serverLine.FindAllStringSubmatch(block, -1) {
		out = append(out, m[1]+m[2])
	}
	return out
}

func checkUpstream(t *testing.T, site, name string, ports []int) {
	t.Helper()
	got := upstreamServers(site, name)
	for i := range got {
		got[i] = strings.Fields(got[i])[0]
	}
	var want []string
	for _, p := range ports {
		want = append(want, fmt.Sprintf("127.0.0.1:%d", p))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("upstream %s servers = %q, want %q\n%s", name, got, want, site)
	}
}

func fileData(t *testing.T, files []generator.File, path string) []byte {
	t.Helper()
	data, ok := generator.FindFile(files, path)
	if !ok {
		t.Fatalf("no rendered file %s", path)
	}
	return data
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if strings.Count(s, old) != 1 {
		t.Fatalf("expected %q once in the generated consul-template configuration:\n%s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}

// TestLBDerivedSettings: shutdown_delay follows the balancer's reaction
// time and a shorter one is refused at its process block; Fabio's push
// rolls without canary; held canaries lose the routing tag.
func TestLBDerivedSettings(t *testing.T) {
	base := "job = \"kantree\"\nkantree {\n  version = \"8.4.1\"\n  server_name = \"k.test\"\n  archive { url = \"https://x.test/k.tgz\" }\n}\n"
	for _, tc := range []struct {
		name, extra string
		wantErr     string // "" for a valid file
		wantDelay   time.Duration
	}{
		{name: "nginx default", wantDelay: 3 * time.Second},
		{name: "nginx slower wait", extra: "load_balancer {\n  nginx { wait_max = \"4s\" }\n}\n", wantDelay: 6 * time.Second},
		{name: "traefik", extra: "load_balancer { kind = \"traefik\" }\n", wantDelay: 16 * time.Second},
		{name: "too short", extra: "process \"web\" {\n  shutdown_delay = \"1s\"\n}\n", wantErr: "kantree.hcl:8,20-24: shutdown_delay too short to drain"},
		{name: "traefik too short", extra: "load_balancer { kind = \"traefik\" }\nprocess \"push\" {\n  shutdown_delay = \"10s\"\n}\n", wantErr: "kantree.hcl:9,20-25: shutdown_delay too short to drain"},
		{name: "wait order", extra: "load_balancer {\n  nginx {\n    wait_min = \"2s\"\n  }\n}\n", wantErr: "wait_min above wait_max"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, diags := jobspec.Parse("kantree.hcl", []byte(base+tc.extra), jobspec.LoadOptions{})
			if tc.wantErr != "" {
				if !strings.Contains(diags.Error(), tc.wantErr) {
					t.Fatalf("diagnostics %q; want %q", diags.Error(), tc.wantErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			for _, kind := range []string{"web", "push"} {
				if got := d.Process(kind).ShutdownDelay; got != tc.wantDelay {
					t.Errorf("%s shutdown_delay = %s, want %s", kind, got, tc.wantDelay)
				}
			}
		})
	}
}

func TestLBCanaries(t *testing.T) {
	base := "job = \"kantree\"\nkantree {\n  version = \"8.4.1\"\n  server_name = \"k.test\"\n  archive { url = \"https://x.test/k.tgz\" }\n}\n"
	for _, tc := range []struct {
		name, lb         string
		pushCanary       int
		canaryRouted     bool // web's canary carries what routes traffic
		routedTag, check string
	}{
		{"nginx hold", "kind = \"nginx\"", 1, false, "routed", "routed"},
		{"nginx route", "canaries = \"route\"", 1, true, "routed", "routed"},
		{"traefik hold", "kind = \"traefik\"", 1, false, "traefik.enable=true", "traefik.enable=false"},
		{"fabio", "kind = \"fabio\"", 0, false, "urlprefix-k.test/", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _, diags := jobspec.Parse("kantree.hcl", []byte(base+"load_balancer { "+tc.lb+" }\n"), jobspec.LoadOptions{})
			if diags.HasErrors() {
				t.Fatal(diags)
			}
			b, err := generator.Generate(d)
			if err != nil {
				t.Fatal(err)
			}
			groups := map[string]*api.TaskGroup{}
			for _, g := range b.Service.TaskGroups {
				groups[*g.Name] = g
			}
			if got := *groups["push"].Update.Canary; got != tc.pushCanary {
				t.Errorf("push canary = %d, want %d", got, tc.pushCanary)
			}
			svc := groups["web"].Services[0]
			if !slices.Contains(svc.Tags, tc.routedTag) || slices.Contains(svc.CanaryTags, tc.routedTag) != tc.canaryRouted {
				t.Errorf("web tags %v, canary tags %v: want %q in tags, in canary tags %v", svc.Tags, svc.CanaryTags, tc.routedTag, tc.canaryRouted)
			}
			if tc.check != "" && tc.check != tc.routedTag && !slices.Contains(svc.CanaryTags, tc.check) {
				t.Errorf("canary tags %v lack %q", svc.CanaryTags, tc.check)
			}
		})
	}
}
