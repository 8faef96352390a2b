package jobspec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Defaults of load_balancer.tls.
const (
	DefaultTLSListen = 443
	// DefaultHSTSMaxAge is two years, as Mozilla's guidelines give it.
	DefaultHSTSMaxAge = 2 * 365 * 24 * time.Hour
	// DefaultTLSEntrypoint is Traefik's entrypoint with a tls block and no
	// entrypoint given: the name Traefik's documentation gives port 443.
	DefaultTLSEntrypoint = "websecure"
)

// lbTLS decodes load_balancer's tls block. What a kind cannot do is
// refused at the attribute, with the reason.
func (d *decoder) lbTLS(dep *Deployment, b *hcl.Block) *LBTLS {
	lb := &dep.LB
	t := &LBTLS{Listen: DefaultTLSListen, RedirectHTTP: true, HSTSMaxAge: DefaultHSTSMaxAge, Source: TLSSourceFiles,
		CertificateFile: "/etc/ssl/" + dep.Job + "/fullchain.pem", KeyFile: "/etc/ssl/" + dep.Job + "/privkey.pem",
		Range: b.DefRange, SourceRange: b.DefRange}
	if lb.Kind == "fabio" {
		d.add(DiagTLSFabio(b.DefRange))
		return nil
	}
	nginx := func(a attrs, name string) *hcl.Diagnostic {
		if lb.Kind == "nginx" {
			return nil
		}
		return DiagTLSTraefik(name, a.rangeOf(name))
	}
	a, _ := d.block(b, "tls", []field{
		{"listen", guarded(nginx, integer(&t.Listen, 1, 65535))},
		{"redirect_http", guarded(nginx, boolean(&t.RedirectHTTP))},
		{"hsts", guarded(nginx, boolean(&t.HSTS))},
		{"hsts_max_age", guarded(nginx, duration(&t.HSTSMaxAge, true))},
		{"certificate_file", guarded(nginx, valid(str, &t.CertificateFile, absPath, "certificate path", absPathPattern))},
		{"key_file", guarded(nginx, valid(str, &t.KeyFile, absPath, "key path", absPathPattern))},
		{"source", guarded(nginx, oneOf(&t.Source, TLSSourceFiles, TLSSourceNomad, TLSSourceVaultKV, TLSSourceVaultPKI))},
		{"path", guarded(nginx, valid(str, &t.Path, safePathRE.MatchString, "certificate path in Nomad Variables or Vault",
			"letters, digits and _ . / - (a Nomad Variable or Vault path)"))},
		{"cert_resolver", guarded(lbOnly(lb, `"traefik"`, "traefik"), matching(&t.CertResolver, entrypointRE, "Traefik certificate resolver", "letters, digits, '_' and '-'"))},
	})
	if a.has("source") {
		t.SourceRange = a.rangeOf("source")
	}
	d.checkTLSSource(dep, t, a)
	return t
}

// checkTLSSource applies the rules of the system job's certificate
// source: it needs the system job, Vault needs the secrets block's Vault
// login, and each source has its path.
func (d *decoder) checkTLSSource(dep *Deployment, t *LBTLS, a attrs) {
	if dep.LB.Kind != "nginx" {
		return
	}
	sj := dep.LB.SystemJob
	switch {
	case t.Listen == dep.LB.Listen:
		d.add(DiagTLSPort(t.Listen, a.rangeOf("listen")))
	case t.Source == TLSSourceFiles && sj != nil && sj.Driver == "exec":
		d.add(DiagTLSFilesInChroot(t.SourceRange))
	case t.Source != TLSSourceFiles && sj == nil:
		d.add(DiagTLSSourceNeedsJob(t.Source, t.SourceRange))
	case (t.Source == TLSSourceVaultKV || t.Source == TLSSourceVaultPKI) && dep.Secrets.Provider != "vault":
		d.add(DiagTLSVaultLogin(t.Source, t.SourceRange))
	case t.Source == TLSSourceFiles && a.has("path"):
		d.add(DiagLBAttribute("path", `source "nomad", "vault_kv" or "vault_pki"`, `source "files"`, a.rangeOf("path")))
	case t.Source == TLSSourceVaultPKI && t.Path == "":
		d.add(DiagMissingAttribute("path", `tls (source "vault_pki": the PKI issue endpoint, such as "pki/issue/kantree")`, t.SourceRange))
	}
}

// defaultTLSPath is where the system job (named job) reads its
// certificate by default: the job's own Nomad Variable (readable by its
// tasks without an ACL policy), or its KV v2 path in Vault.
func defaultTLSPath(source, job string) string {
	switch source {
	case TLSSourceNomad:
		return "nomad/jobs/" + job
	case TLSSourceVaultKV:
		return "secret/data/" + job + "/tls"
	}
	return ""
}
