// Package retry waits for a backing service: it repeats one attempt with
// capped, jittered exponential backoff until the attempt passes or a
// deadline passes, logging one line per attempt with the diagnosis so far.
// The clock and the randomness are injected, so tests run without waiting.
//
// It knows nothing about PostgreSQL or Redis: attempts are functions, and
// their errors are read as diagnosis.Diagnosis values when they are ones.
package retry
