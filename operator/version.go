package operator

import (
	"context"
	"fmt"
	"strings"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// CheckNomadVersion compares the version of the Nomad agent the cluster
// talks to with the version the deployment file's jobs are written for
// (nomad_version). An agent older than the target (by major.minor) is
// refused: the jobs may use what it lacks. A newer agent is accepted, with
// a note that nomad_version could be raised. It returns the agent's
// version.
func (c *Cluster) CheckNomadVersion(ctx context.Context, r *Release) (string, error) {
	agent, err := c.agentVersion(ctx)
	if err != nil {
		return "", err
	}
	target := r.Dep.Nomad.Version
	cmp, err := compareMinor(agent, target)
	if err != nil {
		return agent, fmt.Errorf("compare Nomad %s with nomad_version %s: %w", agent, target, err)
	}
	switch {
	case cmp < 0:
		return agent, rules.WithHint(fmt.Errorf("the Nomad agent runs %s, but the jobs are written for Nomad %s", agent, target),
			fmt.Sprintf("Set nomad_version = %q in the deployment file (the jobs then use only what Nomad %s understands), or upgrade Nomad.", majorMinor(agent), majorMinor(agent)))
	case cmp > 0:
		c.printf("Nomad %s; the jobs are written for Nomad %s (nomad_version = %q would use what %s adds)", agent, target, majorMinor(agent), majorMinor(agent))
	default:
		c.printf("Nomad %s; the jobs are written for Nomad %s", agent, target)
	}
	return agent, nil
}

// agentVersion asks the agent for its version (/v1/agent/self, which needs
// agent:read under ACLs).
func (c *Cluster) agentVersion(ctx context.Context) (string, error) {
	self, err := c.Nomad.Agent().Self()
	if err != nil && (timedOut(err) || !strings.Contains(err.Error(), "response code: 403")) && rules.Hint(nomadError("", err)) != "" {
		return "", nomadError("read the Nomad agent's version", err) // unreachable, too slow, TLS: its own hint
	}
	if err != nil {
		return "", rules.WithHint(nomadError("read the Nomad agent's version", err),
			"deploy checks the agent's version before submitting; the token needs agent:read (agent { policy = \"read\" }).")
	}
	if v, ok := self.Config["Version"].(map[string]any); ok {
		if s, ok := v["Version"].(string); ok && s != "" {
			return s, nil
		}
	}
	if s := self.Member.Tags["build"]; s != "" {
		return s, nil
	}
	return "", fmt.Errorf("read the Nomad agent's version: /v1/agent/self names none")
}

// compareMinor compares a and b on major.minor only.
func compareMinor(a, b string) (int, error) {
	va, err := rules.ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := rules.ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return rules.CompareVersions(fmt.Sprintf("%d.%d", va.Major, va.Minor), fmt.Sprintf("%d.%d", vb.Major, vb.Minor))
}

// majorMinor is "1.6" for "1.6.1" (or v unchanged when it does not parse).
func majorMinor(v string) string {
	p, err := rules.ParseVersion(v)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%d.%d", p.Major, p.Minor)
}
