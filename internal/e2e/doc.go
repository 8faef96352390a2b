// Package e2e holds end-to-end tests of what kantree-nomad renders, run on
// a real Nomad agent (1.6.1, the newest whose licence lets it ship) with a
// real Consul, PostgreSQL, Redis, consul-template and nginx, and the
// stand-in Kantree (internal/kantreestub) fetched as a release tarball
// from a loopback HTTP server, the way operators run it: render, submit,
// watch. The package has no code besides its tests.
package e2e
