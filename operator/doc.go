// Package operator is the operator's side of kantree-nomad: it plans, submits
// and watches the two jobs of a release, inspects what failed, reports the
// state of a running deployment and rolls it back, through the Nomad API
// (hashicorp/nomad/api) and the Consul API (hashicorp/consul/api).
//
// A release is always the same two steps: the upgrade-db batch job runs
// `kantree-nomad migrate` and must complete, then the service job rolls
// out. With load_balancer { system_job {} } the load balancer's system
// job is a third: before the service job when no load balancer runs yet,
// after its deployment succeeded otherwise (lb.go says why). The package renders nothing itself: it takes the jobs that
// generator.Generate made from a jobspec.Deployment, in memory, and never
// writes files.
//
// Decisions a reader should know, each argued where it is made:
//
//   - The migration runs again by running deploy again: each submission of
//     the upgrade job carries a fresh meta value (migrate.go), so Nomad
//     places a new allocation even for an unchanged job; migrate's ledger
//     keeps upgrade_db to once per release.
//   - Counts an operator set with `nomad job scale` survive a deploy as long
//     as kantree.hcl still says the count the scaling started from
//     (counts.go).
//   - The service job is submitted with the JobModifyIndex of its plan, so a
//     change made by someone else in between is refused (submit.go).
//   - rollback submits the version before the current release with
//     deploy's rule for counts, that version standing in for kantree.hcl;
//     versions made by `nomad job scale` are not releases (rollback.go).
//   - Drift is Nomad's own plan diff between the running job and what
//     deploy would submit now (status.go).
//   - A wait (the migration's, a deployment's, the load balancer's) rides
//     out Nomad not answering (a server restart, a leader election) for a
//     bounded time, Cluster.Outage; beyond it, it stops with
//     ErrUnreachable and what to run once Nomad answers, since the outcome
//     is then unknown (outage.go). A submission whose answer is lost is
//     read back rather than guessed at (register, submit.go).
//
// The package must not import the runtime packages (what runs inside
// tasks), and must not write files.
package operator
