package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// runValidate checks a deployment file and writes nothing: exit 0 when it is
// valid, diagnostics and exit 1 otherwise.
func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", "[-var name=value]... [-var-file FILE]... FILE", stderr)
	vars := addVarFlags(fs)
	file, code, ok := parseFlags(fs, args, stderr)
	if !ok {
		return code
	}
	dep, ok := loadDeployment(file, vars, stderr)
	if !ok {
		return 1
	}
	fmt.Fprintf(stdout, "%s: valid for Nomad %s\n", file, dep.Nomad.Version)
	return 0
}

// usageError is a command-line mistake of cmd; its hint points at -help.
func usageError(cmd, msg string) error {
	return rules.WithHint(fmt.Errorf("%s: %s", cmd, msg), fmt.Sprintf("run 'kantree-nomad %s -help' for its usage", cmd))
}

// newFlagSet is a subcommand's flag set; errors are reported by parseFlags.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kantree-nomad %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and returns the single FILE argument. When ok is
// false, the command must return code.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (file string, code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		return "", flagExit(err), false
	}
	if fs.NArg() != 1 {
		printError(stderr, usageError(fs.Name(), fmt.Sprintf("expected one deployment file, got %d arguments", fs.NArg())))
		return "", 2, false
	}
	return fs.Arg(0), 0, true
}

// flagExit is the exit code after a flag parsing error: 0 for -help, 2
// for a usage mistake (the flag package has printed it).
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// varFlags are the variable options shared by validate and render.
type varFlags struct {
	vars, files repeated
}

func addVarFlags(fs *flag.FlagSet) *varFlags {
	v := &varFlags{}
	fs.Var(&v.vars, "var", "set a variable: name=value (repeatable; wins over -var-file and the environment)")
	fs.Var(&v.files, "var-file", "read variables from an HCL file of name = value lines (repeatable; a later file wins)")
	return v
}

// loadDeployment loads file with the variables, prints any diagnostics and
// reports whether the deployment is valid.
func loadDeployment(file string, v *varFlags, stderr io.Writer) (*jobspec.Deployment, bool) {
	opts := jobspec.LoadOptions{Vars: v.vars, VarFiles: v.files, Environ: os.Environ()}
	dep, files, diags := jobspec.Load(file, opts)
	printDiagnostics(stderr, file, files, diags)
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		fmt.Fprintf(stderr, "kantree-nomad: %s: %d error(s)\n", file, n)
		return nil, false
	}
	return dep, true
}

// printDiagnostics prints each diagnostic as hcl formats it in one line
// (file:line,col-col: Summary; Detail), followed by the source line with the
// offending range underlined. Source lines are shown from the deployment
// file only: var files and -var values may hold secrets.
func printDiagnostics(w io.Writer, deployment string, files map[string]*hcl.File, diags hcl.Diagnostics) {
	for _, d := range diags {
		summary := d.Summary
		if d.Severity == hcl.DiagWarning {
			summary = "Warning: " + summary
		}
		if d.Subject == nil {
			fmt.Fprintf(w, "kantree-nomad: %s; %s\n", summary, d.Detail)
			continue
		}
		fmt.Fprintf(w, "%s: %s; %s\n", d.Subject, summary, d.Detail)
		if d.Subject.Filename == deployment {
			printSource(w, files[deployment], *d.Subject)
		}
	}
}

// printSource prints the first line of rng with a caret underline.
func printSource(w io.Writer, f *hcl.File, rng hcl.Range) {
	if f == nil || rng.Start.Line < 1 {
		return
	}
	lines := strings.Split(string(f.Bytes), "\n")
	if rng.Start.Line > len(lines) {
		return
	}
	src := strings.ReplaceAll(lines[rng.Start.Line-1], "\t", " ")
	prefix := fmt.Sprintf("  %d: ", rng.Start.Line)
	fmt.Fprintf(w, "%s%s\n", prefix, src)
	start, end := rng.Start.Column, rng.End.Column
	if rng.End.Line != rng.Start.Line || end > len([]rune(src))+1 {
		end = len([]rune(src)) + 1
	}
	if end <= start {
		end = start + 1
	}
	fmt.Fprintf(w, "%s%s\n", strings.Repeat(" ", len(prefix)+start-1), strings.Repeat("^", end-start))
}
