package jobspec

import (
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

func TestBackupBlock(t *testing.T) {
	tests := []struct {
		name        string
		src         string // appended to minimal (lines 1-6)
		want        Backup // Range not compared
		warning     string // the summary of the one warning expected
		warningLine int
	}{
		{name: "absent: on, pg_dump into the default volume", want: Backup{Enabled: true, Volume: DefaultBackupVolume,
			Keep: rules.BackupKeep, Timeout: rules.BackupTimeout}},
		{name: "settings", src: "backup {\n  volume = \"pg-dumps\"\n  keep = 2\n  timeout = \"10m\"\n}\n",
			want: Backup{Enabled: true, Volume: "pg-dumps", Keep: 2, Timeout: 10 * time.Minute}},
		{name: "command writing to the volume", src: "backup {\n  volume = \"v\"\n  command = [\"/usr/local/bin/dump\", \"--fast\"]\n}\n",
			want: Backup{Enabled: true, Volume: "v", Command: []string{"/usr/local/bin/dump", "--fast"}, Keep: rules.BackupKeep, Timeout: rules.BackupTimeout}},
		{name: "command elsewhere is not verified", src: "backup {\n  command = [\"wal-g\", \"backup-push\"]\n}\n",
			want:    Backup{Enabled: true, Command: []string{"wal-g", "backup-push"}, Keep: rules.BackupKeep, Timeout: rules.BackupTimeout},
			warning: "Backup not verified by kantree-nomad", warningLine: 8},
		{name: "off", src: "backup {\n  enabled = false\n}\n",
			want:    Backup{Volume: DefaultBackupVolume, Keep: rules.BackupKeep, Timeout: rules.BackupTimeout},
			warning: "Migrations run without a backup", warningLine: 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dep, _, diags := Parse("kantree.hcl", []byte(minimal+tc.src), LoadOptions{})
			if diags.HasErrors() {
				t.Fatal(diagText(diags))
			}
			got := dep.Backup
			got.Range = hcl.Range{}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			if tc.warning == "" {
				if len(diags) != 0 {
					t.Fatalf("unexpected diagnostics:\n%s", diagText(diags))
				}
				return
			}
			d := findDiag(t, diags, tc.warning)
			if d.Severity != hcl.DiagWarning || d.Subject.Start.Line != tc.warningLine {
				t.Fatalf("diagnostic %s at line %d, want a warning at line %d", d.Error(), d.Subject.Start.Line, tc.warningLine)
			}
		})
	}
}

func TestBackupBlockErrors(t *testing.T) {
	tests := []struct{ name, src, summary string }{
		{name: "keep 0", src: "backup {\n  keep = 0\n}\n", summary: "Value out of range"},
		{name: "empty command", src: "backup {\n  command = []\n}\n", summary: "Empty list"},
		{name: "bad volume", src: "backup {\n  volume = \"a b\"\n}\n", summary: "Invalid host volume name"},
		{name: "zero timeout", src: "backup {\n  timeout = \"0s\"\n}\n", summary: "Invalid duration"},
		{name: "unknown attribute", src: "backup {\n  dir = \"/x\"\n}\n", summary: "Unsupported argument"},
		{name: "path under exec", src: "backup {\n  path = \"/x\"\n}\n", summary: "Backup path not used by this driver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, diags := Parse("kantree.hcl", []byte(minimal+tc.src), LoadOptions{})
			if !diags.HasErrors() {
				t.Fatal("accepted")
			}
			if d := findDiag(t, diags, tc.summary); d.Subject.Start.Line != 8 {
				t.Fatalf("%s at line %d, want 8", d.Error(), d.Subject.Start.Line)
			}
		})
	}
}

// rawExec is minimal with the raw_exec driver (lines 1-9).
const rawExec = `
kantree {
  version     = "8.4.1"
  server_name = "kantree.example.com"
  archive {
    url = "https://example.com/kantree.tgz"
    driver = "raw_exec"
  }
}
`

// raw_exec cannot mount a volume: the task writes to the volume's host
// path, DefaultBackupHostPath unless path says otherwise.
func TestBackupPathUnderRawExec(t *testing.T) {
	if got := mustParse(t, rawExec, LoadOptions{}).Backup; got.HostPath != DefaultBackupHostPath || got.Volume != DefaultBackupVolume {
		t.Fatalf("default under raw_exec: %+v", got)
	}
	got := mustParse(t, rawExec+"backup {\n  path = \"/srv/backups\"\n}\n", LoadOptions{}).Backup
	if got.HostPath != "/srv/backups" {
		t.Fatalf("path: %+v", got)
	}
	_, _, diags := Parse("kantree.hcl", []byte(rawExec+"backup {\n  path = \"srv/$x\"\n}\n"), LoadOptions{})
	if d := findDiag(t, diags, "Invalid backup path"); d.Subject.Start.Line != 11 {
		t.Fatalf("%s, want line 11", d.Error())
	}
}
