// Command lock compares `kantree-nomad supervise` with `consul lock` on the
// same Consul dev agent: graceful handoff (SIGTERM the holder; a standby
// takes over) and crash failover (SIGKILL the holder and its child
// together), with each supervisor's peak RSS and the overlap between
// children. Run it from the repository root with `make bench-lock`.
//
// The children are this program re-executed as `lock child DIR`: each
// records its start, a heartbeat every 10 ms and its stop (on SIGTERM or
// SIGINT) in DIR/<pid>, with wall-clock nanoseconds; overlap and handoff
// times are computed from those records.
//
// It starts a Consul dev agent itself on free loopback ports (the test bed
// needs a testing.TB) and stops only the processes it started.
package main
