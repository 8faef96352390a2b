package pgcheck_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
)

func TestCheckSessionPoolingAgainstRealPoolers(t *testing.T) {
	pg := sharedPostgres(t)
	tests := []struct {
		name   string
		dsn    func() string
		shared bool
	}{
		{name: "direct", dsn: func() string { return pg.URL("postgres") }},
		{name: "pgbouncer session", dsn: func() string { return testbed.StartPgBouncer(t, pg, "session").URL("postgres") }},
		{name: "pgbouncer transaction", shared: true,
			dsn: func() string { return testbed.StartPgBouncer(t, pg, "transaction").URL("postgres") }},
		{name: "pgbouncer statement", shared: true,
			dsn: func() string { return testbed.StartPgBouncer(t, pg, "statement").URL("postgres") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn := tc.dsn()
			err := poolingCheck(t, dsn)
			var d *diagnosis.Diagnosis
			switch {
			case !tc.shared && err != nil:
				t.Fatalf("CheckSessionPooling = %v, want nil", err)
			case tc.shared && (!errors.As(err, &d) || d.Kind != diagnosis.PGTransactionPooling):
				t.Fatalf("CheckSessionPooling = %v, want a %s diagnosis", err, diagnosis.PGTransactionPooling)
			case tc.shared && strings.Contains(err.Error(), pg.Password):
				t.Errorf("diagnosis leaks the password: %v", err)
			}
		})
	}
}
