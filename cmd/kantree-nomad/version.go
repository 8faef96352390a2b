package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3".
var version = "dev"

// runVersion prints the version, the Go version and the platform.
func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", stderr)
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() != 0 {
		printError(stderr, usageError("version", "takes no arguments"))
		return 2
	}
	fmt.Fprintf(stdout, "kantree-nomad %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return 0
}
