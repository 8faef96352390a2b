// Package testbed starts the real services the tests of kantree-nomad run
// against: Consul (a dev agent or a 3-server cluster with a client agent),
// consul-template, nginx, PostgreSQL (with hot standbys), PgBouncer and
// Redis. Every service listens on free loopback ports, keeps its files in a
// temporary directory, answers before its Start function returns, and is
// stopped when the test (or the test binary, for shared instances) ends.
//
// Every service value embeds *Process, which the fault tests use to stop,
// kill, pause (SIGSTOP), resume (SIGCONT) and restart a service on the same
// ports and data.
//
// # Missing programs
//
// Binary looks a program up in <repo>/.tools/bin, $PATH, /usr/sbin and
// /usr/lib/postgresql/*/bin. When it is missing the test is skipped, unless
// the environment has CI=true: then the test fails. Both messages name
// `make tools`, which installs everything.
//
// # Sharing one instance between the tests of a package
//
// Starting a service costs from 0.1 s (Redis) to a few seconds (a Consul
// cluster). Tests that do not disturb a service can share one instance.
// Call Main from TestMain, and Shared wherever a test needs the instance:
//
//	func TestMain(m *testing.M) { testbed.Main(m) }
//
//	func consul(t *testing.T) *testbed.Consul {
//		return testbed.Shared(t, "consul", testbed.StartConsul)
//	}
//
//	func redis(t *testing.T) *testbed.Redis {
//		return testbed.Shared(t, "redis", func(tb testing.TB) *testbed.Redis {
//			return testbed.StartRedis(tb, testbed.RedisOptions{Password: "s3cret"})
//		})
//	}
//
// The first call starts the service with a package-level testing.TB whose
// cleanups run when Main's m.Run returns; later calls return the same value.
// If the start skipped or failed, every caller skips or fails with the same
// message. Without Main, Shared starts a fresh instance per call, owned by
// that test. A test that kills, pauses or restarts a service must start its
// own instance instead of sharing one.
//
// Isolate tests that share a PostgreSQL with Postgres.CreateDatabase, and
// tests that share a Consul with distinct KV prefixes.
//
// # Running as root
//
// PostgreSQL and PgBouncer refuse to run as root. When the tests run as
// root (as in CI containers), the testbed runs initdb, postgres,
// pg_basebackup and pgbouncer as the unprivileged "postgres" user (or
// "nobody"), with their files in a directory under os.TempDir owned by that
// user. nginx then runs its workers as root ("user root;") so that they can
// read files in the test's temporary directories.
//
// The testbed must not be imported by non-test code: it calls t.Fatal and
// starts processes.
package testbed
