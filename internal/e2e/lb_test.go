package e2e_test

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// startLB is a load-balancer host for a deployment: nginx serving the site
// consul-template renders from the deployment's lb/nginx.conf.ctmpl.
func (c *cluster) startLB(t *testing.T, files []generator.File, port int) *testbed.SiteLB {
	t.Helper()
	data, ok := generator.FindFile(files, "lb/nginx.conf.ctmpl")
	if !ok {
		t.Fatal("no lb/nginx.conf.ctmpl rendered")
	}
	return testbed.StartSiteLB(t, c.consul.HTTPAddr, data, port, "kantree.test")
}
