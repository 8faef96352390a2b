package main

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/internal/examples"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
)

// TestRenderedArgvParses: for every valid deployment file of the shared
// corpus (the examples, the fuzz seeds and saved fuzz inputs), every task
// that runs kantree-nomad has a command line that the subcommand's own flag
// set and configuration check accept, exactly as the task will parse it
// (launch, preflight, supervise, migrate, and the command after their
// "--"). What validate accepts, the task accepts.
func TestRenderedArgvParses(t *testing.T) {
	checked := map[string]int{}
	for i, src := range examples.ValidSeeds(t) {
		d, _, diags := jobspec.Parse("kantree.hcl", src, jobspec.LoadOptions{})
		if diags.HasErrors() {
			continue
		}
		b, err := generator.Generate(d)
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		for _, job := range b.Jobs() {
			for _, g := range job.TaskGroups {
				for _, task := range g.Tasks {
					if task.Config["command"] != d.Layout.Binary {
						continue
					}
					argv := nomadInterpolate(t, task)
					if err := checkArgv(d.Layout.Binary, argv, checked); err != nil {
						t.Errorf("seed %d, job %s, task %s/%s: %v\nargv: %q\n%s", i, *job.ID, *g.Name, task.Name, err, argv, src)
					}
				}
			}
		}
	}
	for _, sub := range []string{"launch", "preflight", "supervise", "migrate"} {
		if checked[sub] == 0 {
			t.Errorf("no rendered task runs %s: the corpus does not cover it", sub)
		}
	}
	t.Logf("command lines checked per subcommand: %v", checked)
}

// TestArgvCheckRefuses: the check the argv test relies on fails on what
// the tasks would refuse (so the test above can fail).
func TestArgvCheckRefuses(t *testing.T) {
	bin := "/bin/kn"
	for _, argv := range [][]string{
		{"migrate", "-release", "08.4", "--", "./platform", "upgrade_db"},
		{"migrate", "-release", "8.4", "-kill-grace", "40s", "--", "./platform"},
		{"preflight", "-release", "8.4.01"},
		{"preflight", "-nope"},
		{"supervise", "-key", "a//b", "--", "x"},
		{"launch", "-root", "r"},
		{"migrate", "-release", "8.4", "--", bin, "launch", "-root", "r"},
		{"frobnicate"},
	} {
		if err := checkArgv(bin, argv, map[string]int{}); err == nil {
			t.Errorf("%q accepted", argv)
		}
	}
}

var nomadVar = regexp.MustCompile(`\$\{(NOMAD_[A-Z_]+|node\.[a-z_.]+|attr\.[a-z_.]+)\}`)

// nomadInterpolate returns the task's argv after Nomad's interpolation of
// its runtime variables; any other ${...} left is an error (Nomad would
// pass it through unchanged, which no renderer meant).
func nomadInterpolate(t *testing.T, task *api.Task) []string {
	t.Helper()
	var out []string
	for _, a := range task.Config["args"].([]string) {
		a = nomadVar.ReplaceAllString(a, "/alloc/x")
		if strings.Contains(a, "${") {
			t.Errorf("task %s: argument %q keeps an interpolation Nomad does not resolve", task.Name, a)
		}
		out = append(out, a)
	}
	return out
}

// checkArgv parses argv (after the binary) with the subcommand's own flag
// set and runs its configuration check; a command after "--" that is
// kantree-nomad again is checked the same way.
func checkArgv(bin string, argv []string, checked map[string]int) error {
	if len(argv) == 0 {
		return fmt.Errorf("no subcommand")
	}
	sub, args := argv[0], argv[1:]
	checked[sub]++
	var inner []string
	switch sub {
	case "launch":
		cfg, err := parseLaunchFlags(args, io.Discard)
		if err != nil {
			return fmt.Errorf("launch flags: %w", err)
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		inner = cfg.Command
	case "preflight":
		cfg, _, _, err := parsePreflightFlags(args, io.Discard)
		if err != nil {
			return fmt.Errorf("preflight flags: %w", err)
		}
		return cfg.Validate()
	case "supervise":
		f, err := parseSuperviseFlags(args, io.Discard)
		if err != nil {
			return fmt.Errorf("supervise flags: %w", err)
		}
		if err := f.cfg.Validate(); err != nil {
			return err
		}
		inner = f.cfg.Command
	case "migrate":
		cfg, _, err := parseMigrateFlags(args, io.Discard)
		if err != nil {
			return fmt.Errorf("migrate flags: %w", err)
		}
		if err := cfg.Validate(); err != nil {
			return err
		}
		inner = cfg.Command
	default:
		return fmt.Errorf("unknown subcommand %q", sub)
	}
	if len(inner) > 0 && inner[0] == bin {
		return checkArgv(bin, inner[1:], checked)
	}
	return nil
}
