package kantreestub

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Env is what a command runs with: its environment, working directory (the
// Kantree root) and output streams.
type Env struct {
	Getenv Getenv
	Dir    string
	Stdout io.Writer
	Stderr io.Writer
}

// Main runs the platform command line args (without the program name) in
// the process's environment and returns the exit status. SIGTERM and
// SIGINT stop a running command cleanly, unless
// KANTREE_STUB_IGNORE_SIGTERM=1 makes it ignore SIGTERM (to test a
// supervisor's kill grace).
func Main(args []string) int {
	stopSignals := []os.Signal{syscall.SIGTERM, syscall.SIGINT}
	if os.Getenv("KANTREE_STUB_IGNORE_SIGTERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
		stopSignals = stopSignals[1:]
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "platform: error: %v\n", err)
		return 1
	}
	return Run(ctx, args, Env{Getenv: os.Getenv, Dir: dir, Stdout: os.Stdout, Stderr: os.Stderr})
}

// Run runs one platform command until it ends or ctx is done.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		return usage(env.Stderr, "no command")
	}
	cfg, err := LoadConfig(env.Getenv, env.Dir)
	if err != nil {
		fmt.Fprintf(env.Stderr, "platform: error: %v\nplatform: hint: fix the file named by KANTREE_CONFIG (default ./config-prod.yml)\n", err)
		return 1
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, nil)).With("instance", cfg.InstanceID)
	cmd := command{cfg: cfg, env: env, log: log}
	switch args[0] {
	case "run":
		if len(args) < 2 {
			return usage(env.Stderr, "run needs a process name")
		}
		return cmd.runProcess(ctx, args[1], args[2:])
	case "upgrade_db":
		return cmd.exit(cmd.upgradeDB(ctx))
	case "init_node":
		return cmd.exit(cmd.initNode(ctx))
	case "admin_note", "admin_exit":
		return cmd.adminCommand(ctx, args)
	case "gen_config":
		if len(args) != 2 {
			return usage(env.Stderr, "gen_config needs one FILE")
		}
		return cmd.exit(cmd.genConfig(args[1]))
	}
	return usage(env.Stderr, "unknown command "+args[0])
}

// command is one invocation of the platform program.
type command struct {
	cfg Config
	env Env
	log *slog.Logger
}

// runProcess runs `run name`, once the root is known to be initialized
// (requireInit).
func (c command) runProcess(ctx context.Context, name string, args []string) int {
	switch name {
	case "web", "push", "realtime", "worker", "scheduler":
	default:
		return usage(c.env.Stderr, "unknown process "+name)
	}
	ni, err := c.requireInit(name)
	if err != nil {
		return c.exit(err)
	}
	c.recordStart(ctx, name, ni)
	switch name {
	case "web":
		return c.exit(c.serveWeb(ctx))
	case "push", "realtime":
		return c.exit(c.servePush(ctx, name))
	case "worker":
		return c.exit(c.runWorker(ctx, args))
	case "scheduler":
		return c.exit(c.runScheduler(ctx))
	}
	return usage(c.env.Stderr, "unknown process "+name)
}

// knob returns a test knob from the environment or the configuration file
// (Config.Knob).
func (c command) knob(name string) string { return c.cfg.Knob(c.env.Getenv, name) }

// exit prints err (if any) and returns the exit status.
func (c command) exit(err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(c.env.Stderr, "platform: error: %v\n", err)
	return 1
}

func usage(w io.Writer, why string) int {
	fmt.Fprintf(w, "platform: error: %s\nplatform: hint: usage: platform run web|push|realtime|worker [--queue NAME]...|scheduler, "+
		"platform upgrade_db, platform init_node, platform gen_config FILE\n", why)
	return 2
}
