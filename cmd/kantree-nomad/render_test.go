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
		want    []string // the tree under dir afterwards
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			err := writeAll(dir, tc.files)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("writeAll error %v, want %q", err, tc.wantErr)
			}
			if got := listTree(t, dir); strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("tree %v, want %v", got, tc.want)
			}
		})
	}
}
