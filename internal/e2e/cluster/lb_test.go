//go:build cluster

package cluster_test

import (
	"testing"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
)

// startLB is a load-balancer host on the hub for a deployment: nginx
// serving the site consul-template renders, from the Consul server's
// catalog, out of the deployment's lb/nginx.conf.ctmpl.
func (e *env) startLB(t *testing.T, files []generator.File, port int) *testbed.SiteLB {
	t.Helper()
	data, ok := generator.FindFile(files, "lb/nginx.conf.ctmpl")
	if !ok {
		t.Fatal("no lb/nginx.conf.ctmpl rendered")
	}
	return testbed.StartSiteLB(t, e.cl.Consul.HTTPAddr, data, port, "kantree.test")
}
