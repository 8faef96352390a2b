package testbed_test

import (
	"strconv"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m) }

// sharedPostgres is one PostgreSQL for the tests that only read or use
// their own database.
func itoa(n int) string { return strconv.Itoa(n) }

func sharedPostgres(t *testing.T) *testbed.Postgres {
	return testbed.Shared(t, "postgres", testbed.StartPostgres)
}
