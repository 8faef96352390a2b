package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kantree-nomad/kantree-nomad/generator"
)

func listTree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func TestWriteAllAllOrNothing(t *testing.T) {
	tests := []struct {
		name    string
		files   []generator.File
		prepare func(t *testing.T, dir string)
		wantErr string
		want    []string          // the tree under dir afterwards
		wantOld map[string]string // files that must keep their old content
		midway  bool              // fail the last rename (the file under z/)
	}{
		{
			name:  "writes every file and its directories",
			files: []generator.File{{Path: "a.hcl", Data: []byte("a")}, {Path: "lb/b/c.conf", Data: []byte("c")}},
			want:  []string{".", "a.hcl", "lb", "lb/b", "lb/b/c.conf"},
		},
		{
			name:    "a path leaving the directory writes nothing",
			files:   []generator.File{{Path: "a.hcl", Data: []byte("a")}, {Path: "../escape", Data: []byte("x")}},
			wantErr: "leaves the output directory",
			want:    []string{"."},
		},
		{
			name:  "a directory that cannot be made removes staged files and made directories",
			files: []generator.File{{Path: "a.hcl", Data: []byte("a")}, {Path: "new/x", Data: []byte("x")}, {Path: "lb/x", Data: []byte("x")}},
			prepare: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "lb"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "create",
			want:    []string{".", "lb"},
		},
		{
			name:  "a directory where a file must go writes nothing and keeps the old files",
			files: []generator.File{{Path: "README.md", Data: []byte("new")}, {Path: "acl/p.hcl", Data: []byte("new")}, {Path: "lb/nginx.conf.ctmpl", Data: []byte("x")}},
			prepare: func(t *testing.T, dir string) {
				if err := os.MkdirAll(filepath.Join(dir, "lb", "nginx.conf.ctmpl"), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantErr: "directory of that name is in the way",
			want:    []string{".", "README.md", "lb", "lb/nginx.conf.ctmpl"},
			wantOld: map[string]string{"README.md": "old"},
		},
		{
			name:  "a rename that fails midway puts back what it replaced",
			files: []generator.File{{Path: "README.md", Data: []byte("new")}, {Path: "z/f", Data: []byte("new")}},
			prepare: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("old"), 0o644); err != nil {
					t.Fatal(err)
				}
				// z is made read-only after staging by the hook below.
			},
			midway:  true,
			wantErr: "write",
			want:    []string{".", "README.md"},
			wantOld: map[string]string{"README.md": "old"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			if tc.midway {
				renameHook = func(dst string) error {
					if filepath.Base(filepath.Dir(dst)) == "z" {
						return os.ErrPermission
					}
					return nil
				}
				t.Cleanup(func() { renameHook = nil })
			}
			err := writeAll(dir, tc.files)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("writeAll error %v, want %q", err, tc.wantErr)
			}
			if got := listTree(t, dir); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("tree %v, want %v", got, tc.want)
			}
			for name, want := range tc.wantOld {
				if got, _ := os.ReadFile(filepath.Join(dir, name)); string(got) != want {
					t.Errorf("%s = %q, want the old %q", name, got, want)
				}
			}
		})
	}
}
