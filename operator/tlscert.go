package operator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"
)

// DefaultCertWarn is how close to its expiry a served certificate makes
// status warn: two weeks, time enough for a renewal that failed.
const DefaultCertWarn = 14 * 24 * time.Hour

// certTimeout bounds one TLS handshake of the certificate check.
const certTimeout = 5 * time.Second

// ServedCert is the certificate a load balancer serves at Addr.
type ServedCert struct {
	Addr     string
	Subject  string
	Issuer   string
	NotAfter time.Time
	// Unverified says why the chain does not verify for the server name
	// against Roots (nil when it does).
	Unverified error
}

// ReadServedCert opens a TLS connection to addr with SNI serverName and
// returns the leaf certificate it presents, verified against roots (the
// system's when nil). The handshake itself does not verify, so that an
// expired or untrusted certificate is still shown.
func ReadServedCert(ctx context.Context, addr, serverName string, roots *x509.CertPool) (ServedCert, error) {
	ctx, cancel := context.WithTimeout(ctx, certTimeout)
	defer cancel()
	d := tls.Dialer{NetDialer: &net.Dialer{}, Config: &tls.Config{ServerName: serverName, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return ServedCert{Addr: addr}, fmt.Errorf("TLS to %s: %w", addr, err)
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return ServedCert{Addr: addr}, fmt.Errorf("TLS to %s: no certificate presented", addr)
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, verr := leaf.Verify(x509.VerifyOptions{DNSName: serverName, Roots: roots, Intermediates: inter})
	return ServedCert{Addr: addr, Subject: leaf.Subject.String(), Issuer: leaf.Issuer.String(), NotAfter: leaf.NotAfter, Unverified: verr}, nil
}

// Line describes c for status at time now, and says whether an operator
// must act: the chain does not verify, or it expires within warnBelow.
func (c ServedCert) Line(now time.Time, warnBelow time.Duration) (string, bool) {
	left := c.NotAfter.Sub(now)
	when := "in " + left.Round(time.Hour).String()
	if left <= 0 {
		when = (-left).Round(time.Second).String() + " ago"
	}
	line := fmt.Sprintf("%s: subject %q, issuer %q, expires %s (%s)", c.Addr, c.Subject, c.Issuer,
		c.NotAfter.UTC().Format(time.RFC3339), when)
	switch {
	case left <= 0:
		return line + "; WARNING: expired", true
	case c.Unverified != nil:
		return line + "; WARNING: does not verify: " + c.Unverified.Error(), true
	case left < warnBelow:
		return line + fmt.Sprintf("; WARNING: expires within %s: renew it", warnBelow), true
	}
	return line, false
}

// ErrCertificate is returned when a served certificate needs an operator.
var ErrCertificate = errors.New("a served certificate needs renewal or does not verify")

// Certificates prints the certificate the load balancer serves, as
// clients reach it (the server name on the HTTPS port; with the system
// job, each of its passing instances too), and returns ErrCertificate
// when one expires within warnBelow or does not verify. Without a tls
// block it prints nothing.
func (c *Cluster) Certificates(ctx context.Context, r *Release, warnBelow time.Duration, roots *x509.CertPool) error {
	t := r.Dep.LB.TLS
	if t == nil || r.Dep.LB.Kind != "nginx" {
		return nil
	}
	port := strconv.Itoa(t.Listen)
	addrs := []string{net.JoinHostPort(r.Dep.Kantree.ServerName, port)}
	if sj := r.Dep.LB.SystemJob; sj != nil {
		entries, _, err := c.Consul.Health().Service(sj.Service, "", true, consulQuery(ctx))
		if err != nil {
			c.printf("  %v", consulError("read service "+sj.Service, err))
		}
		for _, e := range entries {
			addrs = append(addrs, net.JoinHostPort(e.Service.Address, port))
		}
	}
	c.printf("Certificate (served, warning under %s):", warnBelow)
	var act bool
	for _, a := range addrs {
		sc, err := ReadServedCert(ctx, a, r.Dep.Kantree.ServerName, roots)
		if err != nil {
			c.printf("  %v", err)
			act = true
			continue
		}
		line, warn := sc.Line(c.Now(), warnBelow)
		c.printf("  %s", line)
		act = act || warn
	}
	if act {
		return ErrCertificate
	}
	return nil
}
