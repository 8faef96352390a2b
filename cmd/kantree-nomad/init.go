package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/kantree-nomad/kantree-nomad/jobspec"
	"github.com/kantree-nomad/kantree-nomad/rules"
)

// runInit writes a commented, valid deployment file (kantree.hcl by
// default). It refuses to replace an existing file unless -force is given.
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("init", "[-force] [FILE]", stderr)
	force := fs.Bool("force", false, "replace FILE if it exists")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	file := "kantree.hcl"
	switch fs.NArg() {
	case 0:
	case 1:
		file = fs.Arg(0)
	default:
		printError(stderr, usageError("init", "takes at most one file name"))
		return 2
	}
	if err := writeStarter(file, jobspec.InitTemplate, *force); err != nil {
		printError(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s; next: kantree-nomad validate %s\n", file, file)
	return 0
}

// writeStarter writes data to file through a temporary file in the same
// directory. Without force it links the temporary file into place, which
// fails if file exists, so an existing file is never clobbered.
func writeStarter(file string, data []byte, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".kantree-init-*")
	if err != nil {
		return rules.WithHint(fmt.Errorf("init %s: %w", file, err), "check that the directory exists and is writable")
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return rules.WithHint(fmt.Errorf("init %s: write: %w", file, err), "check free space in the directory")
	}
	if err := tmp.Close(); err != nil {
		return rules.WithHint(fmt.Errorf("init %s: write: %w", file, err), "check free space in the directory")
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return rules.WithHint(fmt.Errorf("init %s: %w", file, err), "check the directory's permissions")
	}
	if force {
		err = os.Rename(tmp.Name(), file)
	} else {
		err = os.Link(tmp.Name(), file)
	}
	if errors.Is(err, os.ErrExist) {
		return rules.WithHint(fmt.Errorf("init: %s already exists", file), "use -force to replace it, or give another file name")
	}
	if err != nil {
		return rules.WithHint(fmt.Errorf("init %s: %w", file, err), "check the directory's permissions")
	}
	return nil
}
