package generator

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// mozillaIntermediateCiphers are the TLS 1.2 suites of Mozilla's
// "intermediate" configuration (ssl-config.mozilla.org, guideline 5.7),
// without its DHE suites, which need a dhparam file. TLS 1.3 suites are
// OpenSSL's defaults, which that guideline keeps.
var mozillaIntermediateCiphers = []string{
	"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
	"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
	"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
}

// tlsView is the HTTPS part of the nginx site.
type tlsView struct {
	Listen       int
	RedirectHTTP bool
	PortSuffix   string // ":8443" in the redirect's URL, "" for 443
	HSTS         string // the header's value, "" when off
	Certificate  string // ssl_certificate
	Key          string // ssl_certificate_key
	Ciphers      string
	Watch        bool   // consul-template watches the files (host install)
	Source, Path string // where the system job reads the certificate
	HostFiles    bool   // Certificate and Key are files on the hosts
}

// jobTLSFile is the system job's PEM file (chain, then key) in the task's
// secrets directory, written by the task's template.
const jobTLSFile = `{{ env "NOMAD_SECRETS_DIR" }}/kantree-tls.pem`

// tlsViewOf returns the nginx site's TLS data, or nil without TLS. inJob
// selects the system job's certificate file over the hosts' files.
func tlsViewOf(t *jobspec.LBTLS, inJob bool) *tlsView {
	if t == nil {
		return nil
	}
	v := &tlsView{Listen: t.Listen, RedirectHTTP: t.RedirectHTTP, Certificate: t.CertificateFile, Key: t.KeyFile,
		Ciphers: strings.Join(mozillaIntermediateCiphers, ":"), Watch: !inJob, Source: t.Source, Path: t.Path, HostFiles: true}
	if t.Listen != 443 {
		v.PortSuffix = ":" + strconv.Itoa(t.Listen)
	}
	if t.HSTS {
		v.HSTS = fmt.Sprintf("max-age=%d", int64(t.HSTSMaxAge.Seconds()))
	}
	if inJob && t.Source != jobspec.TLSSourceFiles {
		v.Certificate, v.Key, v.HostFiles = jobTLSFile, jobTLSFile, false
	}
	return v
}

// tlsTemplate is the system job's template that writes the certificate
// chain and key, in one file so that nginx never loads a new certificate
// with an old key, from Nomad Variables or Vault. A change reloads nginx
// gracefully (SIGHUP). The values exist only in the task's secrets
// directory, never in a rendered file.
func tlsTemplate(t *jobspec.LBTLS, serverName string) *api.Template {
	var body string
	switch t.Source {
	case jobspec.TLSSourceNomad:
		body = fmt.Sprintf("{{ with nomadVar %q }}{{ .tls_certificate }}\n{{ .tls_key }}\n{{ end }}", t.Path)
	case jobspec.TLSSourceVaultKV:
		body = fmt.Sprintf("{{ with secret %q }}{{ .Data.data.certificate }}\n{{ .Data.data.key }}\n{{ end }}", t.Path)
	case jobspec.TLSSourceVaultPKI:
		body = fmt.Sprintf("{{ with pkiCert %q %q }}{{ .Cert }}\n{{ .CA }}\n{{ .Key }}\n{{ end }}", t.Path, "common_name="+serverName)
	default:
		return nil
	}
	return &api.Template{EmbeddedTmpl: new(body), DestPath: new("secrets/kantree-tls.pem"), Perms: new("0600"),
		ChangeMode: new("signal"), ChangeSignal: new("SIGHUP")}
}
