package main

import (
	"context"
	"errors"
	"io"
)

// runInit is not built yet.
func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	printError(stderr, errors.New("init: not implemented yet"))
	return 1
}
