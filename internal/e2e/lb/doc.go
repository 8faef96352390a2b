// Package lb holds the end-to-end tests of the load-balancer path with real
// parts: a Consul agent, consul-template running the generated
// configuration, nginx serving the generated site, stand-in web and push
// processes (internal/kantreestub), and a Nomad agent for the system job.
// They measure how fast nginx follows the catalog, count failed requests
// under bounded loopback load while instances come and go, and count push
// sessions that move when push scales. Figures are printed with t.Logf;
// run them with
//
//	CI=true go test -count=1 -v ./internal/e2e/lb | grep figure
package lb
