package main

import (
	"context"
	"errors"
	"io"
)

// runPreflight is not built yet.
func runPreflight(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	printError(stderr, errors.New("preflight: not implemented yet"))
	return 1
}
