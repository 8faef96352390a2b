package generator_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	consul "github.com/hashicorp/consul/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/testbed"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

const rootToken = "6e9c3a4e-0d6f-4b8e-9f1a-6b7c2d3e4f50"

// startACLConsul runs a Consul dev agent with ACLs on and everything denied
// by default, and returns a management client.
func startACLConsul(t *testing.T) (string, *consul.Client) {
	t.Helper()
	ports := []int{testbed.FreePort(t), testbed.FreePort(t), testbed.FreePort(t)}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	acl := fmt.Sprintf(`acl { enabled = true
default_policy = "deny"
tokens { initial_management = %q }
}`, rootToken)
	cfg := consul.DefaultNonPooledConfig()
	cfg.Address, cfg.Token = addr, rootToken
	root, err := consul.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testbed.StartCommand(t, testbed.Command{
		Name: "consul-acl", Path: testbed.Binary(t, "consul"),
		Args: []string{"agent", "-dev", "-node", "acl-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1",
			"-http-port", strconv.Itoa(ports[0]), "-serf-lan-port", strconv.Itoa(ports[1]), "-server-port", strconv.Itoa(ports[2]),
			"-dns-port", "-1", "-grpc-port", "-1", "-grpc-tls-port", "-1", "-serf-wan-port", "-1",
			"-log-level", "warn", "-hcl", "disable_update_check = true", "-hcl", acl},
		Ready: func(ctx context.Context) error {
			_, _, err := root.ACL().PolicyList((&consul.QueryOptions{}).WithContext(ctx))
			return err
		},
	})
	return addr, root
}

// tokenFor creates a policy from rules and a token holding it.
func tokenFor(t *testing.T, root *consul.Client, name, rules string) string {
	t.Helper()
	p, _, err := root.ACL().PolicyCreate(&consul.ACLPolicy{Name: name, Rules: rules}, nil)
	if err != nil {
		t.Fatalf("consul refuses policy %s: %v\n%s", name, err, rules)
	}
	tok, _, err := root.ACL().TokenCreate(&consul.ACLToken{Policies: []*consul.ACLTokenPolicyLink{{ID: p.ID}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.SecretID
}

// lockJob renames examples/basic, so that the service name that render
// passes to supervise cannot be supervise's own default.
const lockJob = "acme"

// TestSchedulerLockPolicy: with only the generated policy, the real
// `kantree-nomad supervise` takes the lock and starts its command, with its
// session bound to serfHealth and the check of its agent service; without
// the service rule of that policy it cannot, and nothing is registered.
func TestSchedulerLockPolicy(t *testing.T) {
	addr, root := startACLConsul(t)
	rules, args := schedulerLock(t)
	cut := strings.Index(rules, "# The TTL check")
	if cut < 0 || !strings.Contains(rules[cut:], `service "`+lockJob+`-scheduler-lock"`) {
		t.Fatalf("the policy has no commented service rule for %s-scheduler-lock:\n%s", lockJob, rules)
	}
	full := tokenFor(t, root, "scheduler-lock", rules)
	withoutService := tokenFor(t, root, "scheduler-lock-no-service", rules[:cut])
	bin := testbed.BuildKantreeNomad(t)

	// Without the service rule first, so that no earlier session's
	// lock-delay can explain a failure.
	if runSupervise(t, bin, addr, withoutService, "without-service", args, nil) {
		t.Errorf("supervise got the lock without service write: the policy's service rule is not what makes it work")
	}
	if services, err := root.Agent().Services(); err != nil || len(services) != 0 {
		t.Errorf("without service write, services were registered: %v (%v)", services, err)
	}
	held := runSupervise(t, bin, addr, full, "full", args, func() { checkLockHeld(t, root) })
	if !held {
		t.Fatalf("supervise with the generated policy did not get the lock")
	}
	// Stopped with SIGTERM, supervise deregisters its service with the
	// same token.
	if services, err := root.Agent().Services(); err != nil || len(services) != 0 {
		t.Errorf("after supervise stopped, services are still registered: %v (%v)", services, err)
	}
}

// checkLockHeld asserts, with the management token, that the lock key is
// held by a session bound to serfHealth and to the passing check of one
// service named <job>-scheduler-lock on the agent.
func checkLockHeld(t *testing.T, root *consul.Client) {
	t.Helper()
	pair, _, err := root.KV().Get("kantree/"+lockJob+"/scheduler", nil)
	if err != nil || pair == nil || pair.Session == "" {
		t.Fatalf("the lock key is not held by a session: %+v, %v", pair, err)
	}
	checks, err := root.Agent().ChecksWithFilter(fmt.Sprintf("ServiceName == %q", lockJob+"-scheduler-lock"))
	if err != nil || len(checks) != 1 {
		t.Fatalf("agent checks of service %s-scheduler-lock: %v (%v), want one", lockJob, checks, err)
	}
	var check *consul.AgentCheck
	for _, c := range checks {
		check = c
	}
	if check.Status != consul.HealthPassing || check.ServiceID == "" {
		t.Errorf("the service's check is %s with service ID %q, want passing and a service check", check.Status, check.ServiceID)
	}
	se, _, err := root.Session().Info(pair.Session, nil)
	if err != nil || se == nil {
		t.Fatalf("session %s: %+v, %v", pair.Session, se, err)
	}
	if fmt.Sprint(se.NodeChecks) != "[serfHealth]" || len(se.ServiceChecks) != 1 || se.ServiceChecks[0].ID != check.CheckID {
		t.Errorf("session bound to node checks %v and service checks %v, want [serfHealth] and the check %s",
			se.NodeChecks, se.ServiceChecks, check.CheckID)
	}
}

// schedulerLock renders examples/basic as job lockJob and returns the
// scheduler lock policy and the scheduler task's arguments up to and
// including "--".
func schedulerLock(t *testing.T) (string, []string) {
	t.Helper()
	src, err := os.ReadFile("../examples/basic/kantree.hcl")
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.Replace(src, []byte(`job         = "kantree"`), []byte(`job = "`+lockJob+`"`), 1)
	d, _, diags := jobspec.Parse("kantree.hcl", src, jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	b, err := generator.Generate(d)
	if err != nil {
		t.Fatal(err)
	}
	files, err := b.Render("hcl")
	if err != nil {
		t.Fatal(err)
	}
	rules := string(fileData(t, files, "acl/consul-scheduler-lock.policy.hcl"))
	args := findTask(t, b.Service, "scheduler", "scheduler").Config["args"].([]string)
	for i, a := range args {
		if a == "--" {
			return rules, append([]string(nil), args[:i+1]...)
		}
	}
	t.Fatalf("no -- in the scheduler's arguments %q", args)
	return "", nil
}

// runSupervise runs supervise with the lock arguments of the generated
// scheduler task and a command that reports whether it runs under the lock.
func runSupervise(t *testing.T, bin, addr, token, name string, lockArgs []string, whileHeld func()) bool {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "held")
	args := append(append([]string(nil), lockArgs...), "/bin/sh", "-c", `echo "$KANTREE_LOCK_HELD" > `+marker+`; exec sleep 600`)
	p := testbed.StartCommand(t, testbed.Command{Name: "supervise-" + name, Path: bin, Args: args,
		Env: []string{"CONSUL_HTTP_ADDR=" + addr, "CONSUL_HTTP_TOKEN=" + token}})
	defer func() { _ = p.Stop() }()
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(marker); err == nil && strings.TrimSpace(string(data)) == "1" {
			if whileHeld != nil {
				whileHeld()
			}
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("supervise %s: no lock after 8s; log:\n%s", name, p.LogTail(6))
	return false
}

// TestLBPolicy: consul-template with a token of the generated LB policy
// sees the healthy instances; with a token without its service rules, it
// sees none and renders the placeholders. (A token that cannot read the
// maintenance key makes consul-template retry that read and render
// nothing, so the unrelated token keeps that one rule.)
func TestLBPolicy(t *testing.T) {
	addr, root := startACLConsul(t)
	files := renderBasic(t, "cookie", 80)
	lbToken := tokenFor(t, root, "lb", string(fileData(t, files, "acl/consul-lb.policy.hcl")))
	noneToken := tokenFor(t, root, "unrelated", `key_prefix "unrelated/" { policy = "read" }
key "kantree/kantree/maintenance" { policy = "read" }`)
	web, push := testbed.FreePort(t), testbed.FreePort(t)
	register(t, root, "kantree-web", web, "passing")
	register(t, root, "kantree-push", push, "passing")

	h := newLBHost(t, addr, files)
	h.token = lbToken
	site, _ := h.render(t)
	checkUpstream(t, site, "app", []int{web})
	checkUpstream(t, site, "push", []int{push})

	h = newLBHost(t, addr, files)
	h.token = noneToken
	site, _ = h.render(t)
	for _, up := range []string{"app", "push"} {
		if got := upstreamServers(site, up); len(got) != 1 || got[0] != "127.0.0.1:65535 down" {
			t.Errorf("without the LB policy, upstream %s = %q; want only the placeholder", up, got)
		}
	}
}
