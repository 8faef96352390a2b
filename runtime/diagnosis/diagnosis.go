package diagnosis

import "fmt"

// Kind names one class of problem. Kinds are stable strings so that they
// can be matched by tests and read in logs.
type Kind string

// Network-level kinds, shared by every service.
const (
	Refused     Kind = "connection-refused"
	Unreachable Kind = "host-unreachable"
	DNS         Kind = "dns"
	Timeout     Kind = "timeout"
	TLSRequired Kind = "tls-required"
	TLSFailed   Kind = "tls-failed"
	Reset       Kind = "connection-reset"
	BadURL      Kind = "bad-url"
	Other       Kind = "other"
)

// PostgreSQL kinds.
const (
	PGAuthFailed         Kind = "postgres-auth-failed"
	PGDatabaseMissing    Kind = "postgres-database-missing"
	PGStandby            Kind = "postgres-standby"
	PGStarting           Kind = "postgres-starting"
	PGTooManyConnections Kind = "postgres-too-many-connections"
	PGTransactionPooling Kind = "postgres-transaction-pooling"
	PGSchemaRelease      Kind = "postgres-schema-release"
)

// Redis kinds.
const (
	RedisAuthFailed     Kind = "redis-auth-failed"
	RedisNoAuth         Kind = "redis-noauth"
	RedisReplica        Kind = "redis-replica"
	RedisEviction       Kind = "redis-evicting-policy"
	RedisLoading        Kind = "redis-loading"
	RedisMasterNotFound Kind = "redis-sentinel-master-unknown"
)

// Diagnosis is an error that says what is wrong with one service and what to
// do about it. Target is already redacted; Err is the underlying error and is
// never printed without redaction.
type Diagnosis struct {
	Kind    Kind
	Service string // "postgres" or "redis"
	Target  string // redacted URL or DSN
	Summary string // what is wrong, one sentence, no secrets
	Advice  string // what a person can do about it
	Err     error
}

// Error returns "<service> <target>: <summary>" followed by the redacted
// underlying error when it adds information.
func (d *Diagnosis) Error() string {
	msg := fmt.Sprintf("%s %s: %s", d.Service, d.Target, d.Summary)
	if d.Err != nil {
		msg += " (" + Redact(d.Err.Error()) + ")"
	}
	return msg
}

// Hint returns what a person can do about the problem.
func (d *Diagnosis) Hint() string { return d.Advice }

// Unwrap returns the underlying error.
func (d *Diagnosis) Unwrap() error { return d.Err }
