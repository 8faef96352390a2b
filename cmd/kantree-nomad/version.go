package main

import (
	"context"
	"errors"
	"io"
)

// runVersion is not built yet.
func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	printError(stderr, errors.New("version: not implemented yet"))
	return 1
}
