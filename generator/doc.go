// Package generator turns a validated jobspec.Deployment into the Nomad jobs
// of a Kantree deployment (the service job and the upgrade-db batch job, as
// *api.Job values from github.com/hashicorp/nomad/api) and the files that go
// with them: the nginx consul-template template and its consul-template
// configuration, the ACL policies and a runbook.
//
// Generate is pure: no I/O, no clock, no randomness, so the same Deployment
// always gives the same Bundle. EncodeHCL and EncodeJSON print one job in
// the two forms Nomad accepts: HCL written with hclwrite, driven by the hcl
// struct tags of the api types and following the conventions of Nomad's
// HCL2 job specification, and the JSON API form {"Job": {...}}.
//
// The generator never sees a secret value: the jobs and files read secrets
// at run time through Nomad template blocks (nomadVar or Vault secret). It
// does not validate the deployment (jobspec does) beyond refusing values it
// cannot write safely into its outputs, and it must not write files: the CLI
// does, atomically.
package generator
