// Package jobspec is the kantree.hcl language: its schema, parsing with
// hashicorp/hcl/v2, variables, defaults, validation and diagnostics.
//
// Load turns a deployment file (plus -var, -var-file and environment
// variables) into a fully resolved Deployment, or into diagnostics that
// point at the offending line. Resolved means: every default applied,
// every rule checked (a file that Load accepts always renders), and every
// derived name and path (service names, the task layout, the lock's
// service, the Consul address) computed once, here. The generator only
// translates.
//
// The package does no network I/O and imports nothing from Nomad, Consul,
// PostgreSQL or Redis. Rules the runtime applies too (lock timings, the
// lock key's normal form, version comparison) live in package rules.
//
// # The deployment file
//
// A kantree.hcl holds top-level attributes and blocks. Anything not listed
// here is an error ("Unsupported argument ... Did you mean"). Durations are
// Go duration strings ("500ms", "10s", "2m"). A value set to null counts as
// not set. No string may hold a newline or other control character.
//
//	job         = "kantree"      # Nomad job ID (default "kantree"): lower-case letters, digits, '-',
//	                             # at most 48; the migration job is <job>-upgrade-db
//	region      = "global"       # string; default: Nomad's
//	datacenters = ["dc1"]        # list(string); default ["*"]
//	namespace   = "default"      # string; default: Nomad's
//	node_pool   = "default"      # string; default: Nomad's
//	nomad_version = "1.6"        # the Nomad the jobs are for, 1.6 or later
//	                             # (default rules.NewestNomad, "1.10"); a
//	                             # setting that version lacks is an error
//
// kantree (required, once): the release and how it reaches the nodes.
//
//	version     string, required: "major.minor[.patch][-pre]". From 9.0
//	            (RealtimeSince) on, the push process is called "realtime".
//	realtime    bool: override the naming rule for a release that differs.
//	server_name string, required: one host name; Kantree's SERVER_NAME and
//	            nginx's server_name.
//	root        string: PATH_TO_KANTREE_ROOT in the task; default
//	            "local/kantree" (archive: must be under local/) or
//	            "/opt/kantree" (docker: must be absolute).
//	archive { url (required), checksum ("sha256:<hex>"; md5/sha1/sha512 too),
//	          driver ("exec", default, or "raw_exec") }
//	docker  { image (required) }
//	Exactly one of archive and docker.
//
// process "web" | "worker" | "scheduler" | "push" (or "realtime"), at most
// one each. A kind without a block runs with its defaults, count 1, so the
// smallest valid file has only a kantree block. Attributes:
//
//	count          number 1..1000 (default 1). Not allowed on the scheduler:
//	               its count is 1 + scheduler_lock.standbys.
//	cpu            MHz 1..256000 (web 500, worker 500, scheduler 200, push 300)
//	memory         MB 10..1048576 (web 1024, worker 1024, scheduler 512, push 512)
//	command        list(string) (default ["./platform", "run", <name>])
//	kill_timeout   duration > 0 (scheduler 10s, others 30s); the scheduler's
//	               must exceed scheduler_lock.kill_grace + 1s
//	min_healthy_time  duration >= 0 (10s; scheduler 45s, longer than
//	                  supervise's 30s wait for Consul at start)
//	healthy_deadline  duration > min_healthy_time (5m)
//	progress_deadline duration > healthy_deadline, or 0 for none (10m)
//	node_class     string: a constraint on ${node.class}
//	distinct_hosts bool (default false; true for the scheduler with
//	               standbys, so that no standby shares the holder's node)
//	env            map(string): extra task environment. Names the job sets
//	               itself (DATABASE_URL, REDIS_URL, PORT, BIND_ADDR,
//	               KANTREE_*, CONSUL_HTTP_*) and names that look like secrets
//	               (PASSWORD, TOKEN, SECRET, ...) are refused.
//	constraint { attribute, operator (default "="; Nomad's operators),
//	             value (not needed for distinct_hosts, is_set, is_not_set) }
//	spread     { attribute (required), weight 0..100 (default 50),
//	             target "<value>" { percent = 0..100 } (sum <= 100) }
//	             (web and push without a spread block spread over the
//	             node's unique id)
//
// web and push only (refused on worker and scheduler):
//
//	port           1..65535 (web 5000, push 4000); web and push must differ
//	health_path    string starting with "/" (web "/health", push
//	               "/socket.io/?EIO=4&transport=polling")
//	check_interval duration > 0 (10s)
//	check_timeout  duration > 0 (2s)
//	shutdown_delay duration >= 0: time for the LB to drop an instance;
//	               default the LB's reaction time + 1s (3s with nginx)
//
// A process "push" block on a realtime release (or "realtime" on an older
// one) is refused with a hint to rename it, so the file always says what
// runs.
//
// worker_group "<name>": extra workers for named queues; the group is
// named worker-<name> and runs ./platform run worker --queue Q for each of
// its queues. The name is lower-case letters, digits and '-'. It takes the
// worker attributes and blocks above plus:
//
//	queues  list(string), default [<name>]; a queue belongs to one group only
//
// secrets (once): where tasks read secret values at run time.
//
//	provider         "nomad" (Nomad Variables, default) or "vault"
//	path             default "nomad/jobs/<job>" (nomad) or "secret/data/<job>" (vault, KV v2)
//	vault_role       string, vault only, Nomad 1.7+ (workload identity)
//	vault_policies   list(string), vault only, Nomad before 1.10; required before 1.7
//	database_url_key default "database_url"
//	redis_url_key    default "redis_url"
//	license_key      default "license"
//	secret_key_key   default "secret_key"
//	consul_token_key default "consul_token": the scheduler's Consul token
//
// consul (once): how the scheduler's supervisor reaches its local Consul agent.
//
//	address          host:port or unix:///path; default "127.0.0.1:8500"
//	                 (exec, raw_exec) or "${attr.unique.network.ip-address}:8500"
//	                 (docker: the agent must listen on the node's address)
//	tls              bool: HTTPS to the agent (CONSUL_HTTP_SSL)
//	ca_file          CONSUL_CACERT, a path the task can read; with tls only
//	tls_server_name  CONSUL_TLS_SERVER_NAME; with tls only
//
// config (once): the non-secret part of config-prod.yml.
//
//	settings     map of strings, numbers or bools, written as extra keys.
//	             Refused: database_url, redis_url, secret_key, server_name,
//	             web_port, push_port (set elsewhere), names that look like
//	             secrets, and URLs with a password. Kantree's queue
//	             settings (QueueSettings: queue_automations, ...) must be
//	             strings naming a queue some worker serves: the main worker
//	             serves "default", a worker_group its queues, a custom
//	             command its --queue arguments. Anything else is an error
//	             at the setting's line, unless external_queues lists it. A
//	             worker group whose queue nothing routes to, and a
//	             queue_* setting Kantree does not know, are warnings.
//	external_queues list(string): queues another system's workers serve
//	license_file default "license.txt", under root
//
// scheduler_lock (once): the Consul lock that keeps one scheduler running.
//
//	key        default "kantree/<job>/scheduler"; segments of letters, digits,
//	           '_', '-', '.' joined by single '/' (no "..", no "//": Consul
//	           would clean them into another key than the ACL policy names)
//	ttl        session TTL, 10s..24h (default 10s)
//	lock_delay 0 < d <= 60s (default 8s)
//	kill_grace SIGTERM-to-SIGKILL grace for the scheduler (default 2s)
//	check_ttl  TTL of the session's health check, below ttl (default 2s)
//	standbys   hot standbys, 0..16 (default 0)
//	The timings must pass CheckLockTimings: lock_delay - kill_grace - 1s
//	>= 1s, kill_grace + 1s < ttl, and the scheduler's kill_timeout >
//	kill_grace + 1s. The diagnostic points at the attribute at fault.
//
// backup (once): the verified backup the upgrade-db job takes before the
// first attempt of a release the database has not applied.
//
//	enabled  default true; false: migrations run without a backup (a warning)
//	volume   Nomad host volume the archives go to (default "kantree-backups");
//	         exec and docker mount it at /kantree-backups
//	path     raw_exec only (it cannot mount a volume): the volume's directory
//	         on the host, absolute (default "/var/lib/kantree-backups")
//	command  the operator's backup command, list(string) (default pg_dump -Fc);
//	         with a volume or path it writes a pg_dump custom archive to
//	         $KANTREE_BACKUP_FILE; without, it stores the backup elsewhere and
//	         prints where on its last line (a warning: not verified)
//	keep     verified archives kept, >= 1 (default 5)
//	timeout  how long a backup may take (default 1h)
//
// load_balancer (once):
//
//	kind          "nginx" (default, via consul-template), "traefik" or "fabio"
//	sticky        push stickiness: "cookie" (default) or "ip"; Traefik has
//	              cookie only, Fabio has none (so sticky is refused with
//	              fabio, and so is a push count above 1)
//	listen        nginx's port, 1..65535 (default 80); nginx only
//	entrypoint    Traefik entrypoint (default "web"); traefik only
//	canaries      "hold" (default) or "route": whether a canary instance
//	              gets traffic before it is promoted (see below)
//	reaction_time how long Traefik or Fabio keeps routing to an instance
//	              after Consul dropped it (traefik 15s, its consulCatalog
//	              refreshInterval; fabio 2s); traefik and fabio only
//	nginx { }     nginx only: the load-balancer host's layout, with the
//	              defaults of Debian's and Ubuntu's nginx package:
//	    site            "/etc/nginx/conf.d/<job>.conf"
//	    test_command    ["nginx", "-t", "-q"]
//	    reload_command  ["nginx", "-s", "reload"] (or ["systemctl", "reload", "nginx"])
//	    config_dir      "/etc/consul-template.d/<job>": consul-template.hcl,
//	                    nginx.conf.ctmpl, the staged render
//	    consul_template "/usr/bin/consul-template", for the systemd unit
//	    consul_address  "127.0.0.1:8500"
//	    wait_min        "200ms", wait_max "1s": consul-template's quiescence
//	    reload_time     "1s": a bound on nginx -t plus the reload
//	system_job { } nginx only: also render <job>-lb, nginx as a Nomad
//	              system job on the load-balancer nodes:
//	    node_class "lb"; driver "exec" (or "raw_exec"); nginx "/usr/sbin/nginx"
//	tls { } HTTPS (LBTLS). nginx: listen 443, redirect_http true, hsts
//	        false, hsts_max_age 2 years, certificate_file and key_file
//	        (/etc/ssl/<job>/fullchain.pem, privkey.pem), source "files",
//	        "nomad", "vault_kv" or "vault_pki" and its path (the system
//	        job's certificate). Traefik: cert_resolver only. Fabio: refused.
//
// Draining. When Nomad stops a web or push instance it removes it from
// Consul, waits shutdown_delay, then signals the process. The load
// balancer needs its reaction time to stop sending it requests: nginx's
// wait_max + reload_time (2s by default), or reaction_time. So a web or
// push shutdown_delay left out is that reaction time plus 1s (3s with
// nginx's defaults, 16s with Traefik's), and one set below it is refused,
// pointing at its shutdown_delay and at what sets the reaction time.
//
// Canaries. A release starts one canary of web and of push beside the old
// instances and promotes it automatically once its checks have passed for
// 10s. With canaries = "hold" the load balancer sends it nothing until
// then, so users only ever reach a release that passed its checks; a
// canary that fails its checks is reverted having served no one. With
// "route" the canary takes its share of live traffic as soon as its check
// passes, which tests it with real requests, at the price that those users
// reach a release the checks have not yet vouched for (and, with sticky
// push, that a share of push sessions moves to it and back if it is
// reverted). nginx selects instances by the service tag "routed", which
// canaries carry only with "route"; Traefik canaries get
// traefik.enable=false with "hold"; Fabio canaries lose their urlprefix
// tag. With Fabio, push has no canary at all: a push release stops the
// old instance before it starts the new one, as two push instances behind
// a balancer without stickiness would break sessions.
//
// kantree_nomad (once): where tasks find the kantree-nomad binary.
//
//	path      default "/usr/local/bin/kantree-nomad"
//	url       fetched by an artifact block instead of path
//	checksum  with url only
//
// # Variables
//
//	variable "name" {
//	  type        = string   # a type expression; default: any
//	  default     = "dc1"
//	  description = "..."
//	  sensitive   = false
//	}
//
// used as var.name. Values come from, highest first: -var name=value
// (repeatable; for a variable whose type is not string the value is parsed
// as HCL, e.g. -var 'dcs=["a","b"]'), -var-file FILE (repeatable; later
// files win; HCL or .json, name = value lines), the environment variable
// KANTREE_NOMAD_VAR_<name>, the default. A variable with no value is an
// error at its declaration; a -var for an undeclared variable is an error;
// a var-file value for an undeclared variable is a warning, so that one
// var file can serve several deployment files.
//
// The functions lower, upper, join, format, concat, replace, trimspace,
// min and max are available. None reads files, the clock or the network.
//
// # Secrets
//
// Rendered files are not secret, so no secret may reach a Deployment. The
// value of a variable declared sensitive carries a mark; using it anywhere
// (even through a function) is an error pointing at the reference, and
// the value is never printed (the CLI also shows source lines of the
// deployment file only, never of var files). Secrets reach tasks at run
// time from Nomad Variables or Vault, as named in the secrets block.
package jobspec
