// Package rules holds the pure rules that both sides of kantree-nomad need:
// the renderer (jobspec, generator) and the code that runs inside the Nomad
// tasks (runtime/...). Lock timings and their safety check, the normal form
// of a Consul lock key, Kantree and Nomad version comparison, and the one
// way an error carries a hint for the person who reads it.
//
// It imports the standard library only, so that the runtime never pulls in
// hcl, cty or the jobspec language to apply a rule, and both sides apply
// exactly the same one. It does no I/O and reads no clock.
package rules
