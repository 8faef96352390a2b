package operator

import (
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	consulapi "github.com/hashicorp/consul/api"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Flags are the connection options of the operator commands. Their
// defaults come from the environment variables the nomad and consul CLIs
// read (NOMAD_ADDR, NOMAD_TOKEN, NOMAD_REGION, NOMAD_NAMESPACE,
// NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY, NOMAD_TLS_SERVER_NAME,
// NOMAD_SKIP_VERIFY; CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_HTTP_SSL,
// CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY...); a flag given
// on the command line wins.
type Flags struct {
	nomad   nomadFlags
	consul  consulFlags
	timeout time.Duration
}

// DefaultTimeout bounds each call to Nomad's or Consul's HTTP API.
const DefaultTimeout = 10 * time.Second

type nomadFlags struct {
	addr, token, region, namespace         string
	caCert, clientCert, clientKey, tlsName string
	skipVerify                             bool
}

type consulFlags struct {
	addr, token, caCert, clientCert, clientKey string
}

// AddFlags registers the connection flags on fs, with the names the nomad
// CLI uses (-address, -token, -region, -namespace, -ca-cert, -client-cert,
// -client-key, -tls-server-name, -tls-skip-verify) and, for Consul, the
// consul CLI's names prefixed with "consul-" (-consul-http-addr,
// -consul-token, -consul-ca-file, -consul-client-cert, -consul-client-key).
func AddFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	n, c := &f.nomad, &f.consul
	fs.StringVar(&n.addr, "address", "", "Nomad HTTP API `address` (default: NOMAD_ADDR, else http://127.0.0.1:4646)")
	fs.StringVar(&n.token, "token", "", "Nomad ACL token (default: NOMAD_TOKEN)")
	fs.StringVar(&n.region, "region", "", "Nomad region (default: NOMAD_REGION; a region in kantree.hcl wins)")
	fs.StringVar(&n.namespace, "namespace", "", "Nomad namespace (default: NOMAD_NAMESPACE; a namespace in kantree.hcl wins)")
	fs.StringVar(&n.caCert, "ca-cert", "", "CA certificate `file` for Nomad's TLS (default: NOMAD_CACERT)")
	fs.StringVar(&n.clientCert, "client-cert", "", "client certificate `file` for Nomad (default: NOMAD_CLIENT_CERT)")
	fs.StringVar(&n.clientKey, "client-key", "", "client key `file` for Nomad (default: NOMAD_CLIENT_KEY)")
	fs.StringVar(&n.tlsName, "tls-server-name", "", "server name Nomad's certificate is checked against (default: NOMAD_TLS_SERVER_NAME)")
	fs.BoolVar(&n.skipVerify, "tls-skip-verify", false, "do not verify Nomad's certificate (default: NOMAD_SKIP_VERIFY)")
	fs.StringVar(&c.addr, "consul-http-addr", "", "Consul HTTP API `address` (default: CONSUL_HTTP_ADDR, else 127.0.0.1:8500)")
	fs.StringVar(&c.token, "consul-token", "", "Consul ACL token (default: CONSUL_HTTP_TOKEN)")
	fs.StringVar(&c.caCert, "consul-ca-file", "", "CA certificate `file` for Consul's TLS (default: CONSUL_CACERT)")
	fs.StringVar(&c.clientCert, "consul-client-cert", "", "client certificate `file` for Consul (default: CONSUL_CLIENT_CERT)")
	fs.StringVar(&c.clientKey, "consul-client-key", "", "client key `file` for Consul (default: CONSUL_CLIENT_KEY)")
	fs.DurationVar(&f.timeout, "timeout", DefaultTimeout, "bound on each call to Nomad's and Consul's HTTP API (a watch makes many)")
	return f
}

// Connect builds the API clients from the environment and the flags.
// Progress and reports go to out.
//
// Every call to either API is bounded by the -timeout flag: a paused or
// unreachable agent makes a command fail with the address it tried, not
// hang.
func (f *Flags) Connect(out io.Writer) (*Cluster, error) {
	if f.timeout <= 0 {
		return nil, rules.WithHint(fmt.Errorf("-timeout %s: must be positive", f.timeout), "Give -timeout a duration such as 10s.")
	}
	nconf, err := f.nomadConfig()
	if err != nil {
		return nil, rules.WithHint(fmt.Errorf("nomad client: %w", err),
			"Check NOMAD_ADDR (or -address) and the TLS files (NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY).")
	}
	nc, err := nomadapi.NewClient(nconf)
	if err != nil {
		return nil, rules.WithHint(fmt.Errorf("nomad client: %w", err),
			"Check NOMAD_ADDR (or -address) and the TLS files (NOMAD_CACERT, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY).")
	}
	cconf, err := f.consulConfig()
	if err != nil {
		return nil, rules.WithHint(fmt.Errorf("consul client: %w", err),
			"Check CONSUL_HTTP_ADDR (or -consul-http-addr) and the TLS files (CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY).")
	}
	cc, err := consulapi.NewClient(cconf)
	if err != nil {
		return nil, rules.WithHint(fmt.Errorf("consul client: %w", err),
			"Check CONSUL_HTTP_ADDR (or -consul-http-addr) and the TLS files (CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY).")
	}
	return &Cluster{Nomad: nc, Consul: cc, Out: out, Now: time.Now, Poll: time.Second, Outage: DefaultOutage}, nil
}

func (f *Flags) nomadConfig() (*nomadapi.Config, error) {
	conf := nomadapi.DefaultConfig()
	n := f.nomad
	set(&conf.Address, n.addr)
	set(&conf.SecretID, n.token)
	set(&conf.Region, n.region)
	set(&conf.Namespace, n.namespace)
	set(&conf.TLSConfig.CACert, n.caCert)
	set(&conf.TLSConfig.ClientCert, n.clientCert)
	set(&conf.TLSConfig.ClientKey, n.clientKey)
	set(&conf.TLSConfig.TLSServerName, n.tlsName)
	if n.skipVerify {
		conf.TLSConfig.Insecure = true
	}
	if strings.HasPrefix(conf.Address, "unix:") {
		return conf, nil // the library's own socket client; calls stay bound by the context of each command
	}
	tr := cleanTransport()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	conf.HttpClient = &http.Client{Transport: tr, Timeout: f.timeout}
	if err := nomadapi.ConfigureTLS(conf.HttpClient, conf.TLSConfig); err != nil {
		return nil, err
	}
	return conf, nil
}

// cleanTransport is a transport of its own (no shared state with
// http.DefaultTransport), HTTP/1 as the nomad CLI uses.
func cleanTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ForceAttemptHTTP2 = false
	tr.TLSHandshakeTimeout = 10 * time.Second
	return tr
}

func (f *Flags) consulConfig() (*consulapi.Config, error) {
	conf := consulapi.DefaultConfig()
	c := f.consul
	set(&conf.Address, c.addr)
	set(&conf.Token, c.token)
	set(&conf.TLSConfig.CAFile, c.caCert)
	set(&conf.TLSConfig.CertFile, c.clientCert)
	set(&conf.TLSConfig.KeyFile, c.clientKey)
	if strings.HasPrefix(conf.Address, "unix:") {
		return conf, nil
	}
	conf.Transport = cleanTransport()
	hc, err := consulapi.NewHttpClient(conf.Transport, conf.TLSConfig)
	if err != nil {
		return nil, err
	}
	hc.Timeout = f.timeout
	conf.HttpClient = hc
	return conf, nil
}

// set overrides *dst with v when v is not empty.
func set(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
