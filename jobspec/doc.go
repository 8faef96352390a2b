// Package jobspec is the kantree.hcl language: its schema, parsing with
// hashicorp/hcl/v2, variables, defaults, validation and diagnostics.
//
// Load turns a deployment file (plus -var, -var-file and environment
// variables) into a Deployment whose values all keep their source ranges,
// or into diagnostics that point at the offending line.
//
// The package does no network I/O and imports nothing from Nomad, Consul,
// PostgreSQL or Redis. The lock-timing rule (CheckLockTimings) lives here
// because both render and the runtime supervisor enforce it.
package jobspec
