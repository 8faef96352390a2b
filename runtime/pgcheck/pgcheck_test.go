package pgcheck_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/runtime/diagnosis"
	"github.com/kantree-nomad/kantree-nomad/runtime/pgcheck"
)

func TestMain(m *testing.M) { testbed.Main(m) }

func sharedPostgres(t *testing.T) *testbed.Postgres {
	return testbed.Shared(t, "postgres", testbed.StartPostgres)
}

// poolingCheck connects to dsn and runs CheckSessionPooling.
func poolingCheck(t *testing.T, dsn string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgcheck.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	return pgcheck.CheckSessionPooling(ctx, conn, dsn)
}

func TestCheckSessionPoolingOnADirectConnection(t *testing.T) {
	if err := poolingCheck(t, sharedPostgres(t).URL("postgres")); err != nil {
		t.Fatalf("CheckSessionPooling on a direct connection = %v, want nil", err)
	}
}

func TestCheckPrimaryOnAStandby(t *testing.T) {
	pg := testbed.StartPostgres(t)
	sb := pg.StartStandby(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name    string
		dsn     string
		standby bool
	}{{"primary", pg.URL("postgres"), false}, {"standby", sb.URL("postgres"), true}} {
		conn, err := pgcheck.Connect(ctx, tc.dsn)
		if err != nil {
			t.Fatal(err)
		}
		err = pgcheck.CheckPrimary(ctx, conn, diagnosis.Redact(tc.dsn))
		conn.Close(ctx)
		var d *diagnosis.Diagnosis
		if got := errors.As(err, &d) && d.Kind == diagnosis.PGStandby; got != tc.standby {
			t.Errorf("%s: CheckPrimary = %v, want standby diagnosis %v", tc.name, err, tc.standby)
		}
	}
}

func TestConnectRejectsBadDSNWithoutLeaking(t *testing.T) {
	for _, dsn := range []string{"", "postgres://app:hunter22@h:notaport/db", "host=h password=hunter22 port=x"} {
		_, err := pgcheck.Connect(context.Background(), dsn)
		var d *diagnosis.Diagnosis
		if !errors.As(err, &d) || d.Kind != diagnosis.BadURL || d.Hint() == "" {
			t.Errorf("Connect(%q) = %v, want a bad-url diagnosis with a hint", dsn, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter22") {
			t.Errorf("error leaks the password: %v", err)
		}
	}
}
