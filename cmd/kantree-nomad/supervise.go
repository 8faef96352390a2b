package main

import (
	"context"
	"errors"
	"io"
)

// runSupervise is not built yet.
func runSupervise(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	printError(stderr, errors.New("supervise: not implemented yet"))
	return 1
}
