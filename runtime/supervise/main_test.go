package supervise_test

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m) }

// sharedConsul is one dev agent for the tests that do not disturb Consul;
// each test uses its own key.
func sharedConsul(t *testing.T) *testbed.Consul {
	return testbed.Shared(t, "consul", testbed.StartConsul)
}

func sharedPostgres(t *testing.T) *testbed.Postgres {
	return testbed.Shared(t, "postgres", testbed.StartPostgres)
}
