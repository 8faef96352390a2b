package operator

import (
	"errors"
	"fmt"
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
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"), strings.Contains(msg, "i/o timeout"):
		return rules.WithHint(err, "Is Nomad reachable? Set NOMAD_ADDR (or -address) to its HTTP API, e.g. https://nomad.example.com:4646.")
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
	case strings.Contains(msg, "403"), strings.Contains(msg, "Permission denied"), strings.Contains(msg, "ACL not found"):
		return rules.WithHint(err, "The Consul token (CONSUL_HTTP_TOKEN or -consul-token) needs read on the lock key and on the web and push services.")
	case strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such host"):
		return rules.WithHint(err, "Is Consul reachable? Set CONSUL_HTTP_ADDR (or -consul-http-addr) to its HTTP API.")
	}
	return err
}
