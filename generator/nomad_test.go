package generator

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNomadAcceptsJobs hands every rendered job, HCL and JSON, to Nomad's
// own `nomad job validate` (which parses the jobspec with Nomad's parser
// and validates locally when no agent answers). Nomad is not served by the
// package registries this project installs from, so the test runs only
// where a nomad binary is on PATH; elsewhere the HCL/JSON round trip and
// the golden files are the check.
func TestNomadAcceptsJobs(t *testing.T) {
	nomad, err := exec.LookPath("nomad")
	if err != nil {
		t.Skip("no nomad binary on PATH: Nomad's own validation of the rendered jobs is not run here")
	}
	for _, tc := range cases(t) {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, format := range []string{"hcl", "json"} {
				for _, f := range render(t, tc.d, format) {
					if !strings.HasSuffix(f.Path, ".nomad."+format) {
						continue
					}
					path := filepath.Join(dir, filepath.Base(f.Path))
					if err := os.WriteFile(path, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					args := []string{"job", "validate"}
					if format == "json" {
						args = append(args, "-json")
					}
					cmd := exec.Command(nomad, append(args, path)...)
					cmd.Env = append(os.Environ(), "NOMAD_ADDR=http://127.0.0.1:1") // nothing listens: local validation
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Errorf("nomad job validate %s: %v\n%s", f.Path, err, out)
					}
				}
			}
		})
	}
}
