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
	c := d.content(b, kantreeSchema)
	a := d.attrs(c, "kantree", b.DefRange)
	k := &dep.Kantree
	if a.required("version", &k.Version) {
		k.VersionRange = a.rangeOf("version")
		if major, ok := versionMajor(k.Version); !ok {
			d.add(DiagBadVersion(k.Version, k.VersionRange))
		} else {
			k.Realtime = major >= realtimeMajor
		}
	}
	a.boolean("realtime", &k.Realtime)
	if a.required("server_name", &k.ServerName) && !hostnameRE.MatchString(k.ServerName) {
		d.add(DiagInvalidName("server name", k.ServerName, "one host name, such as kantree.example.com (no scheme, port or path)", a.rangeOf("server_name")))
	}
	archive, docker := d.single(c.Blocks, "archive"), d.single(c.Blocks, "docker")
	switch {
	case archive != nil && docker != nil:
		d.add(DiagDeliveryBoth(docker.DefRange, archive.DefRange))
	case archive != nil:
		k.Archive = d.archive(archive)
		k.Root = DefaultArchiveRoot
	case docker != nil:
		k.Docker = d.docker(docker)
		k.Root = DefaultDockerRoot
	default:
		d.add(DiagDeliveryNone(b.DefRange))
	}
	if a.str("root", &k.Root) {
		d.checkRoot(k, a.rangeOf("root"))
	}
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
	a := d.attrs(d.content(b, consulSchema), "consul", b.DefRange)
	if a.str("address", &c.Address) && !consulAddrRE.MatchString(c.Address) {
		d.add(DiagInvalidName("Consul address", c.Address, "host:port, [ipv6]:port or unix:///path, without a scheme (use tls = true for HTTPS)", a.rangeOf("address")))
	}
	a.boolean("tls", &c.TLS)
	if a.str("ca_file", &c.CAFile) && !safePathRE.MatchString(c.CAFile) {
		d.add(DiagInvalidName("CA file", c.CAFile, "a path of letters, digits and _ . / -", a.rangeOf("ca_file")))
	}
	a.matches("tls_server_name", &c.TLSServerName, hostnameRE, "TLS server name", "a host name")
	for _, name := range []string{"ca_file", "tls_server_name"} {
		if a.has(name) && !c.TLS {
			d.add(DiagRequires(name, "tls = true", a.rangeOf(name)))
		}
	}
}

var consulAddrRE = regexp.MustCompile(`^(unix:///[A-Za-z0-9_./-]+|[A-Za-z0-9.-]+:[0-9]{1,5}|\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}|\$\{attr\.unique\.network\.ip-address\}:[0-9]{1,5})$`)

func (d *decoder) archive(b *hcl.Block) *Archive {
	ar := &Archive{Driver: DefaultDriver, Range: b.DefRange}
	a := d.attrs(d.content(b, archiveSchema), "archive", b.DefRange)
	if a.required("url", &ar.URL) {
		d.noCredentials("url", ar.URL, a.rangeOf("url"))
	}
	d.checksum(a, &ar.Checksum)
	a.oneOf("driver", &ar.Driver, "exec", "raw_exec")
	return ar
}

func (d *decoder) docker(b *hcl.Block) *Docker {
	dk := &Docker{Range: b.DefRange}
	a := d.attrs(d.content(b, dockerSchema), "docker", b.DefRange)
	a.required("image", &dk.Image)
	return dk
}

// checksum reads an artifact checksum "type:hex".
func (d *decoder) checksum(a attrs, dst *string) {
	var s string
	if !a.str("checksum", &s) {
		return
	}
	m := checksumRE.FindStringSubmatch(s)
	if m == nil || len(m[2]) != checksumLen[m[1]] {
		d.add(DiagBadChecksum(s, a.rangeOf("checksum")))
		return
	}
	*dst = s
}

// noCredentials refuses a URL that carries a password.
func (d *decoder) noCredentials(name, value string, rng hcl.Range) {
	if credentialsRE.MatchString(value) {
		d.add(DiagCredentialsInURL(name, rng))
	}
}

// binary decodes kantree_nomad: where tasks get kantree-nomad itself.
func (d *decoder) binary(dep *Deployment, b *hcl.Block) {
	dep.Binary.Path = DefaultBinaryPath
	if b == nil {
		return
	}
	a := d.attrs(d.content(b, binarySchema), "kantree_nomad", b.DefRange)
	bin := &dep.Binary
	hasURL := a.str("url", &bin.URL)
	if hasURL {
		bin.Path = ""
		d.noCredentials("url", bin.URL, a.rangeOf("url"))
		if a.has("path") {
			d.add(DiagConflict("path", "url", a.rangeOf("path"), a.rangeOf("url")))
		}
	} else if a.str("path", &bin.Path) && bin.Path == "" {
		d.add(DiagEmptyString("path", a.rangeOf("path")))
	}
	if a.has("checksum") && !a.has("url") {
		d.add(DiagRequires("checksum", "url", a.rangeOf("checksum")))
	}
	d.checksum(a, &bin.Checksum)
}

// secrets decodes the secrets block: where tasks read secret values.
func (d *decoder) secrets(dep *Deployment, b *hcl.Block) {
	s := &dep.Secrets
	*s = Secrets{Provider: "nomad", DatabaseURLKey: "database_url", RedisURLKey: "redis_url",
		LicenseKey: "license", SecretKeyKey: "secret_key", ConsulTokenKey: "consul_token", Range: fileStart(d.file)}
	if b != nil {
		s.Range = b.DefRange
		a := d.attrs(d.content(b, secretsSchema), "secrets", b.DefRange)
		a.oneOf("provider", &s.Provider, "nomad", "vault")
		if a.str("path", &s.Path) && !safePathRE.MatchString(s.Path) {
			d.add(DiagInvalidName("secrets path", s.Path, "letters, digits and _ . / - (a Nomad Variable or Vault KV path)", a.rangeOf("path")))
		}
		d.vaultAuth(dep, a)
		for _, k := range []struct {
			name string
			dst  *string
		}{{"database_url_key", &s.DatabaseURLKey}, {"redis_url_key", &s.RedisURLKey},
			{"license_key", &s.LicenseKey}, {"secret_key_key", &s.SecretKeyKey}, {"consul_token_key", &s.ConsulTokenKey}} {
			a.matches(k.name, k.dst, keyRE, "secret key name", "letters, digits and '_', not starting with a digit")
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
	a := d.attrs(d.content(b, configSchema), "config", b.DefRange)
	if a.str("license_file", &cfg.LicenseFile) && (cfg.LicenseFile == "" || strings.Contains(cfg.LicenseFile, "..")) {
		d.add(DiagInvalidName("license file name", cfg.LicenseFile, "a non-empty path under the Kantree root, without '..'", a.rangeOf("license_file")))
	}
	a.strMap("settings", &cfg.Settings)
	rng := a.rangeOf("settings")
	for _, k := range slices.Sorted(maps.Keys(cfg.Settings)) {
		switch {
		case !settingKeyRE.MatchString(k):
			d.add(DiagInvalidName("setting name", k, "letters, digits, '_', '.' and '-'", rng))
		case reservedSettings[k] != "":
			d.add(DiagReservedSetting(k, reservedSettings[k], rng))
		case looksSecret(k):
			d.add(DiagSecretLooking("config settings", k, rng))
		default:
			d.noCredentials(fmt.Sprintf("settings.%s", k), cfg.Settings[k], rng)
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
	a := d.attrs(d.content(b, lockSchema), "scheduler_lock", b.DefRange)
	if a.str("key", &l.Key) {
		if err := rules.CheckLockKey(l.Key); err != nil {
			d.add(DiagLockKey(err, a.rangeOf("key")))
		}
	}
	a.duration("ttl", &l.TTL, true)
	a.duration("lock_delay", &l.LockDelay, true)
	a.duration("kill_grace", &l.KillGrace, true)
	a.duration("check_ttl", &l.CheckTTL, true)
	a.integer("standbys", &l.Standbys, 0, 0)
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
	c := d.content(b, lbSchema)
	a := d.attrs(c, "load_balancer", b.DefRange)
	a.oneOf("kind", &lb.Kind, "nginx", "traefik", "fabio")
	lb.KindRange, lb.ReactionRange = a.rangeOf("kind"), a.rangeOf("kind")
	lb.Reaction = defaultReaction(lb)
	if a.has("sticky") && lb.Kind == "fabio" {
		d.add(DiagLBAttribute("sticky", `"nginx" or "traefik"`, lb.Kind, a.rangeOf("sticky")))
	} else if a.oneOf("sticky", &lb.Sticky, "cookie", "ip") {
		lb.StickyRange = a.rangeOf("sticky")
	}
	d.lbKindAttr(a, lb.Kind, "listen", "nginx", func() { a.integer("listen", &lb.Listen, 1, 65535) })
	d.lbKindAttr(a, lb.Kind, "entrypoint", "traefik", func() {
		a.matches("entrypoint", &lb.Entrypoint, entrypointRE, "Traefik entrypoint", "letters, digits, '_' and '-'")
	})
	a.oneOf("canaries", &lb.Canaries, "hold", "route")
	if a.has("reaction_time") && lb.Kind == "nginx" {
		d.add(DiagLBAttribute("reaction_time", `"traefik" or "fabio" (nginx's is wait_max + reload_time in its nginx block)`, lb.Kind, a.rangeOf("reaction_time")))
	} else if a.duration("reaction_time", &lb.Reaction, true) {
		lb.ReactionRange = a.rangeOf("reaction_time")
	}
	d.lbBlocks(dep, c.Blocks)
}

// lbKindAttr decodes an attribute that only one kind of balancer takes.
func (d *decoder) lbKindAttr(a attrs, kind, name, only string, decode func()) {
	if a.has(name) && kind != only {
		d.add(DiagLBAttribute(name, `"`+only+`"`, kind, a.rangeOf(name)))
		return
	}
	decode()
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
			lb.SystemJob = d.lbSystemJob(dep.Job, blk)
		}
	}
}

// nginxHost decodes load_balancer's nginx block: where nginx and
// consul-template live on the load-balancer hosts, and how fast the site follows
// the catalog.
func (d *decoder) nginxHost(lb *LoadBalancer, b *hcl.Block) {
	n := &lb.Nginx
	a := d.attrs(d.content(b, lbNginxSchema), "nginx", b.DefRange)
	for _, p := range []struct {
		name string
		dst  *string
	}{{"site", &n.Site}, {"config_dir", &n.ConfigDir}, {"consul_template", &n.ConsulTemplate}} {
		if a.str(p.name, p.dst) && (!strings.HasPrefix(*p.dst, "/") || !safePathRE.MatchString(*p.dst)) {
			d.add(DiagInvalidName(p.name+" path", *p.dst, "an absolute path of letters, digits and _ . / -", a.rangeOf(p.name)))
		}
	}
	a.matches("consul_address", &n.ConsulAddress, consulAddrRE, "Consul address", "host:port or unix:///path, without a scheme")
	d.lbCommand(a, "test_command", &n.TestCommand)
	d.lbCommand(a, "reload_command", &n.ReloadCommand)
	a.duration("wait_min", &n.WaitMin, false)
	a.duration("wait_max", &n.WaitMax, true)
	a.duration("reload_time", &n.ReloadTime, true)
	if n.WaitMin > n.WaitMax {
		d.add(DiagWaitOrder(n.WaitMin, n.WaitMax, a.rangeOf("wait_min")))
	}
	lb.Reaction = n.WaitMax + n.ReloadTime
	for _, name := range []string{"wait_max", "reload_time"} {
		if a.has(name) {
			lb.ReactionRange = a.rangeOf(name)
		}
	}
}

// commandWordRE is what a word of the nginx test and reload commands may
// hold: they run through /bin/sh, unquoted.
var commandWordRE = regexp.MustCompile(`^[A-Za-z0-9_./:=@%+,-]+$`)

// lbCommand decodes a command given as a list of words.
func (d *decoder) lbCommand(a attrs, name string, dst *[]string) {
	var words []string
	if !a.strList(name, &words) {
		return
	}
	d.nonEmptyList(name, words, a.rangeOf(name))
	for _, w := range words {
		if w != "" && !commandWordRE.MatchString(w) {
			d.add(DiagInvalidName("command word", w, "letters, digits and _ . / : = @ % + , - (the command runs through /bin/sh without quoting)", a.rangeOf(name)))
			return
		}
	}
	*dst = words
}

// lbSystemJob decodes load_balancer's system_job block.
func (d *decoder) lbSystemJob(job string, b *hcl.Block) *LBSystemJob {
	sj := &LBSystemJob{NodeClass: DefaultLBNodeClass, Driver: DefaultDriver, Nginx: DefaultLBNginx, Range: b.DefRange}
	a := d.attrs(d.content(b, lbSystemJobSchema), "system_job", b.DefRange)
	if a.str("node_class", &sj.NodeClass) && sj.NodeClass == "" {
		d.add(DiagEmptyString("node_class", a.rangeOf("node_class")))
	}
	a.oneOf("driver", &sj.Driver, "exec", "raw_exec")
	if a.str("nginx", &sj.Nginx) && (!strings.HasPrefix(sj.Nginx, "/") || !safePathRE.MatchString(sj.Nginx)) {
		d.add(DiagInvalidName("nginx path", sj.Nginx, "an absolute path of letters, digits and _ . / -", a.rangeOf("nginx")))
	}
	return sj
}

// vaultAuth decodes how tasks log in to Vault, which depends on the Nomad
// version: policies before workload identity (1.7), a role from then on;
// Nomad 1.10 removed policies.
func (d *decoder) vaultAuth(dep *Deployment, a attrs) {
	s := &dep.Secrets
	for _, name := range []string{"vault_role", "vault_policies"} {
		if a.has(name) && s.Provider != "vault" {
			d.add(DiagRequires(name, `provider = "vault"`, a.rangeOf(name)))
		}
	}
	if a.str("vault_role", &s.VaultRole) && !dep.Nomad.Has(rules.VaultWorkloadIdentity) {
		d.add(DiagNomadLacks("vault_role", rules.VaultWorkloadIdentity, dep.Nomad, "list Vault policies in vault_policies instead", a.rangeOf("vault_role")))
	}
	if a.strList("vault_policies", &s.VaultPolicies) {
		d.nonEmptyList("vault_policies", s.VaultPolicies, a.rangeOf("vault_policies"))
		if dep.Nomad.Has(rules.LegacyVaultPoliciesRemoved) {
			d.add(DiagNomadRemoved("vault_policies", rules.LegacyVaultPoliciesRemoved, dep.Nomad, "use vault_role (workload identity)", a.rangeOf("vault_policies")))
		}
	}
	if s.Provider == "vault" && !dep.Nomad.Has(rules.VaultWorkloadIdentity) && len(s.VaultPolicies) == 0 && !a.has("vault_policies") {
		d.add(DiagMissingAttribute("vault_policies", fmt.Sprintf("secrets block (Vault on Nomad %s)", dep.Nomad.Version), a.rng))
	}
}
