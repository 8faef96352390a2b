package main

import (
	"context"
	"errors"
	"io"
)

// runMigrate is not built yet.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	printError(stderr, errors.New("migrate: not implemented yet"))
	return 1
}
