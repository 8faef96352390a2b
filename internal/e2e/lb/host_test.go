package lb_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// lbHost is a load-balancer host laid out in a temporary directory as the
// deployment file's nginx block says, running the generated
// consul-template configuration and nginx.
type lbHost struct {
	dir, site, nginxConf string
	base                 string // http://127.0.0.1:port
	dep                  *jobspec.Deployment
	files                []generator.File
}

// deploymentHCL is a deployment whose load balancer lives in dir and asks
// the Consul agent at consulAddr.
func deploymentHCL(dir, consulAddr string, listen int, nginx string) string {
	args := fmt.Sprintf(`"-p", "%[1]s/", "-e", "%[1]s/error.log", "-c", "%[1]s/nginx.conf"`, dir)
	return fmt.Sprintf(`job = "kantree"
nomad_version = "1.6"
kantree {
  version     = "8.4.1"
  server_name = "kantree.test"
  archive { url = "http://127.0.0.1:1/kantree.tar.gz" }
}
process "web" { count = 2 }
process "push" { count = 2 }
load_balancer {
  kind   = "nginx"
  sticky = "cookie"
  listen = %[3]d
  nginx {
    site           = "%[1]s/conf.d/kantree.conf"
    config_dir     = "%[1]s"
    consul_address = "%[2]s"
    test_command   = ["%[4]s", "-t", "-q", %[5]s]
    reload_command = ["%[4]s", "-s", "reload", %[5]s]
  }
}
`, dir, consulAddr, listen, nginx, args)
}

// startLBHost renders the deployment, installs lb/ as the runbook says,
// starts consul-template with it and nginx on loopback.
func startLBHost(t *testing.T, c *testbed.Consul) *lbHost {
	t.Helper()
	nginx := testbed.Binary(t, "nginx")
	h := &lbHost{dir: t.TempDir()}
	port := testbed.FreePort(t)
	h.base = "http://127.0.0.1:" + strconv.Itoa(port)
	dep, _, diags := jobspec.Parse("kantree.hcl", []byte(deploymentHCL(h.dir, c.HTTPAddr, port, nginx)), jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags)
	}
	b, err := generator.Generate(dep)
	if err != nil {
		t.Fatal(err)
	}
	h.dep, h.files = dep, b.Files
	h.writeFiles(t, port)
	testbed.StartConsulTemplate(t, "-config", filepath.Join(h.dir, "consul-template.hcl"))
	h.site = filepath.Join(h.dir, "conf.d", "kantree.conf")
	waitFile(t, h.site)
	testbed.StartCommand(t, testbed.Command{
		Name: "nginx", Path: nginx, Args: []string{"-p", h.dir + "/", "-e", h.dir + "/error.log", "-c", h.nginxConf, "-g", "daemon off;"},
		Ready: testbed.HTTPReady(h.base + jobspec.LBHealthPath),
	})
	return h
}

// writeFiles installs the rendered template and configuration, with the
// site listening on loopback only, and an nginx.conf that includes
// conf.d/*.conf as Debian's does.
func (h *lbHost) writeFiles(t *testing.T, port int) {
	t.Helper()
	for _, sub := range []string{"conf.d", "tmp"} {
		if err := os.MkdirAll(filepath.Join(h.dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctmpl := strings.Replace(string(file(t, h.files, "lb/nginx.conf.ctmpl")), fmt.Sprintf("listen %d;", port), fmt.Sprintf("listen 127.0.0.1:%d;", port), 1)
	write(t, filepath.Join(h.dir, "nginx.conf.ctmpl"), ctmpl)
	write(t, filepath.Join(h.dir, "consul-template.hcl"), string(file(t, h.files, "lb/consul-template.hcl")))
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n"
	}
	h.nginxConf = filepath.Join(h.dir, "nginx.conf")
	write(t, h.nginxConf, fmt.Sprintf("%[2]spid %[1]s/nginx.pid;\nworker_processes 2;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n"+
		"  client_body_temp_path %[1]s/tmp/body;\n  proxy_temp_path %[1]s/tmp/proxy;\n  fastcgi_temp_path %[1]s/tmp/fastcgi;\n"+
		"  uwsgi_temp_path %[1]s/tmp/uwsgi;\n  scgi_temp_path %[1]s/tmp/scgi;\n  include %[1]s/conf.d/*.conf;\n}\n", h.dir, user))
}

func file(t *testing.T, files []generator.File, path string) []byte {
	t.Helper()
	data, ok := generator.FindFile(files, path)
	if !ok {
		t.Fatalf("no rendered file %s", path)
	}
	return data
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not rendered after 30s", path)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// request sends one request through nginx and returns the status and the
// instance that answered.
func request(ctx context.Context, cl *http.Client, method, url string, hdr http.Header) (int, string, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, "", nil, err
	}
	req.Host = "kantree.test"
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	var buf [4096]byte
	for {
		if _, err := resp.Body.Read(buf[:]); err != nil {
			break
		}
	}
	return resp.StatusCode, resp.Header.Get("X-Kantree-Instance"), resp.Header, nil
}
