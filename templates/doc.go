// Package templates holds the embedded text that kantree-nomad renders
// besides the Nomad jobs themselves: the nginx consul-template template, the
// consul-template configuration for load-balancer hosts, the ACL policies,
// the runbook, and the bodies of the Nomad template blocks (config-prod.yml,
// the license file and the secrets env file).
//
// Every file is a text/template with [[ ]] delimiters, parsed once when the
// package is loaded. The text that we write for consul-template or Nomad to
// evaluate later keeps its {{ }} actions untouched: those are not actions
// for us.
//
// This package imports only the standard library. It does no I/O beyond
// reading its own embedded files, and it must never receive a secret value:
// the generator hands it names and paths, and the rendered text reads the
// secrets at run time.
package templates
