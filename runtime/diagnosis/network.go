package diagnosis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
)

// Network classifies err as one of the network-level kinds and returns a
// Diagnosis for service at target (already redacted), or nil when err is
// not a network, DNS or TLS problem.
func Network(service, target string, err error) *Diagnosis {
	kind, summary, advice := networkKind(err)
	if kind == "" {
		return nil
	}
	return &Diagnosis{Kind: kind, Service: service, Target: target,
		Summary: summary, Advice: advice, Err: err}
}

func networkKind(err error) (Kind, string, string) {
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		return DNS, "the host name " + quote(dnsErr.Name) + " does not resolve",
			"check the host name in the URL and the node's DNS (resolv.conf, Consul DNS)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused, "connection refused: nothing listens on that host and port",
			"check that the server is running and the port in the URL is right, and that no firewall rejects it"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return Unreachable, "the host is unreachable from this node",
			"check the address in the URL, routes and firewalls between this node and the server"
	case isTLSFailure(err):
		return TLSFailed, "the TLS handshake failed",
			"check the server certificate, the CA this node trusts (sslrootcert) and the host name in the URL"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Reset, "the server closed the connection",
			"the server may be restarting or rejecting this client; check its log"
	case isTimeout(err):
		return Timeout, "no answer before the timeout",
			"check that the host is up and reachable (a firewall may be dropping packets)"
	}
	return "", "", ""
}

func isTLSFailure(err error) bool {
	var certErr *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var header tls.RecordHeaderError
	var alert tls.AlertError
	return errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr) ||
		errors.As(err, &invalid) || errors.As(err, &header) || errors.As(err, &alert) ||
		strings.Contains(err.Error(), "tls: ")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

func quote(s string) string { return "\"" + s + "\"" }
