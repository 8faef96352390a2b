package rules

import (
	"fmt"
	"net/netip"
	"strings"
)

// MaintenanceKey is the Consul KV key that switches the load balancers of
// Nomad job job to the maintenance page: while it exists, every proxied
// request is answered 503 with Retry-After, except from the client
// networks its value lists. The generator writes it into the nginx site
// and the LB's ACL policy; `kantree-nomad maintenance` writes and deletes
// it; `status` reads it.
func MaintenanceKey(job string) string { return "kantree/" + job + "/maintenance" }

// ParseClientNetworks checks a list of client networks given to
// maintenance mode (CIDR prefixes or single addresses, IPv4 or IPv6) and
// returns them in canonical prefix form (10.0.0.0/8, 192.0.2.7/32). The
// value is read by nginx through consul-template: only canonical prefixes
// ever reach the key, so nothing else can reach nginx's configuration.
func ParseClientNetworks(list []string) ([]string, error) {
	var out []string
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, WithHint(fmt.Errorf("client network %q is neither an address nor a CIDR prefix", s),
					"Give networks as 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32, separated by commas.")
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked().String())
	}
	return out, nil
}
