package lb_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/operator"
)

// tlsHost is an lbHost whose site serves HTTPS on tlsPort with the
// certificate files in dir/tls, issued by ca.
type tlsHost struct {
	*lbHost
	ca                *testbed.CA
	tlsPort           int
	tlsBase           string // https://127.0.0.1:tlsPort
	certFile, keyFile string
}

// TestNginxTLS runs the rendered HTTPS site on a load-balancer host
// (consul-template + nginx) with a certificate from a CA the test makes:
// a client that verifies the chain gets Kantree, TLS 1.1 is refused, HTTP
// redirects to HTTPS, HSTS is sent on HTTPS, a websocket to push upgrades
// over TLS, and a renewed certificate is picked up by a graceful reload
// with no failed request under load.
func TestNginxTLS(t *testing.T) {
	c := testbed.StartConsul(t)
	platform := testbed.BuildPlatform(t)
	startPassing(t, c.Client(), platform, "web", 2)
	startPassing(t, c.Client(), platform, "push", 1)
	h := startTLSHost(t, c)
	verified := &http.Client{Transport: &http.Transport{TLSClientConfig: h.ca.ClientConfig()}, Timeout: 10 * time.Second}

	status, inst, hdr, err := request(t.Context(), verified, http.MethodGet, h.tlsBase+"/", nil)
	if err != nil || status != http.StatusOK || !strings.HasPrefix(inst, "web-") {
		t.Fatalf("verified HTTPS GET /: %d from %q, %v", status, inst, err)
	}
	if got := hdr.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("HSTS over HTTPS: %q, want max-age=31536000", got)
	}
	if _, _, _, err := request(t.Context(), &http.Client{Timeout: 5 * time.Second}, http.MethodGet, h.tlsBase+"/", nil); err == nil {
		t.Errorf("a client that does not trust the test CA connected")
	}
	old := &tls.Config{RootCAs: h.ca.Pool, MaxVersion: tls.VersionTLS11}
	if conn, err := tls.Dial("tcp", h.tlsBase[len("https://"):], old); err == nil {
		conn.Close()
		t.Errorf("a TLS 1.1 handshake succeeded")
	}
	h.checkRedirect(t)
	h.checkWebsocket(t)
	h.renewUnderLoad(t)
}

func startTLSHost(t *testing.T, c *testbed.Consul) *tlsHost {
	t.Helper()
	nginx := testbed.Binary(t, "nginx")
	h := &tlsHost{lbHost: &lbHost{dir: t.TempDir()}, ca: testbed.NewCA(t), tlsPort: testbed.FreePort(t)}
	port := testbed.FreePort(t)
	h.base, h.tlsBase = "http://127.0.0.1:"+strconv.Itoa(port), "https://127.0.0.1:"+strconv.Itoa(h.tlsPort)
	h.certFile, h.keyFile = filepath.Join(h.dir, "tls", "fullchain.pem"), filepath.Join(h.dir, "tls", "privkey.pem")
	if err := os.MkdirAll(filepath.Dir(h.certFile), 0o700); err != nil {
		t.Fatal(err)
	}
	h.install(t, h.ca.Issue(t, 24*time.Hour, "kantree.test", "127.0.0.1"))
	tlsBlock := fmt.Sprintf("  tls {\n    listen = %d\n    certificate_file = %q\n    key_file = %q\n    hsts = true\n    hsts_max_age = \"8760h\"\n  }\n  nginx {",
		h.tlsPort, h.certFile, h.keyFile)
	src := strings.Replace(deploymentHCL(h.dir, c.HTTPAddr, port, nginx), "  nginx {", tlsBlock, 1)
	dep, _, diags := jobspec.Parse("kantree.hcl", []byte(src), jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags)
	}
	b, err := generator.Generate(dep)
	if err != nil {
		t.Fatal(err)
	}
	h.dep, h.files = dep, b.Files
	h.writeFiles(t, port)
	ctmpl := filepath.Join(h.dir, "nginx.conf.ctmpl")
	data, err := os.ReadFile(ctmpl)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ctmpl, strings.Replace(string(data), fmt.Sprintf("listen %d ssl;", h.tlsPort), fmt.Sprintf("listen 127.0.0.1:%d ssl;", h.tlsPort), 1))
	testbed.StartConsulTemplate(t, "-config", filepath.Join(h.dir, "consul-template.hcl"))
	h.site = filepath.Join(h.dir, "conf.d", "kantree.conf")
	waitFile(t, h.site)
	testbed.StartCommand(t, testbed.Command{
		Name: "nginx", Path: nginx, Args: []string{"-p", h.dir + "/", "-e", h.dir + "/error.log", "-c", h.nginxConf, "-g", "daemon off;"},
		Ready: testbed.HTTPReady(h.base + jobspec.LBHealthPath),
	})
	return h
}

// install writes a certificate and key as certbot renews them: each file
// replaced whole (a temporary file renamed), the key first.
func (h *tlsHost) install(t *testing.T, leaf *testbed.Leaf) {
	t.Helper()
	for _, f := range []struct {
		path string
		data []byte
	}{{h.keyFile, leaf.KeyPEM}, {h.certFile, leaf.ChainPEM}} {
		tmp := f.path + ".new"
		if err := os.WriteFile(tmp, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			t.Fatal(err)
		}
	}
}

// checkRedirect: plain HTTP answers the health path and redirects the
// rest, path and query kept, to the HTTPS port.
func (h *tlsHost) checkRedirect(t *testing.T) {
	t.Helper()
	noFollow := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	status, _, hdr, err := request(t.Context(), noFollow, http.MethodGet, h.base+"/projects/1?tab=cards", nil)
	want := fmt.Sprintf("https://kantree.test:%d/projects/1?tab=cards", h.tlsPort)
	if err != nil || status != http.StatusMovedPermanently || hdr.Get("Location") != want {
		t.Errorf("HTTP GET: %d Location %q (%v); want 301 to %s", status, hdr.Get("Location"), err, want)
	}
	if hdr.Get("Strict-Transport-Security") != "" {
		t.Errorf("HSTS sent over plain HTTP")
	}
	if status, _, _, err := request(t.Context(), noFollow, http.MethodGet, h.base+jobspec.LBHealthPath, nil); err != nil || status != http.StatusOK {
		t.Errorf("HTTP health: %d %v", status, err)
	}
}

// checkWebsocket opens a websocket to push over TLS through nginx: the
// upgrade reaches the push stand-in, which answers the probe.
func (h *tlsHost) checkWebsocket(t *testing.T) {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: h.ca.ClientConfig(), HandshakeTimeout: 10 * time.Second}
	url := "wss://" + h.tlsBase[len("https://"):] + "/socket.io/?EIO=4&transport=websocket"
	conn, resp, err := d.Dial(url, http.Header{"Host": {"kantree.test"}})
	if err != nil {
		t.Fatalf("websocket over TLS: %v (%v)", err, resp)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, open, err := conn.ReadMessage()
	if err != nil || !strings.Contains(string(open), `"instance":"push-a"`) {
		t.Fatalf("websocket open packet: %q %v", open, err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "3probe" {
		t.Errorf("websocket probe over TLS: %q %v", msg, err)
	}
}

// renewUnderLoad replaces the certificate while a bounded load runs over
// HTTPS: nginx must serve the new one after a graceful reload, and no
// request may fail.
func (h *tlsHost) renewUnderLoad(t *testing.T) {
	t.Helper()
	l := startLoadTLS(h.tlsBase, h.ca.ClientConfig())
	defer l.stop()
	time.Sleep(time.Second)
	next := h.ca.Issue(t, 48*time.Hour, "kantree.test", "127.0.0.1")
	start := time.Now()
	h.install(t, next)
	waitServedCert(t, h.tlsBase[len("https://"):], h.ca, next, 30*time.Second)
	t.Logf("figure: nginx on host: renewed certificate served %s after the files were replaced", time.Since(start).Round(time.Millisecond))
	time.Sleep(time.Second)
	l.stop()
	sent, failed, failures := l.counts()
	t.Logf("figure: certificate renewal under load: %v requests sent, %v failed", sent, failed)
	if sent["GET"] == 0 || sent["POST"] == 0 {
		t.Errorf("load sent %v: nothing measured", sent)
	}
	if failed["GET"]+failed["POST"] != 0 {
		t.Errorf("%v requests failed during the renewal: %s", failed, strings.Join(failures, "; "))
	}
}

// waitServedCert waits until the server at addr presents leaf, verified
// against ca.
func waitServedCert(t *testing.T, addr string, ca *testbed.CA, leaf *testbed.Leaf, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		serial, err := servedSerial(t.Context(), addr, ca)
		if err == nil && serial == leaf.Cert.SerialNumber.String() {
			return
		}
		last = err
		if err == nil {
			last = fmt.Errorf("serves serial %s", serial)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s does not serve certificate %s after %s: %v", addr, leaf.Cert.SerialNumber, timeout, last)
}

func servedSerial(ctx context.Context, addr string, ca *testbed.CA) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: ca.ClientConfig()}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return "", errors.New("no certificate")
	}
	return certs[0].SerialNumber.String(), nil
}

// TestLBSystemJobTLSFromNomadVariables submits the rendered <job>-lb system
// job with tls source "nomad" to a real Nomad agent: its template reads
// the certificate and key from a Nomad Variable into the task's secrets
// directory, nginx serves it over HTTPS to a client that verifies the
// chain, and an updated variable is served after the template's SIGHUP.
func TestLBSystemJobTLSFromNomadVariables(t *testing.T) {
	c := testbed.StartConsul(t)
	n := testbed.StartNomad(t, c, testbed.NomadOptions{})
	platform := testbed.BuildPlatform(t)
	startPassing(t, c.Client(), platform, "web", 1)
	ca := testbed.NewCA(t)
	first := ca.Issue(t, 30*24*time.Hour, "localhost", "127.0.0.1")
	putTLSVariable(t, n, first)
	port, tlsPort := testbed.FreePort(t), testbed.FreePort(t)
	job := lbTLSJob(t, n, port, tlsPort)
	job.Constraints = nil // the test node has no node class
	n.RegisterJob(t, job)
	n.WaitRunning(t, *job.ID, 1, 2*time.Minute)
	waitHTTP(t, "http://127.0.0.1:"+strconv.Itoa(port)+jobspec.LBHealthPath, 30*time.Second)
	addr := "127.0.0.1:" + strconv.Itoa(tlsPort)
	waitServedCert(t, addr, ca, first, 30*time.Second)
	verified := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientConfig()}, Timeout: 10 * time.Second}
	if status, inst, _, err := request(t.Context(), verified, http.MethodGet, "https://"+addr+"/", nil); err != nil || status != 200 || inst != "web-a" {
		t.Errorf("verified HTTPS through the system job: %d from %q, %v", status, inst, err)
	}
	checkStatusCert(t, c, n, job, ca, first)
	next := ca.Issue(t, 48*time.Hour, "localhost", "127.0.0.1")
	start := time.Now()
	putTLSVariable(t, n, next)
	waitServedCert(t, addr, ca, next, 60*time.Second)
	t.Logf("figure: Nomad LB job: updated certificate variable served %s later", time.Since(start).Round(time.Millisecond))
}

// checkStatusCert runs status's certificate check against the running
// system job: the served subject and expiry, at the server name and at the
// LB service's instance, no warning with 30 days left under a 14-day
// threshold, and a warning under a 60-day one.
func checkStatusCert(t *testing.T, c *testbed.Consul, n *testbed.Nomad, job *nomadapi.Job, ca *testbed.CA, leaf *testbed.Leaf) {
	t.Helper()
	waitPassingLB(t, c, *job.ID)
	dep := lbTLSDeployment(t, 0, 0)
	dep.LB.TLS.Listen = job.TaskGroups[0].Networks[0].ReservedPorts[1].Value
	var out strings.Builder
	cl := &operator.Cluster{Nomad: n.Client(), Consul: c.Client(), Out: &out, Now: time.Now}
	rel := &operator.Release{Dep: dep}
	if err := cl.Certificates(t.Context(), rel, operator.DefaultCertWarn, ca.Pool); err != nil {
		t.Errorf("status certificate check: %v\n%s", err, out.String())
	}
	expiry := leaf.Cert.NotAfter.UTC().Format(time.RFC3339)
	if strings.Count(out.String(), `subject "CN=localhost,O=kantree-nomad tests"`) != 2 || strings.Count(out.String(), expiry) != 2 {
		t.Errorf("status certificate lines (want the server name and the instance, subject and expiry %s):\n%s", expiry, out.String())
	}
	t.Logf("status:\n%s", out.String())
	out.Reset()
	if err := cl.Certificates(t.Context(), rel, 60*24*time.Hour, ca.Pool); !errors.Is(err, operator.ErrCertificate) || !strings.Contains(out.String(), "WARNING: expires within") {
		t.Errorf("30 days left under a 60-day threshold: %v\n%s", err, out.String())
	}
}

func putTLSVariable(t *testing.T, n *testbed.Nomad, leaf *testbed.Leaf) {
	t.Helper()
	v := &nomadapi.Variable{Path: "nomad/jobs/kantree-lb", Items: nomadapi.VariableItems{
		"tls_certificate": string(leaf.ChainPEM), "tls_key": string(leaf.KeyPEM)}}
	if _, _, err := n.Client().Variables().Create(v, nil); err != nil {
		t.Fatalf("put the certificate variable: %v", err)
	}
}

// lbTLSJob renders the system job with HTTPS from a Nomad Variable,
// raw_exec and the test bed's nginx, listening on loopback.
func lbTLSJob(t *testing.T, n *testbed.Nomad, port, tlsPort int) *nomadapi.Job {
	t.Helper()
	dep := lbTLSDeployment(t, port, tlsPort)
	b, err := generator.Generate(dep)
	if err != nil {
		t.Fatal(err)
	}
	files, err := b.Render("hcl")
	if err != nil {
		t.Fatal(err)
	}
	hcl := string(file(t, files, "kantree-lb.nomad.hcl"))
	if strings.Contains(hcl, "BEGIN") {
		t.Fatalf("the rendered job holds PEM data")
	}
	hcl = strings.Replace(hcl, fmt.Sprintf("listen %d;", port), fmt.Sprintf("listen 127.0.0.1:%d;", port), 1)
	hcl = strings.Replace(hcl, fmt.Sprintf("listen %d ssl;", tlsPort), fmt.Sprintf("listen 127.0.0.1:%d ssl;", tlsPort), 1)
	job, err := n.Client().Jobs().ParseHCL(hcl, true)
	if err != nil {
		t.Fatalf("nomad parses kantree-lb.nomad.hcl: %v\n%s", err, hcl)
	}
	return job
}

// lbTLSDeployment is the deployment of lbTLSJob (ports 0: any free ones).
func lbTLSDeployment(t *testing.T, port, tlsPort int) *jobspec.Deployment {
	t.Helper()
	if port == 0 {
		port, tlsPort = testbed.FreePort(t), testbed.FreePort(t)
	}
	src := fmt.Sprintf(`job = "kantree"
nomad_version = "1.6"
kantree {
  version     = "8.4.1"
  server_name = "localhost"
  archive { url = "http://127.0.0.1:1/kantree.tar.gz" }
}
load_balancer {
  listen = %d
  system_job {
    driver = "raw_exec"
    nginx  = %q
  }
  tls {
    listen = %d
    source = "nomad"
  }
}
`, port, testbed.Binary(t, "nginx"), tlsPort)
	dep, _, diags := jobspec.Parse("kantree.hcl", []byte(src), jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("load: %s", diags)
	}
	return dep
}
