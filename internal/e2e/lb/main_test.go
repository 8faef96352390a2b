package lb_test

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

func TestMain(m *testing.M) { testbed.Main(m) }
