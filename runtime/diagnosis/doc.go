// Package diagnosis turns the errors met while reaching a backing service
// (PostgreSQL, Redis) into a typed Diagnosis: what is wrong, said so that a
// person can act on it, with a hint. It also redacts the secrets in URLs and
// DSNs, so that no message it builds carries a password.
//
// It knows only the network layer (refused, unreachable, DNS, TLS, timeouts);
// the PostgreSQL and Redis specific kinds are classified by runtime/pgcheck
// and runtime/preflight, which build Diagnosis values of their own kinds.
// It must not open connections or print anything itself.
package diagnosis
