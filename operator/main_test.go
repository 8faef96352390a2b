package operator

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// TestMain shares one Nomad agent, Consul, PostgreSQL and Redis among the
// package's tests: each test runs its own job (and database), so they do
// not interfere.
func TestMain(m *testing.M) { testbed.Main(m) }
