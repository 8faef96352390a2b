package operator

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// ErrFailed is wrapped by every error that reports a release that did not
// go through (a failed migration, a failed or reverted deployment), as
// opposed to an error talking to Nomad. Its details have been printed.
var ErrFailed = errors.New("release failed")

// ErrInterrupted is returned when the context ends while watching: the
// work goes on in Nomad, only the watching stopped.
var ErrInterrupted = errors.New("stopped watching")

// nomadError wraps an error of the Nomad API with the operation and a
// hint chosen from what Nomad answered.
func nomadError(op string, err error) error {
	err = fmt.Errorf("%s: %w", op, err)
	var status interface{ StatusCode() int }
	msg := err.Error()
	switch {
	case errors.As(err, &status) && status.StatusCode() == 403:
		return rules.WithHint(err, "The Nomad token (NOMAD_TOKEN or -token) lacks a permission: apply acl/nomad-deploy.policy.hcl from the rendered files to it.")
	case timedOut(err):
		return rules.WithHint(err, fmt.Sprintf("Nomad at %s did not answer within the -timeout: is the agent up (not paused, not overloaded)? Set NOMAD_ADDR (or -address) if that is not its HTTP API; raise -timeout for a slow link.", addrOf(err, "NOMAD_ADDR")))
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"):
		return rules.WithHint(err, fmt.Sprintf("Is Nomad reachable at %s? Set NOMAD_ADDR (or -address) to its HTTP API, e.g. https://nomad.example.com:4646.", addrOf(err, "NOMAD_ADDR")))
	case strings.Contains(msg, "certificate"), strings.Contains(msg, "x509"), strings.Contains(msg, "tls"):
		return rules.WithHint(err, "Check NOMAD_CACERT, NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY (or -ca-cert, -client-cert, -client-key).")
	}
	return err
}

// consulError is nomadError for the Consul API.
func consulError(op string, err error) error {
	err = fmt.Errorf("%s: %w", op, err)
	msg := err.Error()
	switch {
	case timedOut(err):
		return rules.WithHint(err, fmt.Sprintf("Consul at %s did not answer within the -timeout: is the agent up (not paused)? Set CONSUL_HTTP_ADDR (or -consul-http-addr) if that is not its HTTP API.", addrOf(err, "CONSUL_HTTP_ADDR")))
	// Consul's API client says "Unexpected response code: 403 (...)"; a
	// bare "403" would also match an address such as 127.0.0.1:44035.
	case strings.Contains(msg, "response code: 403"), strings.Contains(msg, "Permission denied"), strings.Contains(msg, "ACL not found"):
		return rules.WithHint(err, "The Consul token (CONSUL_HTTP_TOKEN or -consul-token) needs read on the lock key and on the web and push services.")
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"):
		return rules.WithHint(err, fmt.Sprintf("Is Consul reachable at %s? Set CONSUL_HTTP_ADDR (or -consul-http-addr) to its HTTP API.", addrOf(err, "CONSUL_HTTP_ADDR")))
	}
	return err
}

// timedOut reports whether err is a call that ran out of time (the
// -timeout of the HTTP client, or a network timeout).
func timedOut(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "Client.Timeout exceeded") || strings.Contains(msg, "i/o timeout")
}

// addrOf is the scheme and host the failed request went to, or the
// variable that sets it when the error does not say.
func addrOf(err error, variable string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return u.Scheme + "://" + u.Host
		}
	}
	// Some calls of the Nomad library flatten the error to text
	// (Agent().Self: "failed querying self endpoint: Get \"http://...").
	if m := urlRE.FindStringSubmatch(err.Error()); m != nil {
		return m[1]
	}
	return "the address in " + variable
}

var urlRE = regexp.MustCompile(`"(https?://[^/"]+)`)
