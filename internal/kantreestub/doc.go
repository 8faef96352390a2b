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
//   - init_node and gen_config FILE: minimal equivalents.
//
// Knobs for tests, all off by default:
//
//   - KANTREE_STUB_UPGRADE_SECONDS: how long upgrade_db takes (default 1).
//   - KANTREE_STUB_UPGRADE_FAIL=1: upgrade_db records a failure, exits 1.
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
// UpgradeRuns and CountUpgradeRuns. The stand-in keeps its data in tables
// named kantree_stub_*; it never logs DATABASE_URL or REDIS_URL.
//
// It is not Kantree and must not grow Kantree features: each behaviour here
// exists because a kantree-nomad test observes it.
package kantreestub
