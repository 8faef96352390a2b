// Package pgcheck holds the PostgreSQL checks that preflight and migrate
// share: opening one connection (pgx.Conn, never a pool), classifying what
// went wrong into a diagnosis.Diagnosis (SQLSTATE codes, TLS, network),
// checking that the server is a primary, and detecting a pooler that shares
// server sessions between clients (PgBouncer pool_mode=transaction or
// statement), where session-level advisory locks do not work.
//
// It does not retry and prints nothing: callers decide how often to try and
// what to say. Every message it builds carries only the redacted DSN.
package pgcheck
