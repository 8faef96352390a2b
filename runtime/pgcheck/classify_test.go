package pgcheck

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

// Server errors that the proof tests cannot provoke cheaply: the codes and
// messages are PostgreSQL's own.
func TestClassifySQLStates(t *testing.T) {
	tests := []struct {
		name string
		err  *pgconn.PgError
		want diagnosis.Kind
	}{
		{name: "hostssl only", want: diagnosis.TLSRequired, err: &pgconn.PgError{Code: "28000",
			Message: `no pg_hba.conf entry for host "10.0.0.5", user "app", database "k", no encryption`}},
		{name: "hba reject", want: diagnosis.PGAuthFailed, err: &pgconn.PgError{Code: "28000",
			Message: `pg_hba.conf rejects connection for host "10.0.0.5", user "app", database "k", SSL encryption`}},
		{name: "starting up", want: diagnosis.PGStarting, err: &pgconn.PgError{Code: "57P03",
			Message: "the database system is starting up"}},
		{name: "too many", want: diagnosis.PGTooManyConnections, err: &pgconn.PgError{Code: "53300",
			Message: "sorry, too many clients already"}},
		{name: "read-only transaction", want: diagnosis.PGStandby, err: &pgconn.PgError{Code: "25006",
			Message: "cannot execute INSERT in a read-only transaction"}},
		{name: "unknown code", want: diagnosis.Other, err: &pgconn.PgError{Code: "XX000", Message: "internal error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := Classify("postgres://app:xxxxx@db/k", fmt.Errorf("connect: %w", tc.err))
			if d.Kind != tc.want || d.Hint() == "" {
				t.Errorf("Classify(%s %q) = %s (hint %q), want %s with a hint", tc.err.Code, tc.err.Message, d.Kind, d.Hint(), tc.want)
			}
		})
	}
}
