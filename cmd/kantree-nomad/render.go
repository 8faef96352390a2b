package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kantree-nomad/kantree-nomad/generator"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// runRender renders the deployment file. Without -o it prints the service
// job; with -o it writes every file of the bundle, all or none.
func runRender(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("render", "[-format hcl|json] [-o DIR] [-var name=value]... [-var-file FILE]... FILE", stderr)
	format := fs.String("format", "hcl", "job file format: hcl or json")
	out := fs.String("o", "", "write every file into `DIR` (created if missing); without it, print the service job")
	vars := addVarFlags(fs)
	file, code, ok := parseFlags(fs, args, stderr)
	if !ok {
		return code
	}
	if *format != "hcl" && *format != "json" {
		printError(stderr, usageError("render", fmt.Sprintf("unknown -format %q", *format)))
		return 2
	}
	dep, ok := loadDeployment(file, vars, stderr)
	if !ok {
		return 1
	}
	bundle, err := generator.Generate(dep)
	if err != nil {
		printError(stderr, rules.WithHint(fmt.Errorf("render %s: %w", file, err), "this is a bug if validate passes: please report it with the deployment file"))
		return 1
	}
	if *out == "" {
		err = printServiceJob(stdout, bundle, *format)
	} else {
		err = writeBundle(stdout, stderr, bundle, *format, *out)
	}
	if err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

// printServiceJob writes the service job alone to w.
func printServiceJob(w io.Writer, b *generator.Bundle, format string) error {
	encode := generator.EncodeHCL
	if format == "json" {
		encode = generator.EncodeJSON
	}
	data, err := encode(b.Service)
	if err != nil {
		return rules.WithHint(fmt.Errorf("encode service job: %w", err), "this is a bug: please report it with the deployment file")
	}
	_, err = w.Write(data)
	return err
}

// writeBundle renders every file and writes them under dir, all or none,
// then warns (on stderr) of files an earlier render left there.
func writeBundle(stdout, stderr io.Writer, b *generator.Bundle, format, dir string) error {
	files, err := b.Render(format)
	if err != nil {
		return rules.WithHint(fmt.Errorf("render files: %w", err), "this is a bug: please report it with the deployment file")
	}
	if err := writeAll(dir, files); err != nil {
		return rules.WithHint(err, "check that the output directory is writable; nothing was written")
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(dir, filepath.FromSlash(f.Path)))
	}
	for _, path := range staleFiles(dir, files) {
		fmt.Fprintf(stderr, "kantree-nomad: warning: %s was not written by this render (left by an earlier one?): remove it if it no longer applies\n", path)
	}
	return nil
}

// outputPatterns are the names render writes under its output directory.
var outputPatterns = []string{"*.nomad.hcl", "*.nomad.json", "lb/*", "acl/*.policy.hcl", "README.md"}

// staleFiles lists the files under dir that look like render's output but
// are not among files: what an earlier render with another format, job
// name or load balancer left behind. They are reported, never removed.
func staleFiles(dir string, files []generator.File) []string {
	written := make(map[string]bool, len(files))
	for _, f := range files {
		written[filepath.Join(dir, filepath.FromSlash(f.Path))] = true
	}
	var stale []string
	for _, pattern := range outputPatterns {
		matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
		for _, m := range matches {
			if info, err := os.Stat(m); err == nil && info.Mode().IsRegular() && !written[m] {
				stale = append(stale, m)
			}
		}
	}
	return stale
}

// staged is one file written to a temporary name, waiting to be renamed
// over dst; old is where the file dst held before is kept until the whole
// set is in place.
type staged struct{ tmp, dst, old string }

// writeAll writes files under dir all or none. Each is staged into a
// temporary file next to its destination; every destination is checked
// (absent or a regular file); then each is renamed into place, the file it
// replaces kept aside. If any step fails, the renamed files are put back,
// the kept files restored, and the temporary files and the directories
// this call created removed: the directory is as it was. Only a crash in
// the renaming phase can leave a mix, with the earlier files kept beside
// as .<name>.old-* files.
func writeAll(dir string, files []generator.File) (err error) {
	var made []string
	var stage []*staged
	defer func() {
		if err != nil {
			rollback(stage, made)
		}
	}()
	for _, f := range files {
		dst, err := outputPath(dir, f.Path)
		if err != nil {
			return err
		}
		if err := mkdirs(filepath.Dir(dst), &made); err != nil {
			return err
		}
		if err := checkReplaceable(dst); err != nil {
			return err
		}
		tmp, err := stageFile(dst, f.Data)
		if err != nil {
			return err
		}
		stage = append(stage, &staged{tmp: tmp, dst: dst})
	}
	for _, s := range stage {
		if err := s.commit(); err != nil {
			return err
		}
	}
	for _, s := range stage {
		if s.old != "" {
			os.Remove(s.old)
		}
	}
	return nil
}

// checkReplaceable refuses a destination that is not a regular file.
func checkReplaceable(dst string) error {
	info, err := os.Lstat(dst)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("write %s: %w", dst, err)
	case !info.Mode().IsRegular():
		return fmt.Errorf("write %s: a %s of that name is in the way", dst, kindOf(info))
	}
	return nil
}

func kindOf(info os.FileInfo) string {
	if info.IsDir() {
		return "directory"
	}
	return "non-regular file"
}

// commit keeps the current file aside (a hard link) and renames the staged
// file over it.
func (s *staged) commit() error {
	if _, err := os.Lstat(s.dst); err == nil {
		old := filepath.Join(filepath.Dir(s.dst), "."+filepath.Base(s.dst)+".old-"+filepath.Base(s.tmp))
		if err := os.Link(s.dst, old); err != nil {
			return fmt.Errorf("write %s: keep the current file: %w", s.dst, err)
		}
		s.old = old
	}
	err := os.Rename(s.tmp, s.dst)
	if renameHook != nil && err == nil {
		if err = renameHook(s.dst); err != nil {
			os.Rename(s.dst, s.tmp) // as if the rename had failed
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", s.dst, err)
	}
	s.tmp = ""
	return nil
}

// renameHook lets a test make a rename fail; nil in the program.
var renameHook func(dst string) error

// rollback undoes a failed writeAll: committed files are replaced by what
// they replaced (or removed), staged files and made directories removed.
func rollback(stage []*staged, made []string) {
	for i := len(stage) - 1; i >= 0; i-- {
		s := stage[i]
		switch {
		case s.tmp != "":
			os.Remove(s.tmp)
			if s.old != "" {
				os.Remove(s.old)
			}
		case s.old != "":
			os.Rename(s.old, s.dst)
		default:
			os.Remove(s.dst)
		}
	}
	for i := len(made) - 1; i >= 0; i-- {
		os.Remove(made[i])
	}
}

// outputPath joins a bundle path under dir, refusing paths that escape it.
func outputPath(dir, rel string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(rel))
	if !filepath.IsLocal(clean) {
		return "", fmt.Errorf("write %s: path leaves the output directory", rel)
	}
	return filepath.Join(dir, clean), nil
}

// mkdirs creates dir and its missing parents, recording each one it made.
func mkdirs(dir string, made *[]string) error {
	if info, err := os.Stat(dir); err == nil && info.IsDir() {
		return nil
	} else if err == nil {
		return fmt.Errorf("create %s: a file of that name is in the way", dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := mkdirs(filepath.Dir(dir), made); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	*made = append(*made, dir)
	return nil
}

// stageFile writes data to a new temporary file next to dst.
func stageFile(dst string, data []byte) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", dst, err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(f.Name(), 0o644)); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", dst, err)
	}
	return f.Name(), nil
}
