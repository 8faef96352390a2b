package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the bench's flags.
type options struct {
	handoffs    int
	crashes     int
	consulCrash int
	consul      string
	keep        bool
	kn          string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "child" {
		return runChild(ctx, args[1:])
	}
	var o options
	fs := flag.NewFlagSet("lock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.handoffs, "handoffs", 20, "graceful handoffs per supervisor")
	fs.IntVar(&o.crashes, "crashes", 5, "crash failovers for kantree-nomad supervise")
	fs.IntVar(&o.consulCrash, "consul-lock-crashes", 3, "crash failovers for consul lock (about 40 s each)")
	fs.StringVar(&o.consul, "consul", "", "consul binary (default .tools/bin/consul, else $PATH)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory")
	fs.StringVar(&o.kn, "kantree-nomad", "", "kantree-nomad binary (default: go build ./cmd/kantree-nomad)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := bench(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "bench-lock: error: %v\n", err)
		return 1
	}
	return 0
}

func bench(ctx context.Context, o options, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "bench-lock-")
	if err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	consulBin, err := findConsul(o.consul)
	if err != nil {
		return err
	}
	kn := o.kn
	if kn == "" {
		kn = filepath.Join(dir, "kantree-nomad")
		// Measure the binary as `make build` ships it: static, stripped.
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", kn, "./cmd/kantree-nomad")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/kantree-nomad (run from the repository root): %w\n%s", err, out)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	agent, err := startConsul(ctx, consulBin, dir)
	if err != nil {
		return err
	}
	defer agent.stop()
	fmt.Fprintf(stderr, "consul %s at %s; work dir %s\n", consulBin, agent.addr, dir)

	tools := []*tool{knTool(kn, agent.addr, self), consulLockTool(consulBin, agent.addr, self)}
	tools[0].crashRuns, tools[1].crashRuns = o.crashes, o.consulCrash
	if err := measure(ctx, tools, dir, o.handoffs, stderr); err != nil {
		return err
	}
	report(stdout, tools[0], tools[1])
	return nil
}

// findConsul returns the consul binary to use.
func findConsul(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if p, err := filepath.Abs(".tools/bin/consul"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("consul")
	if err != nil {
		return "", fmt.Errorf("no consul binary: run `make tools` or pass -consul")
	}
	return p, nil
}

// waitFor polls cond every 5 ms until it is true or d passes.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}
