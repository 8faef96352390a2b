// Package diagnosis turns the errors met while reaching a backing service
// (PostgreSQL, Redis) into a typed Diagnosis: what is wrong, said so that a
// person can act on it, with a hint. It also keeps passwords out of what is
// printed: Redact and RedactDSN mask the passwords of URLs and key=value
// DSNs, and Output (a Filter on each stream, a slog logger that redacts
// values before it escapes them) masks every form and piece of the known
// secrets in whatever is finally written, whatever the password contains.
//
// It knows only the network layer (refused, unreachable, DNS, TLS, timeouts);
// the PostgreSQL and Redis specific kinds are classified by runtime/pgcheck
// and runtime/preflight, which build Diagnosis values of their own kinds.
// It must not open connections; it prints only through the writers it is
// given.
package diagnosis
