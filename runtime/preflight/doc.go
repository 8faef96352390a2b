// Package preflight waits until PostgreSQL and Redis are usable by Kantree,
// retrying with capped, jittered exponential backoff and logging one line
// per attempt (runtime/retry), and gives up after a timeout with the last
// diagnosis.
//
// Usable means: PostgreSQL answers on a primary, through a connection that
// keeps its server session (no PgBouncer transaction pooling), and, when a
// release is asked for, its schema is at that release or a later one (compared
// as versions, rules.CompareVersions), as recorded in the migration ledger
// (runtime/ledger): a process starts on a schema at or after its own
// release, never on an older one, so the previous release's allocations can
// still restart during a rolling release or a rollback; Redis answers, is a master (not a read-only replica) and
// does not evict keys that have no expiry.
//
// Eviction policy: allkeys-lru, allkeys-lfu and allkeys-random are refused,
// whatever maxmemory is now (it can be set at run time), because they may
// drop Kantree's queues. noeviction is accepted, and so are the volatile-*
// policies: they evict only keys with an expiry, which Kantree's queue lists
// never have (Redis then answers writes with OOM errors instead of dropping
// data); the success line names the policy so it is visible.
//
// Redis URLs are redis:// or rediss:// (go-redis ParseURL), or, for Redis
// Sentinel, redis-sentinel:// (rediss-sentinel:// for TLS):
//
//	redis-sentinel://[[user]:password@]host1:26379,host2:26379/mastername[/db][?db=N&sentinel_password=...]
//
// where the user info is the master's credentials and sentinel_password (and
// sentinel_username) authenticate to the sentinels themselves.
//
// preflight does not import runtime/migrate: it only reads the ledger.
//
// The package prints nothing itself except through the injected logger,
// and every target in a message is redacted.
package preflight
