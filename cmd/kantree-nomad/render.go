package main

import (
	"context"
	"errors"
	"io"
)

// runRender is not built yet.
func runRender(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	printError(stderr, errors.New("render: not implemented yet"))
	return 1
}
