package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// runChild is the supervised command: it writes "start T", "hb T" every
// 10 ms and, when asked to stop, "stop T" to DIR/<pid>.
func runChild(ctx context.Context, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(os.Stderr, "usage: lock child DIR")
		return 2
	}
	f, err := os.OpenFile(filepath.Join(args[0], strconv.Itoa(os.Getpid())), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer f.Close()
	fmt.Fprintf(f, "start %d\n", time.Now().UnixNano())
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(f, "stop %d\n", time.Now().UnixNano())
			return 0
		case <-t.C:
			fmt.Fprintf(f, "hb %d\n", time.Now().UnixNano())
		}
	}
}
