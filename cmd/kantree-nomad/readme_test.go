package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// readme returns README.md's lines.
func readme(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(data), "\n")
}

// row returns the README table row that starts with prefix.
func row(t *testing.T, lines []string, prefix string) string {
	t.Helper()
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("README.md has no row starting with %q", prefix)
	return ""
}

// flagInRow finds "-name value" pairs in a README row.
var flagInRow = regexp.MustCompile(`\[-([a-z-]+) ([^\]\s|]+)\]`)

// TestREADMEFlagDefaults: every "[-flag value]" a row of the commands
// table shows is the flag's default in the command's own -help.
func TestREADMEFlagDefaults(t *testing.T) {
	lines := readme(t)
	checked := 0
	for _, name := range []string{"supervise", "preflight", "migrate", "launch"} {
		r := row(t, lines, "| `"+name)
		var stderr bytes.Buffer
		run(context.Background(), []string{name, "-h"}, &bytes.Buffer{}, &stderr)
		help := stderr.String()
		for _, m := range flagInRow.FindAllStringSubmatch(r, -1) {
			flag, value := m[1], m[2]
			if strings.ToUpper(value) == value && !strings.ContainsAny(value, "0123456789") {
				continue // a placeholder such as V or K, not a default
			}
			if got, ok := helpDefault(help, flag); !ok || !sameValue(got, value) {
				t.Errorf("README: %s -%s %s, but %s -h says the default is %q (found %v)", name, flag, value, name, got, ok)
			}
			checked++
		}
	}
	if checked < 6 {
		t.Errorf("only %d flag defaults found in the README's commands table", checked)
	}
}

// TestREADMEDeploymentDefaults: the defaults the README's deployment-file
// table states are the ones jobspec resolves.
func TestREADMEDeploymentDefaults(t *testing.T) {
	src := "kantree {\n  version = \"8.4.1\"\n  server_name = \"k.example.com\"\n  archive { url = \"https://x/k.tgz\" }\n}\n"
	dep, _, diags := jobspec.Parse("kantree.hcl", []byte(src), jobspec.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	l := dep.Lock
	lines := readme(t)
	checks := []struct {
		prefix string
		want   []string
	}{
		{"| `job`", []string{"`\"" + dep.Job + "\"`"}},
		{"| `nomad_version`", []string{"`\"" + rules.NewestNomad + "\"`", rules.OldestNomad}},
		{"| `kantree { root }`", []string{"`" + dep.Kantree.Root + "`", "`" + jobspec.DefaultDockerRoot + "`"}},
		{"| `scheduler_lock {", []string{"`kantree/<job>/scheduler`", strings.Join([]string{l.TTL.String(), l.LockDelay.String(), l.KillGrace.String(), l.CheckTTL.String(), "0"}, ", ")}},
		{"| `consul {", []string{"`" + dep.Consul.Address + "`", jobspec.DockerConsulAddr}},
		{"| `kantree_nomad {", []string{"`" + dep.Binary.Path + "`"}},
		{"| `secrets {", []string{"`" + dep.Secrets.Provider + "`", "`nomad/jobs/<job>`"}},
		{"| `backup {", []string{"`" + dep.Backup.Volume + "`", "`" + jobspec.DefaultBackupHostPath + "`", fmt.Sprintf(", %d, %s |", dep.Backup.Keep, formatHours(dep.Backup.Timeout))}},
	}
	for _, c := range checks {
		r := row(t, lines, c.prefix)
		for _, w := range c.want {
			if !strings.Contains(r, w) {
				t.Errorf("README row %q lacks the default %s:\n%s", c.prefix, w, r)
			}
		}
	}
}

// helpDefault is the "(default X)" that flag's -help entry shows.
func helpDefault(help, flag string) (string, bool) {
	entry := regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(flag) + `\b[^\n]*\n((?:\s{4,}[^\n]*\n)*)`).FindStringSubmatch(help)
	if entry == nil {
		return "", false
	}
	m := regexp.MustCompile(`\(default "?([^")]*)"?\)`).FindStringSubmatch(entry[0])
	if m == nil {
		return "", false
	}
	return m[1], true
}

// sameValue compares two defaults, durations as durations ("2m" is "2m0s").
func sameValue(a, b string) bool {
	da, errA := time.ParseDuration(a)
	db, errB := time.ParseDuration(b)
	if errA == nil && errB == nil {
		return da == db
	}
	return a == b
}

// formatHours prints a whole number of hours as the README does ("1h").
func formatHours(d time.Duration) string {
	return fmt.Sprintf("%dh", int(d.Hours()))
}
