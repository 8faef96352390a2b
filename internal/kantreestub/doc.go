// Package kantreestub is a stand-in for Kantree's ./platform program, for
// tests and demos of kantree-nomad. It reads the same configuration file
// and environment that the generated Nomad jobs give the real program, and
// behaves like it where kantree-nomad cares:
//
//   - run web: HTTP; "/" answers the instance id, "/health" answers ok,
//     "/sleep?ms=N" answers after N ms; SIGTERM drains requests in flight.
//   - run push, run realtime: engine.io-like sessions known only to the
//     instance that created them (long polling and WebSocket), so that a
//     test can prove sticky sessions at the load balancer.
//   - run worker: takes jobs from Redis lists kantree:queue:<name> and
//     records each in PostgreSQL.
//   - run scheduler: writes a heartbeat row every 100 ms stamped with
//     PostgreSQL's clock_timestamp(), so that overlapping schedulers are
//     measured from the database and not from host clocks.
//   - upgrade_db: applies the "schema version" KANTREE_VERSION, slowly, and
//     records every run.
//   - init_node: prepares the root (the working directory): data/, logs/
//     and NodeMarker, which holds a new InitID, the instance id, the time
//     and how many times init_node ran on this root. It may run again and
//     counts its runs. With a database it also records each run
//     (NodeInitTable, read with NodeInitRuns).
//   - gen_config FILE: a minimal equivalent.
//
// # init_node before run
//
// As we must assume Kantree does, `run X` refuses to start (exit 1, an
// error and a hint on stderr) on a root where init_node has not run. A root
// is a node's root when the command reads a configuration file (KANTREE_CONFIG
// or ./config-prod.yml), as every rendered task does; without one the
// stand-in runs bare, for unit tests of a single process. On an
// initialized root, `run X` records, with a database, which init_node run
// it started on (ProcessStartTable, read with ProcessStarts), so that a test
// can prove that init_node ran exactly once in every allocation before its
// process. Recording is best effort: a database that does not answer gets a
// warning, not a failure.
//
// Knobs for tests, all off by default. The first three are read from the
// environment, else from the configuration file under their lower-case
// name (e.g. kantree_stub_health_fail: 1), so that a test can set them
// through a kantree.hcl's process env or its config settings; the others
// from the environment only:
//
//   - KANTREE_STUB_UPGRADE_SECONDS: how long upgrade_db takes (default 1).
//   - KANTREE_STUB_UPGRADE_FAIL: upgrade_db records a failure and exits 1:
//     with "1" the message names the knob, any other text (but "0") is the
//     message ("platform: error: upgrade_db: <text>" on stderr).
//   - KANTREE_STUB_HEALTH_FAIL=1: /health of web and push answers 503, to
//     test that an unhealthy release is not promoted (auto-revert).
//   - KANTREE_STUB_IGNORE_SIGTERM=1: the command ignores SIGTERM (SIGINT
//     still stops it), to test a supervisor's kill grace.
//   - KANTREE_STUB_STOP_SECONDS: the scheduler beats on that long after
//     SIGTERM before its clean stop.
//   - KANTREE_STUB_GRANDCHILD=1: the scheduler starts a copy of itself
//     (run id <run>/child) in its process group and never stops it, to test
//     that a supervisor stops the whole group.
//
// Besides Main (used by the platform command in ./platform), the package
// exports what tests read back: SchedulerRuns and Overlap, Jobs,
// UpgradeRuns and CountUpgradeRuns, NodeInitRuns, ProcessStarts and
// ReadNodeMarker. The stand-in keeps its data in tables
// named kantree_stub_*; it never logs DATABASE_URL or REDIS_URL.
//
// It is not Kantree and must not grow Kantree features: each behaviour here
// exists because a kantree-nomad test observes it.
package kantreestub
