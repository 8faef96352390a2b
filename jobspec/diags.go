package jobspec

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// The named constructors below build every diagnostic this package emits
// itself. Each Detail ends with a hint of what to do, and each Subject is the
// exact range of the construct at fault, so that the diagnostic writer can
// print the offending source line.

func errorDiag(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	r := rng
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &r}
}

func at(rng hcl.Range) string {
	return fmt.Sprintf("%s:%d", rng.Filename, rng.Start.Line)
}

// DiagMissingBlock reports a required block that is absent from body.
func DiagMissingBlock(name, where string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Missing "+name+" block",
		fmt.Sprintf("A %s block is required %s. Add one; `kantree-nomad init` writes a complete example.", name, where))
}

// DiagMissingAttribute reports a required attribute that is absent from a block.
func DiagMissingAttribute(name, block string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Missing required argument",
		fmt.Sprintf("The argument %q is required in the %s block. Add it, for example: %s = ...", name, block, name))
}

// DiagDuplicateBlock reports a second block where only one is allowed.
func DiagDuplicateBlock(kind string, rng, first hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Duplicate "+kind+" block",
		fmt.Sprintf("Only one %s block is allowed. Another was defined at %s. Merge the two blocks into one.", kind, at(first)))
}

// DiagDuplicateProcess reports a second process or worker_group block with the same name.
func DiagDuplicateProcess(kind, name string, rng, first hcl.Range) *hcl.Diagnostic {
	hint := "Merge the two blocks into one."
	if kind == "worker_group" {
		hint = "Merge them, or give this worker group another name."
	}
	return errorDiag(rng, "Duplicate "+kind+" block",
		fmt.Sprintf("Only one %s block named %q is allowed. Another was defined at %s. %s", kind, name, at(first), hint))
}

// DiagUnknownProcess reports a process block whose label is not a Kantree process.
func DiagUnknownProcess(name string, rng hcl.Range, realtime bool) *hcl.Diagnostic {
	push := "push"
	if realtime {
		push = "realtime"
	}
	return errorDiag(rng, "Unknown process kind",
		fmt.Sprintf("Kantree has no process named %q. The processes are \"web\", \"worker\", \"scheduler\" and %q; for extra workers on named queues use a worker_group block.", name, push))
}

// DiagPushNaming reports a push block on a realtime release, or the reverse.
func DiagPushNaming(got, want, version string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Wrong name for the "+want+" process",
		fmt.Sprintf("Kantree %s calls this process %q, not %q (releases from %s on use \"realtime\"). Rename the block to process %q, or set realtime in the kantree block if your release differs.",
			version, want, got, RealtimeSince, want))
}

// DiagWrongType reports a value that cannot be converted to the expected type.
func DiagWrongType(name string, want cty.Type, err error, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Incorrect attribute value type",
		fmt.Sprintf("Inappropriate value for attribute %q: %s. Write %s.", name, err.Error(), typeHint(want)))
}

func typeHint(t cty.Type) string {
	switch {
	case t == cty.String:
		return "a quoted string"
	case t == cty.Number:
		return "a number, without quotes"
	case t == cty.Bool:
		return "true or false"
	case t.IsListType():
		return "a list such as [\"a\", \"b\"]"
	case t.IsMapType():
		return "a map such as { KEY = \"value\" }"
	}
	return "a value of type " + t.FriendlyName()
}

// DiagNotWhole reports a number that must be a whole number.
func DiagNotWhole(name string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Invalid number",
		fmt.Sprintf("The value of %q must be a whole number. Remove the fraction.", name))
}

// DiagOutOfRange reports a number outside its allowed range.
func DiagOutOfRange(name string, got int64, lo, hi int, rng hcl.Range) *hcl.Diagnostic {
	limit := fmt.Sprintf("between %d and %d", lo, hi)
	if hi <= 0 {
		limit = fmt.Sprintf("at least %d", lo)
	}
	return errorDiag(rng, "Value out of range",
		fmt.Sprintf("The value of %q is %d; it must be %s. Change it to a value in that range.", name, got, limit))
}

// DiagOverflow reports a whole number too large for any field (past
// 64 bits), which would otherwise be read as the largest one.
func DiagOverflow(name, got string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Number overflows",
		fmt.Sprintf("The value of %q, %s, overflows: it is too large for a whole number of 64 bits. It is surely a typo; write the number you meant.", name, got))
}

// DiagBadDuration reports a string that is not a Go duration.
func DiagBadDuration(name, got string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Invalid duration",
		fmt.Sprintf("The value of %q, %q, is not a duration. Write a number with a unit, such as \"500ms\", \"10s\" or \"2m\".", name, got))
}

// DiagNegativeDuration reports a duration that must be positive (or not negative).
func DiagNegativeDuration(name, got string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Invalid duration",
		fmt.Sprintf("The value of %q, %s, must be above zero. Use a positive duration such as \"5s\".", name, got))
}

// DiagOneOf reports a string that must be one of a fixed set of words.
func DiagOneOf(name, got string, allowed []string, rng hcl.Range) *hcl.Diagnostic {
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	return errorDiag(rng, "Invalid value for "+name,
		fmt.Sprintf("%q is not a valid %s. Use one of %s.", got, name, strings.Join(quoted, ", ")))
}

// DiagInvalidName reports a name (job, queue, group, variable) with characters Nomad or Kantree refuse.
func DiagInvalidName(what, got, pattern string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Invalid "+what,
		fmt.Sprintf("%q is not a valid %s. Use only %s.", got, what, pattern))
}

// DiagControlChars reports a string with a newline or another control character.
func DiagControlChars(name string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Control character in value",
		fmt.Sprintf("The value of %q holds a newline or another control character, which could break the rendered files. Write it on one line without control characters.", name))
}

// DiagBadVersion reports a Kantree version that is not major.minor[.patch].
func DiagBadVersion(got string, err error, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Invalid Kantree version",
		fmt.Sprintf("%q is not a Kantree release number (%v). Write it as major.minor or major.minor.patch without leading zeros, optionally with -pre and +build, for example \"8.4.1\" or \"9.0.0-rc1\"; migrate and preflight read -release with the same grammar.", got, err))
}

// DiagDeliveryBoth reports a kantree block with both archive and docker.
func DiagDeliveryBoth(rng, other hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Conflicting delivery blocks",
		fmt.Sprintf("Kantree is delivered either as an archive or as a Docker image, not both; the other block was defined at %s. Remove one of the two.", at(other)))
}

// DiagDeliveryNone reports a kantree block with neither archive nor docker.
func DiagDeliveryNone(rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Missing delivery block",
		"The kantree block must say how Kantree reaches the nodes. Add an archive { url = \"...\" } block (exec driver) or a docker { image = \"...\" } block.")
}

// DiagSchedulerCount reports a count set on the scheduler process.
func DiagSchedulerCount(rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Scheduler count is derived",
		"The scheduler group runs one lock holder plus its hot standbys, so its count is not set directly. Remove count and set standbys in the scheduler_lock block instead.")
}

// DiagFabioSticky reports Fabio in front of more than one push instance.
func DiagFabioSticky(push string, count int, rng, kindRange hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Fabio cannot balance "+push+" instances",
		fmt.Sprintf("The %s process needs sticky sessions, and Fabio has none: with count = %d a client's requests would reach instances that do not know its session (load balancer chosen at %s). Use kind = \"nginx\" or \"traefik\", or set count = 1.", push, count, at(kindRange)))
}

// DiagStickyTraefik reports sticky = "ip" with Traefik, which only has cookie stickiness.
func DiagStickyTraefik(rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Traefik has no IP stickiness",
		"Traefik keeps clients on one instance only with a cookie. Use sticky = \"cookie\", or kind = \"nginx\" for IP hashing.")
}

// DiagLBAttribute reports an attribute that belongs to other load-balancer
// kinds; belongs lists them in words, e.g. `"nginx"`.
func DiagLBAttribute(name, belongs, kind string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Argument does not apply to "+kind,
		fmt.Sprintf("%q only applies with kind %s. Remove it, or change kind.", name, belongs))
}

// DiagLockTiming reports lock timings that could let two schedulers overlap.
func DiagLockTiming(e *rules.LockTimingError, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Unsafe scheduler lock timings",
		fmt.Sprintf("%s: %s. Two schedulers could run at once. %s", e.Field, e.Detail, e.Hint()))
}

// DiagCheckTTL reports a lock check TTL that is not below the session TTL.
func DiagCheckTTL(check, ttl string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Unsafe scheduler lock check TTL",
		fmt.Sprintf("check_ttl %s must be below the session ttl %s, or a dead supervisor keeps the lock for the whole check TTL. Lower check_ttl, for example to \"3s\".", check, ttl))
}

// DiagPortCollision reports two processes listening on the same port.
func DiagPortCollision(port int, other string, rng, otherRange hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Port collision",
		fmt.Sprintf("Port %d is also used by the %s process (%s); two processes on one host cannot both listen on it. Choose another port.", port, other, at(otherRange)))
}

// DiagNotForProcess reports an attribute that makes no sense for a process kind.
func DiagNotForProcess(name, kind string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Argument does not apply to "+kind,
		fmt.Sprintf("The %s process listens on no port and has no HTTP check, so %q does not apply to it. Remove it.", kind, name))
}

// DiagSensitiveValue reports a sensitive variable's value used in the deployment.
func DiagSensitiveValue(name, ref string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Sensitive value in deployment",
		fmt.Sprintf("The value of %q uses %s, which is declared sensitive, and rendered files are not secret. Keep secrets in Nomad Variables or Vault (the secrets block) and let the tasks read them at run time.", name, ref))
}

// DiagSecretLooking reports a config setting or env key whose name says it holds a secret.
func DiagSecretLooking(what, key string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Secret in "+what,
		fmt.Sprintf("%q looks like a secret, and rendered files are not secret. Keep it in Nomad Variables or Vault; tasks receive the database URL, Redis URL, license and secret key from there (see the secrets block), and nothing else from this file may carry a secret.", key))
}

// DiagCredentialsInURL reports a URL with a password in it.
func DiagCredentialsInURL(name string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Credentials in URL",
		fmt.Sprintf("The value of %q holds a URL with a password, and rendered files are not secret. Remove the credentials; database and Redis URLs belong in the secrets store.", name))
}

// DiagReservedEnv reports an env key that kantree-nomad sets itself.
func DiagReservedEnv(key string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Reserved environment variable",
		fmt.Sprintf("%s is set by the generated job itself. Remove it from env; see the secrets and kantree blocks for what it is derived from.", key))
}

// DiagReservedSetting reports a config setting that comes from elsewhere.
func DiagReservedSetting(key, from string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Reserved config setting",
		fmt.Sprintf("config-prod.yml's %q is written from %s. Remove it from settings and set it there.", key, from))
}

// DiagConflict reports two attributes that cannot be set together.
func DiagConflict(a, b string, rng, other hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Conflicting arguments",
		fmt.Sprintf("%q and %q cannot both be set (the other is at %s). Keep one of them.", a, b, at(other)))
}

// DiagRequires reports an attribute that needs another one.
func DiagRequires(a, needs string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Incomplete arguments",
		fmt.Sprintf("%q is only meaningful with %s. Add that, or remove %q.", a, needs, a))
}

// DiagBadChecksum reports a checksum that is not type:hex.
func DiagBadChecksum(got string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Invalid checksum",
		fmt.Sprintf("%q is not a checksum Nomad's artifact block accepts. Write it as \"sha256:<64 hex digits>\" (md5, sha1 and sha512 work too).", got))
}

// DiagEmptyList reports a list that must have at least one element.
func DiagEmptyList(name string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Empty list",
		fmt.Sprintf("%q needs at least one element. Add one, or remove the argument to use the default.", name))
}

// DiagEmptyString reports a string that must not be empty.
func DiagEmptyString(name string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Empty value",
		fmt.Sprintf("%q must not be empty. Give it a value, or remove the argument to use the default.", name))
}

// DiagDuplicateQueue reports a queue served by two worker groups.
func DiagDuplicateQueue(queue string, rng, first hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Queue listed twice",
		fmt.Sprintf("Queue %q is already listed at %s. List each queue in one worker group only, and raise that group's count instead.", queue, at(first)))
}

// DiagSpreadTargets reports spread targets whose percentages add up to more than 100.
func DiagSpreadTargets(sum int, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Spread targets above 100%",
		fmt.Sprintf("The target percentages add up to %d. Lower them so they add up to at most 100.", sum))
}

// DiagNomadVersion reports a nomad_version that is not a version, or one
// older than the oldest Nomad the jobs support.
func DiagNomadVersion(got string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Unsupported Nomad version",
		fmt.Sprintf("nomad_version %q is not a Nomad version this tool writes jobs for: %s or later, such as %q. Set the version of your Nomad servers and clients (nomad version).",
			got, rules.OldestNomad, rules.NewestNomad))
}

// DiagNomadLacks reports a setting the target Nomad version does not have.
func DiagNomadLacks(name string, f rules.NomadFeature, n NomadTarget, hint string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Not available on Nomad "+n.Version,
		fmt.Sprintf("%s needs %s, which Nomad has since %s; the jobs are for Nomad %s (nomad_version at %s). %s, or raise nomad_version if every Nomad agent runs %s or later.",
			name, f.Name, f.Since, n.Version, at(n.Range), upperFirst(hint), f.Since))
}

// DiagNomadRemoved reports a setting the target Nomad version no longer has.
func DiagNomadRemoved(name string, f rules.NomadFeature, n NomadTarget, hint string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Not available on Nomad "+n.Version,
		fmt.Sprintf("%s is gone from Nomad since %s (%s); the jobs are for Nomad %s (nomad_version at %s). %s.",
			name, f.Since, f.Name, n.Version, at(n.Range), upperFirst(hint)))
}

// DiagLockKey reports a lock key that is not in its normal form.
func DiagLockKey(err error, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Invalid lock key",
		fmt.Sprintf("%s. Consul cleans key paths, so such a key would not be the one the ACL policy names. Write the key in its clean form, such as \"kantree/kantree/scheduler\".", err))
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// DiagCannotDrain reports a web or push shutdown_delay shorter than the
// load balancer's reaction: requests would still reach the instance
// after it was told to stop.
func DiagCannotDrain(proc string, got, need time.Duration, kind string, reaction time.Duration, rng, reactionRange hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "shutdown_delay too short to drain",
		fmt.Sprintf("The %s process's shutdown_delay is %s, but %s keeps sending requests to a stopping instance for up to %s after Consul drops it (set at %s), plus %s of margin: requests would fail during every release and scale-down. Set shutdown_delay to at least %q, remove it to derive it, or make the load balancer react faster.",
			proc, got, kind, reaction, at(reactionRange), DrainMargin, need.String()))
}

// DiagWaitOrder reports a consul-template wait_min above wait_max.
func DiagWaitOrder(lo, hi time.Duration, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "wait_min above wait_max",
		fmt.Sprintf("consul-template renders at most wait_max (%s) after a change, so wait_min (%s) cannot be longer. Lower wait_min or raise wait_max.", hi, lo))
}

// DiagTimingOrder reports two deployment timings in the wrong order.
func DiagTimingOrder(a string, av time.Duration, b string, bv time.Duration, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Deployment timings out of order",
		fmt.Sprintf("%s (%s) must be shorter than %s (%s): Nomad refuses the job otherwise. Lower %s or raise %s.", a, av, b, bv, a, b))
}

func warningDiag(rng hcl.Range, summary, detail string) *hcl.Diagnostic {
	d := errorDiag(rng, summary, detail)
	d.Severity = hcl.DiagWarning
	return d
}

// DiagUnservedQueue reports a queue_* setting that routes tasks to a queue
// no worker serves: they would pile up for ever.
func DiagUnservedQueue(setting, queue string, served []string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Queue served by no worker",
		fmt.Sprintf("settings.%s routes Kantree's tasks to queue %q, but no worker here serves it (served: %s), so those tasks would wait for ever. Add worker_group %q { queues = [%q] } (or add %q to an existing group's queues), or, when workers outside this deployment serve it, list it in config.external_queues = [%q].",
			setting, queue, strings.Join(served, ", "), queue, queue, queue, queue))
}

// DiagUnroutedQueue warns about a worker group serving a queue that no
// queue_* setting routes to.
func DiagUnroutedQueue(group, queue string, rng hcl.Range) *hcl.Diagnostic {
	return warningDiag(rng, "Queue nothing routes to",
		fmt.Sprintf("Worker group %s serves queue %q, but no queue_* setting in config.settings routes tasks there (nor is it %q), so these workers may sit idle. Route a kind of task to it (for example settings = { queue_automations = %q }), or remove the queue.",
			group, queue, DefaultQueue, queue))
}

// DiagSettingType reports a setting whose value has the wrong type.
func DiagSettingType(name, got, want string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Wrong type for setting",
		fmt.Sprintf("settings.%s is a %s; Kantree reads %s. Quote it.", name, got, want))
}

// DiagUnknownQueueSetting warns about a queue_ setting Kantree's scaling
// guide does not list (a typo routes nothing).
func DiagUnknownQueueSetting(name string, rng hcl.Range) *hcl.Diagnostic {
	return warningDiag(rng, "Unknown queue setting",
		fmt.Sprintf("settings.%s is not one of Kantree's queue settings (%s); Kantree will not route anything by it. Check the spelling.",
			name, strings.Join(QueueSettings, ", ")))
}

// DiagTLSFabio refuses a tls block with Fabio, which terminates TLS on its
// listener, not per service.
func DiagTLSFabio(rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Fabio cannot take TLS from service tags",
		"Fabio terminates HTTPS on its own listener (proxy.addr = \":443;cs=<certificate source>\" in fabio.properties, with a cert source such as file, path, Consul or Vault); no service tag turns it on, and proto=https only makes Fabio speak HTTPS to the instances, which serve plain HTTP. Remove the tls block and configure Fabio's listener, or use kind \"nginx\" or \"traefik\".")
}

// DiagTLSTraefik refuses an nginx-only tls attribute with Traefik.
func DiagTLSTraefik(name string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Argument does not apply to traefik",
		fmt.Sprintf("%q only applies with kind \"nginx\": Traefik reads certificates from its own configuration (a file provider or a certificate resolver, named by cert_resolver here), and the HTTP redirect and HSTS are settings of its entrypoints and headers middleware. Remove it, and set that in Traefik's static configuration.", name))
}

// DiagTLSSourceNeedsJob refuses a certificate source other than files
// without the system job that would read it.
func DiagTLSSourceNeedsJob(source string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Certificate source without the system job",
		fmt.Sprintf("source %q is read by the load balancer's system job, which this file does not render. Add load_balancer { system_job {} }, or use source \"files\" (the certificate and key files on the load-balancer hosts).", source))
}

// DiagTLSVaultLogin refuses a Vault certificate source when tasks have no
// Vault login.
func DiagTLSVaultLogin(source string, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Certificate from Vault without a Vault login",
		fmt.Sprintf("source %q reads the certificate from Vault, and the system job logs in to Vault as the secrets block says; here secrets.provider is not \"vault\". Set secrets { provider = \"vault\" } with vault_role or vault_policies (the policy must read the certificate path), or use source \"nomad\".", source))
}

// DiagTLSPort refuses an HTTPS port equal to the HTTP one.
func DiagTLSPort(port int, rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Port collision",
		fmt.Sprintf("tls.listen %d is also load_balancer.listen, the plain HTTP port. Give HTTPS its own port (443 by default).", port))
}

// DiagTLSFilesInChroot refuses certificate files read by an exec system
// job, whose chroot holds a copy of /etc taken at start: a renewed
// certificate would never be seen.
func DiagTLSFilesInChroot(rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Certificate files unseen by the system job",
		"With source \"files\", the system job's nginx would read certificate_file and key_file, but the exec driver runs it in a chroot holding a copy of /etc made when the task starts: a renewed certificate would never reach it. Set source = \"nomad\" (a Nomad Variable), \"vault_kv\" or \"vault_pki\", or system_job { driver = \"raw_exec\" }.")
}

// DiagBackupOff warns that migrations will run without a backup.
func DiagBackupOff(rng hcl.Range) *hcl.Diagnostic {
	return warningDiag(rng, "Migrations run without a backup",
		"backup { enabled = false }: the upgrade-db job runs ./platform upgrade_db on the production database with no backup taken first, and rollback across a schema change will have nothing to restore. Take one yourself before every deploy of a new release, or remove enabled = false.")
}

// DiagBackupUnverified warns that a backup command that stores its backup
// elsewhere is trusted on its exit status alone.
func DiagBackupUnverified(rng hcl.Range) *hcl.Diagnostic {
	return warningDiag(rng, "Backup not verified by kantree-nomad",
		"The backup command has no volume, so it stores the backup elsewhere and kantree-nomad can check only that it exits 0 and prints the backup's location on its last line. Add volume = \"...\" and make the command write a pg_dump custom-format archive to $KANTREE_BACKUP_FILE to have it verified, listed and summed.")
}

// DiagBackupPath reports backup's path where the driver mounts the volume.
func DiagBackupPath(rng hcl.Range) *hcl.Diagnostic {
	return errorDiag(rng, "Backup path not used by this driver",
		"path is the host volume's directory for the raw_exec driver, which cannot mount a volume. exec and docker tasks mount the host volume named by volume; remove path.")
}
