// Package cluster holds the multi-node scenarios: Kantree's jobs, rendered
// by kantree-nomad, run on a Nomad server and three Nomad clients, each
// client a node with its own network namespace and Consul agent
// (testbed.StartNomadCluster), behind nginx fed by consul-template. The
// scenarios drain a node, lose one (every process killed at once) and cut
// one off (link down), under load through nginx, with the stand-in's
// heartbeats in PostgreSQL as the record of schedulers; cut off the node
// that runs the migration while kantree-nomad deploy waits for it, with
// every node's upgrade_db processes and the ledger as the record; and
// restart the Nomad server while deploy watches a deployment, holding
// deploy's exit code and verdict to Nomad's record of it.
//
// The tests carry the build tag "cluster" and need root (network
// namespaces): make test-cluster. The package has no code besides its
// tests.
package cluster
