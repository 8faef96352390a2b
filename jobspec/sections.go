package jobspec

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

var (
	checksumRE  = regexp.MustCompile(`^(md5|sha1|sha256|sha512):([0-9a-fA-F]+)$`)
	checksumLen = map[string]int{"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
	// credentialsRE finds a URL with a password in its user info.
	credentialsRE = regexp.MustCompile(`://[^/@\s:]*:[^/@\s]+@`)
	keyRE         = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	entrypointRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	hostnameRE    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
)

// kantree decodes the kantree block: release, server name, root, delivery.
func (d *decoder) kantree(dep *Deployment, b *hcl.Block, file hcl.Range) {
	if b == nil {
		d.add(DiagMissingBlock("kantree", "at the top level: it names the Kantree release and how it reaches the nodes", fileStart(file)))
		return
	}
	k := &dep.Kantree
	a, blocks := d.block(b, "kantree", []field{
		{"version", then(ranged(&k.VersionRange, required(&k.Version)), func(attrs, string) {
			if _, err := rules.ParseVersion(k.Version); err != nil {
				d.add(DiagBadVersion(k.Version, err, k.VersionRange))
			}
		})},
		{"realtime", boolean(&k.Realtime)},
		{"server_name", valid(required, &k.ServerName, hostnameRE.MatchString, "server name", "one host name, such as kantree.example.com (no scheme, port or path)")},
		{"root", str(&k.Root)},
	}, hcl.BlockHeaderSchema{Type: "archive"}, hcl.BlockHeaderSchema{Type: "docker"})
	if !a.decoded("realtime") { // its default follows the version
		major, _ := versionMajor(k.Version)
		k.Realtime = major >= realtimeMajor
	}
	archive, docker := d.single(blocks, "archive"), d.single(blocks, "docker")
	switch {
	case archive != nil && docker != nil:
		d.add(DiagDeliveryBoth(docker.DefRange, archive.DefRange))
	case archive != nil:
		k.Archive = d.archive(archive)
	case docker != nil:
		k.Docker = d.docker(docker)
	default:
		d.add(DiagDeliveryNone(b.DefRange))
	}
	if a.decoded("root") { // what a root may be depends on the delivery
		d.checkRoot(k, a.rangeOf("root"))
	} else {
		k.Root = defaultRoot(k)
	}
}

// defaultRoot is where Kantree is, by how it is delivered.
func defaultRoot(k *Kantree) string {
	switch {
	case k.Archive != nil:
		return DefaultArchiveRoot
	case k.Docker != nil:
		return DefaultDockerRoot
	}
	return ""
}

// checkRoot: with an archive the root is a directory under the task's
// local/ (where Nomad unpacks the artifact); with an image, an absolute
// path inside it.
func (d *decoder) checkRoot(k *Kantree, rng hcl.Range) {
	clean := path.Clean(k.Root)
	switch {
	case k.Root == "":
		d.add(DiagEmptyString("root", rng))
	case k.Archive != nil && (path.IsAbs(clean) || !strings.HasPrefix(clean, "local/") || !safePathRE.MatchString(clean)):
		d.add(DiagInvalidName("Kantree root", k.Root, fmt.Sprintf("with an archive, a directory under local/ (where Nomad unpacks it), such as %q", DefaultArchiveRoot), rng))
	case k.Docker != nil && (!path.IsAbs(clean) || !safePathRE.MatchString(clean)):
		d.add(DiagInvalidName("Kantree root", k.Root, fmt.Sprintf("with a Docker image, an absolute path inside the image, such as %q", DefaultDockerRoot), rng))
	default:
		k.Root = clean
	}
}

// safePathRE is what a path written into a job, a template or a shell-free
// command line may hold.
var safePathRE = regexp.MustCompile(`^[A-Za-z0-9_./-]{1,255}$`)

// consul decodes the consul block: how the scheduler's supervisor reaches
// its local Consul agent.
func (d *decoder) consul(dep *Deployment, b *hcl.Block) {
	c := &dep.Consul
	c.Range = fileStart(d.file)
	if b == nil {
		return
	}
	c.Range = b.DefRange
	a, _ := d.block(b, "consul", []field{
		{"address", valid(str, &c.Address, consulAddrRE.MatchString, "Consul address", "host:port, [ipv6]:port or unix:///path, without a scheme (use tls = true for HTTPS)")},
		{"tls", boolean(&c.TLS)},
		{"ca_file", valid(str, &c.CAFile, safePathRE.MatchString, "CA file", "a path of letters, digits and _ . / -")},
		{"tls_server_name", matching(&c.TLSServerName, hostnameRE, "TLS server name", "a host name")},
	})
	// Checked once both are decoded, so that a bad value is reported
	// ahead of the missing tls.
	for _, name := range []string{"ca_file", "tls_server_name"} {
		if a.has(name) && !c.TLS {
			d.add(DiagRequires(name, "tls = true", a.rangeOf(name)))
		}
	}
}

var consulAddrRE = regexp.MustCompile(`^(unix:///[A-Za-z0-9_./-]+|[A-Za-z0-9.-]+:[0-9]{1,5}|\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}|\$\{attr\.unique\.network\.ip-address\}:[0-9]{1,5})$`)

func (d *decoder) archive(b *hcl.Block) *Archive {
	ar := &Archive{Driver: DefaultDriver, Range: b.DefRange}
	d.block(b, "archive", []field{
		{"url", then(required(&ar.URL), withoutCredentials(&ar.URL))},
		{"checksum", checksum(&ar.Checksum)},
		{"driver", oneOf(&ar.Driver, "exec", "raw_exec")},
	})
	return ar
}

func (d *decoder) docker(b *hcl.Block) *Docker {
	dk := &Docker{Range: b.DefRange}
	d.block(b, "docker", []field{{"image", required(&dk.Image)}})
	return dk
}

// checksum decodes an artifact checksum "type:hex".
func checksum(dst *string) decodeFunc {
	return func(a attrs, name string) bool {
		var s string
		if !a.str(name, &s) {
			return false
		}
		m := checksumRE.FindStringSubmatch(s)
		if m == nil || len(m[2]) != checksumLen[m[1]] {
			a.d.add(DiagBadChecksum(s, a.rangeOf(name)))
			return false
		}
		*dst = s
		return true
	}
}

// noCredentials refuses a URL that carries a password.
func (d *decoder) noCredentials(name, value string, rng hcl.Range) {
	if credentialsRE.MatchString(value) {
		d.add(DiagCredentialsInURL(name, rng))
	}
}

// withoutCredentials is the check of a URL attribute decoded into url.
func withoutCredentials(url *string) func(a attrs, name string) {
	return func(a attrs, name string) { a.d.noCredentials(name, *url, a.rangeOf(name)) }
}

// binary decodes kantree_nomad: where tasks get kantree-nomad itself.
func (d *decoder) binary(dep *Deployment, b *hcl.Block) {
	dep.Binary.Path = DefaultBinaryPath
	if b == nil {
		return
	}
	bin := &dep.Binary
	a, _ := d.block(b, "kantree_nomad", []field{
		{"url", then(str(&bin.URL), withoutCredentials(&bin.URL))},
		{"path", guarded(func(a attrs, name string) *hcl.Diagnostic {
			if a.decoded("url") {
				return DiagConflict(name, "url", a.rangeOf(name), a.rangeOf("url"))
			}
			return nil
		}, nonEmpty(&bin.Path))},
		{"checksum", requires(func(a attrs) bool { return a.has("url") }, "url", checksum(&bin.Checksum))},
	})
	if a.decoded("url") { // a downloaded binary has no path of its own
		bin.Path = ""
	}
}

// secrets decodes the secrets block: where tasks read secret values.
func (d *decoder) secrets(dep *Deployment, b *hcl.Block) {
	s := &dep.Secrets
	*s = Secrets{Provider: "nomad", DatabaseURLKey: "database_url", RedisURLKey: "redis_url",
		LicenseKey: "license", SecretKeyKey: "secret_key", ConsulTokenKey: "consul_token", Range: fileStart(d.file)}
	if b != nil {
		s.Range = b.DefRange
		vault := func(attrs) bool { return s.Provider == "vault" }
		a, _ := d.block(b, "secrets", []field{
			{"provider", oneOf(&s.Provider, "nomad", "vault")},
			{"path", valid(str, &s.Path, safePathRE.MatchString, "secrets path", "letters, digits and _ . / - (a Nomad Variable or Vault KV path)")},
			{"vault_role", requires(vault, `provider = "vault"`, vaultRole(dep))},
			{"vault_policies", requires(vault, `provider = "vault"`, vaultPolicies(dep))},
			{"database_url_key", secretKey(&s.DatabaseURLKey)},
			{"redis_url_key", secretKey(&s.RedisURLKey)},
			{"license_key", secretKey(&s.LicenseKey)},
			{"secret_key_key", secretKey(&s.SecretKeyKey)},
			{"consul_token_key", secretKey(&s.ConsulTokenKey)},
		})
		// Which login Vault needs depends on the Nomad version.
		if s.Provider == "vault" && !dep.Nomad.Has(rules.VaultWorkloadIdentity) && len(s.VaultPolicies) == 0 && !a.has("vault_policies") {
			d.add(DiagMissingAttribute("vault_policies", fmt.Sprintf("secrets block (Vault on Nomad %s)", dep.Nomad.Version), a.rng))
		}
	}
	if s.Path == "" {
		s.Path = "nomad/jobs/" + dep.Job
		if s.Provider == "vault" {
			s.Path = "secret/data/" + dep.Job
		}
	}
}

// reservedSettings are config-prod.yml keys written from other blocks.
var reservedSettings = map[string]string{
	"database_url": "the secrets block (database_url_key)",
	"redis_url":    "the secrets block (redis_url_key)",
	"secret_key":   "the secrets block (secret_key_key)",
	"server_name":  "kantree.server_name",
	"web_port":     `process "web"'s port`,
	"push_port":    `the push (or realtime) process's port`,
}

var settingKeyRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)

// config decodes the config block: config-prod.yml settings and the license file.
func (d *decoder) config(dep *Deployment, b *hcl.Block) {
	cfg := &dep.Config
	cfg.Settings = map[string]string{}
	cfg.LicenseFile = DefaultLicenseFile
	if b == nil {
		return
	}
	cfg.SettingRanges = map[string]hcl.Range{}
	d.block(b, "config", []field{
		{"settings", then(strMap(&cfg.Settings), func(a attrs, name string) {
			d.checkSettings(cfg.Settings, a.rangeOf(name))
			cfg.SettingRanges = d.settingRanges(a.m[name])
			d.checkQueueSettingTypes(a.m[name], cfg.SettingRanges)
		})},
		{"external_queues", then(strList(&cfg.ExternalQueues), func(a attrs, name string) {
			cfg.ExternalQueuesRange = a.rangeOf(name)
			for _, q := range cfg.ExternalQueues {
				if !queueRE.MatchString(q) {
					d.add(DiagInvalidName("queue name", q, "letters, digits, '_', '.', ':' and '-'", cfg.ExternalQueuesRange))
				}
			}
		})},
		{"license_file", valid(str, &cfg.LicenseFile, func(f string) bool { return f != "" && !strings.Contains(f, "..") },
			"license file name", "a non-empty path under the Kantree root, without '..'")},
	})
}

// checkSettings refuses setting names that are malformed, written from
// other blocks or look like secrets, and values that carry credentials.
func (d *decoder) checkSettings(settings map[string]string, rng hcl.Range) {
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		switch {
		case !settingKeyRE.MatchString(k):
			d.add(DiagInvalidName("setting name", k, "letters, digits, '_', '.' and '-'", rng))
		case reservedSettings[k] != "":
			d.add(DiagReservedSetting(k, reservedSettings[k], rng))
		case looksSecret(k):
			d.add(DiagSecretLooking("config settings", k, rng))
		default:
			d.noCredentials(fmt.Sprintf("settings.%s", k), settings[k], rng)
		}
	}
}

// looksSecret says whether a setting or environment variable name names a secret.
func looksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"password", "passwd", "secret", "token", "api_key", "apikey", "private_key", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// lock decodes scheduler_lock; timings are checked together in validate.
func (d *decoder) lock(dep *Deployment, b *hcl.Block) {
	l := &dep.Lock
	*l = SchedulerLock{Key: "kantree/" + dep.Job + "/scheduler", TTL: DefaultLockTTL, LockDelay: DefaultLockDelay,
		KillGrace: DefaultKillGrace, CheckTTL: DefaultCheckTTL}
	start := fileStart(d.file)
	l.Range, l.TTLRange, l.LockDelayRange, l.KillGraceRange, l.CheckTTLRange = start, start, start, start, start
	if b == nil {
		return
	}
	l.Range = b.DefRange
	a, _ := d.block(b, "scheduler_lock", []field{
		{"key", then(str(&l.Key), func(a attrs, name string) {
			if err := rules.CheckLockKey(l.Key); err != nil {
				d.add(DiagLockKey(err, a.rangeOf(name)))
			}
		})},
		{"ttl", duration(&l.TTL, true)},
		{"lock_delay", duration(&l.LockDelay, true)},
		{"kill_grace", duration(&l.KillGrace, true)},
		{"check_ttl", duration(&l.CheckTTL, true)},
		{"standbys", integer(&l.Standbys, 0, rules.MaxStandbys)},
	})
	// The timings are checked together in validate, which blames the
	// attribute or, when it is left out, the block.
	l.TTLRange, l.LockDelayRange = a.rangeOf("ttl"), a.rangeOf("lock_delay")
	l.KillGraceRange, l.CheckTTLRange = a.rangeOf("kill_grace"), a.rangeOf("check_ttl")
}

// loadBalancer decodes load_balancer; each attribute is checked against the kind.
func (d *decoder) loadBalancer(dep *Deployment, b *hcl.Block) {
	lb := &dep.LB
	start := fileStart(d.file)
	*lb = LoadBalancer{Kind: DefaultLBKind, Sticky: DefaultSticky, Listen: DefaultListen, Entrypoint: DefaultEntrypoint,
		Canaries: DefaultCanaries, Nginx: defaultNginxHost(dep.Job), KindRange: start, StickyRange: start, ReactionRange: start}
	if b == nil {
		lb.Reaction = defaultReaction(lb)
		return
	}
	a, blocks := d.block(b, "load_balancer", []field{
		{"kind", oneOf(&lb.Kind, "nginx", "traefik", "fabio")},
		{"sticky", guarded(lbOnly(lb, `"nginx" or "traefik"`, "nginx", "traefik"), ranged(&lb.StickyRange, oneOf(&lb.Sticky, "cookie", "ip")))},
		{"listen", guarded(lbOnly(lb, `"nginx"`, "nginx"), integer(&lb.Listen, 1, 65535))},
		{"entrypoint", guarded(lbOnly(lb, `"traefik"`, "traefik"), matching(&lb.Entrypoint, entrypointRE, "Traefik entrypoint", "letters, digits, '_' and '-'"))},
		{"canaries", oneOf(&lb.Canaries, "hold", "route")},
		{"reaction_time", guarded(lbOnly(lb, `"traefik" or "fabio" (nginx's is wait_max + reload_time in its nginx block)`, "traefik", "fabio"),
			duration(&lb.Reaction, true))},
	}, hcl.BlockHeaderSchema{Type: "nginx"}, hcl.BlockHeaderSchema{Type: "system_job"}, hcl.BlockHeaderSchema{Type: "tls"})
	lb.KindRange, lb.ReactionRange = a.rangeOf("kind"), a.rangeOf("kind")
	if a.decoded("reaction_time") {
		lb.ReactionRange = a.rangeOf("reaction_time")
	} else { // the kind's own, which the nginx block may change
		lb.Reaction = defaultReaction(lb)
	}
	d.lbBlocks(dep, blocks)
	if lb.TLS != nil && lb.Kind == "traefik" && !a.has("entrypoint") {
		lb.Entrypoint = DefaultTLSEntrypoint
	}
}

// lbOnly refuses an attribute that only the balancers kinds (described
// by which) take.
func lbOnly(lb *LoadBalancer, which string, kinds ...string) func(a attrs, name string) *hcl.Diagnostic {
	return func(a attrs, name string) *hcl.Diagnostic {
		if slices.Contains(kinds, lb.Kind) {
			return nil
		}
		return DiagLBAttribute(name, which, lb.Kind, a.rangeOf(name))
	}
}

// lbBlocks decodes the nginx and system_job blocks of load_balancer,
// which apply to nginx only.
func (d *decoder) lbBlocks(dep *Deployment, blocks hcl.Blocks) {
	lb := &dep.LB
	for _, typ := range []string{"nginx", "system_job"} {
		blk := d.single(blocks, typ)
		switch {
		case blk == nil:
		case lb.Kind != "nginx":
			d.add(DiagLBAttribute(typ+" block", `"nginx"`, lb.Kind, blk.DefRange))
		case typ == "nginx":
			d.nginxHost(lb, blk)
		default:
			lb.SystemJob = d.lbSystemJob(blk)
		}
	}
	if blk := d.single(blocks, "tls"); blk != nil {
		lb.TLS = d.lbTLS(dep, blk)
	}
}

// nginxHost decodes load_balancer's nginx block: where nginx and
// consul-template live on the load-balancer hosts, and how fast the site follows
// the catalog.
func (d *decoder) nginxHost(lb *LoadBalancer, b *hcl.Block) {
	n := &lb.Nginx
	a, _ := d.block(b, "nginx", []field{
		{"site", valid(str, &n.Site, absPath, "site path", absPathPattern)},
		{"config_dir", valid(str, &n.ConfigDir, absPath, "config_dir path", absPathPattern)},
		{"consul_template", valid(str, &n.ConsulTemplate, absPath, "consul_template path", absPathPattern)},
		{"consul_address", matching(&n.ConsulAddress, consulAddrRE, "Consul address", "host:port or unix:///path, without a scheme")},
		{"test_command", shellCommand(&n.TestCommand)},
		{"reload_command", shellCommand(&n.ReloadCommand)},
		{"wait_min", duration(&n.WaitMin, false)},
		{"wait_max", duration(&n.WaitMax, true)},
		{"reload_time", duration(&n.ReloadTime, true)},
	})
	if n.WaitMin > n.WaitMax {
		d.add(DiagWaitOrder(n.WaitMin, n.WaitMax, a.rangeOf("wait_min")))
	}
	// The balancer's reaction time is derived from two attributes.
	lb.Reaction = n.WaitMax + n.ReloadTime
	for _, name := range []string{"wait_max", "reload_time"} {
		if a.has(name) {
			lb.ReactionRange = a.rangeOf(name)
		}
	}
}

// absPath says whether s is an absolute path safe to write into a job,
// a template or a command line.
func absPath(s string) bool { return strings.HasPrefix(s, "/") && safePathRE.MatchString(s) }

const absPathPattern = "an absolute path of letters, digits and _ . / -"

// commandWordRE is what a word of the nginx test and reload commands may
// hold: they run through /bin/sh, unquoted.
var commandWordRE = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

// shellCommand decodes a command given as a list of words.
func shellCommand(dst *[]string) decodeFunc {
	return func(a attrs, name string) bool {
		var words []string
		if !a.strList(name, &words) {
			return false
		}
		a.d.nonEmptyList(name, words, a.rangeOf(name))
		for _, w := range words {
			if w != "" && !commandWordRE.MatchString(w) {
				a.d.add(DiagInvalidName("command word", w, "letters, digits and _ . / : = @ % + , - (the command runs through /bin/sh without quoting)", a.rangeOf(name)))
				return false
			}
		}
		*dst = words
		return true
	}
}

// lbSystemJob decodes load_balancer's system_job block.
func (d *decoder) lbSystemJob(b *hcl.Block) *LBSystemJob {
	sj := &LBSystemJob{NodeClass: DefaultLBNodeClass, Driver: DefaultDriver, Nginx: DefaultLBNginx, Range: b.DefRange}
	d.block(b, "system_job", []field{
		{"node_class", nonEmpty(&sj.NodeClass)},
		{"driver", oneOf(&sj.Driver, "exec", "raw_exec")},
		{"nginx", valid(str, &sj.Nginx, absPath, "nginx path", absPathPattern)},
	})
	return sj
}

// secretKey decodes the name of a key in the secrets path.
func secretKey(dst *string) decodeFunc {
	return matching(dst, keyRE, "secret key name", "letters, digits and '_', not starting with a digit")
}

// How tasks log in to Vault depends on the Nomad version: policies before
// workload identity (1.7), a role from then on; Nomad 1.10 removed
// policies.

func vaultRole(dep *Deployment) decodeFunc {
	return then(str(&dep.Secrets.VaultRole), func(a attrs, name string) {
		if !dep.Nomad.Has(rules.VaultWorkloadIdentity) {
			a.d.add(DiagNomadLacks(name, rules.VaultWorkloadIdentity, dep.Nomad, "list Vault policies in vault_policies instead", a.rangeOf(name)))
		}
	})
}

func vaultPolicies(dep *Deployment) decodeFunc {
	return then(nonEmptyList(&dep.Secrets.VaultPolicies), func(a attrs, name string) {
		if dep.Nomad.Has(rules.LegacyVaultPoliciesRemoved) {
			a.d.add(DiagNomadRemoved(name, rules.LegacyVaultPoliciesRemoved, dep.Nomad, "use vault_role (workload identity)", a.rangeOf(name)))
		}
	})
}
