package operator

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// TestServedCertLine serves certificates from a CA the test makes over a
// real TLS listener and checks what status prints: subject and expiry,
// a warning under the threshold, and one for a chain that does not verify.
func TestServedCertLine(t *testing.T) {
	ca := testbed.NewCA(t)
	now := time.Now()
	tests := []struct {
		name     string
		valid    time.Duration
		roots    bool // trust the test CA
		wantWarn string
	}{
		{name: "valid for a month", valid: 30 * 24 * time.Hour, roots: true},
		{name: "expires in three days", valid: 3 * 24 * time.Hour, roots: true, wantWarn: "expires within 336h0m0s"},
		{name: "untrusted chain", valid: 30 * 24 * time.Hour, roots: false, wantWarn: "does not verify"},
		{name: "expired", valid: -time.Minute, roots: true, wantWarn: "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf := ca.Issue(t, tc.valid, "kantree.test")
			addr := serveTLS(t, leaf)
			roots := ca.Pool
			if !tc.roots {
				roots = nil
			}
			sc, err := ReadServedCert(t.Context(), addr, "kantree.test", roots)
			if err != nil {
				t.Fatal(err)
			}
			line, warn := sc.Line(now, DefaultCertWarn)
			t.Log(line)
			if !strings.Contains(line, `subject "CN=kantree.test,O=kantree-nomad tests"`) ||
				!strings.Contains(line, leaf.Cert.NotAfter.UTC().Format(time.RFC3339)) {
				t.Errorf("line %q lacks the subject or the expiry", line)
			}
			if warn != (tc.wantWarn != "") || !strings.Contains(line, tc.wantWarn) {
				t.Errorf("line %q, warn %v; want warning %q", line, warn, tc.wantWarn)
			}
		})
	}
}

func serveTLS(t *testing.T, leaf *testbed.Leaf) string {
	t.Helper()
	pair, err := tls.X509KeyPair(leaf.ChainPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}(c)
		}
	}()
	return ln.Addr().String()
}
