// Package testbed starts the real services the tests of kantree-nomad run
// against: Consul (a dev agent or a 3-server cluster with a client agent),
// Nomad (a dev agent), consul-template, nginx, PostgreSQL (with hot
// standbys), PgBouncer and Redis. Every service listens on free loopback ports, keeps its files in a
// temporary directory, answers before its Start function returns, and is
// stopped when the test (or the test binary, for shared instances) ends.
//
// Every service value embeds *Process, which the fault tests use to stop,
// kill, pause (SIGSTOP), resume (SIGCONT) and restart a service on the same
// ports and data. Each program runs in its own process group with
// Pdeathsig=SIGKILL, so a crashed test binary leaves nothing behind; its
// output goes to Process.LogPath, whose end is in every start failure.
// Kill, Pause and Resume signal the whole group and every descendant
// (PostgreSQL backends leave the group with setsid).
//
// Ports come from 10000 up to the kernel's ephemeral range (FreePort),
// never twice in one test binary; if another program takes a port before
// the service binds it, the Start function retries with new ports.
//
// Other programs (the stand-in platform, kantree-nomad) run the same way
// with StartCommand; HTTPReady and TCPReady are ready-made probes.
//
// # Configuration handed to services
//
//   - PostgreSQL: initdb with fsync off; TCP on 127.0.0.1 (scram-sha-256)
//     for the password role "kantree" (LOGIN CREATEDB, not superuser); the
//     unix socket in SocketDir trusts the superuser "postgres" (SuperURL).
//   - nginx: StartNginx replaces @PORT@ (a free port, then Nginx.Port) and
//     @DIR@ (its prefix directory) in the configuration, which is either
//     the inside of the http block or a whole nginx.conf. WriteConf and
//     Reload (nginx -t, SIGHUP, wait for the new worker) change it.
//   - consul-template stops on SIGINT (its kill_signal); it logs SIGTERM
//     and keeps running.
//   - Consul: StartConsulWith(t, ConsulOptions{ACL: true}) enables ACLs
//     (default deny) with Consul.Token as management token. The cluster
//     uses raft_multiplier 1 and fast gossip probes; its members have their
//     own gossip key.
//
// # Nomad
//
// StartNomad(t, consul, NomadOptions{}) runs `nomad agent -dev` (Nomad
// 1.6.1 from make tools) with http, rpc and serf on free loopback ports,
// data_dir and log in the test's temporary directory, raw_exec enabled and
// exec available as root, the client on the loopback interface (services
// register with 127.0.0.1), and Consul integration pointed at the given
// testbed Consul without self registration or auto-join (agents sharing a
// Consul stay apart). Its dynamic ports come from a window of 250 ports
// above the kernel's ephemeral range, reserved with an flock so that no two
// agents (of any test binary) share one. The node announces 64000 MHz and
// 64 GiB so that production-sized jobs can be placed. Client heartbeats
// keep Nomad's defaults: the disconnect behaviour the tests measure
// depends on them.
//
// Exec tasks get a small chroot (a shell, a few commands, libc, some of
// /etc) plus NomadOptions.ChrootEnv, e.g. BuildKantreeNomadStatic at
// /usr/local/bin/kantree-nomad; FullChroot restores Nomad's default, which
// costs about 20 s per task here.
//
// Stop stops every job, waits for the allocations, kills the agent and then
// every process it started that is left (executors run in sessions of
// their own; what a raw_exec task forked away is found through its task's
// cgroup), and unmounts the tasks' secrets and chroot mounts. ServeFiles
// and PlatformTarball give artifact blocks a release tarball on loopback
// with its "sha256:" checksum.
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
// Isolate tests that share a PostgreSQL with Postgres.CreateDatabase,
// tests that share a Consul with distinct KV prefixes, and tests that share
// a Nomad agent (SharedNomad, which shares the "consul" instance too) with
// job IDs of their own, submitted with Nomad.RegisterJob.
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
