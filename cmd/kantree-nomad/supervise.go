package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
	"github.com/kantree-nomad/kantree-nomad/runtime/supervise"
)

// defaultCheckService is the service that carries the check when
// -check-service is not given; render passes <job>-scheduler-lock.
const defaultCheckService = "kantree-scheduler-lock"

// superviseFlags are the flags of `kantree-nomad supervise`.
type superviseFlags struct {
	cfg       supervise.Config
	logFormat string
	watchdog  bool
}

func parseSuperviseFlags(args []string, stderr io.Writer) (*superviseFlags, error) {
	f := &superviseFlags{}
	fs := flag.NewFlagSet("supervise", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: kantree-nomad supervise -key KEY [flags] -- COMMAND [ARGS...]\n\n"+
			"Runs COMMAND, and its whole process tree, only while holding a Consul lock on KEY.\n"+
			"Consul address, TLS and token come from the environment, as for the consul CLI:\n"+
			"CONSUL_HTTP_ADDR (host:port, https://host:port, unix:///path), CONSUL_HTTP_SSL, CONSUL_CACERT,\n"+
			"CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE... COMMAND gets\n"+
			"none of the Consul credentials.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.cfg.Key, "key", "", "Consul KV key used as the lock (required)")
	fs.DurationVar(&f.cfg.TTL, "ttl", rules.DefaultLockTTL, "Consul session TTL")
	fs.DurationVar(&f.cfg.LockDelay, "lock-delay", rules.DefaultLockDelay, "Consul session lock-delay")
	fs.DurationVar(&f.cfg.KillGrace, "kill-grace", rules.DefaultKillGrace, "time between SIGTERM and SIGKILL when stopping the command")
	fs.DurationVar(&f.cfg.CheckTTL, "check-ttl", rules.DefaultCheckTTL, "TTL of the agent check the session is bound to")
	fs.StringVar(&f.cfg.CheckID, "check-id", "", "ID of that check and of the agent service carrying it (default kantree-lock-$NOMAD_ALLOC_ID, or random)")
	fs.StringVar(&f.cfg.CheckService, "check-service", defaultCheckService, "name of the agent service carrying that check; the Consul token needs service write on it")
	fs.DurationVar(&f.cfg.StartTimeout, "start-timeout", supervise.DefaultStartTimeout, "how long to wait for Consul at start before failing (later outages are ridden out)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&f.watchdog, "watchdog", false, "(internal) run as the fence watchdog that supervise starts between itself and COMMAND")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	f.cfg.Command = fs.Args()
	return f, nil
}

// runSupervise runs `kantree-nomad supervise`.
func runSupervise(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseSuperviseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	log, err := newSuperviseLogger(f.logFormat, stderr)
	if err != nil {
		printError(stderr, err)
		return 2
	}
	if f.watchdog {
		return supervise.RunWatchdog(ctx, supervise.WatchdogConfig{
			Command: f.cfg.Command, KillGrace: f.cfg.KillGrace, Stdout: stdout, Stderr: stderr,
			Logger: log, Clock: supervise.SystemClock{},
		})
	}
	if err := completeSuperviseConfig(&f.cfg, f.logFormat, stdout, stderr, log); err != nil {
		printError(stderr, err)
		return 2
	}
	s, err := supervise.New(f.cfg)
	if err != nil {
		printError(stderr, err)
		return 2
	}
	code, err := s.Run(ctx)
	if err != nil {
		printError(stderr, err)
	}
	return code
}

// completeSuperviseConfig fills what flags do not give: Consul client,
// environment, watchdog command line, check ID.
func completeSuperviseConfig(cfg *supervise.Config, logFormat string, stdout, stderr io.Writer, log *slog.Logger) error {
	conf := api.DefaultConfig()
	client, err := api.NewClient(conf)
	if err != nil {
		return rules.WithHint(fmt.Errorf("supervise: consul client: %w", err),
			"Check CONSUL_HTTP_ADDR and the TLS variables (CONSUL_CACERT, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY).")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("supervise: find own executable for the watchdog: %w", err)
	}
	if cfg.CheckID == "" {
		cfg.CheckID = defaultCheckID()
	}
	cfg.Consul, cfg.Logger, cfg.Clock = client, log, supervise.SystemClock{}
	cfg.ConsulAddr = consulAddr(conf)
	cfg.Env, cfg.Stdout, cfg.Stderr = os.Environ(), stdout, stderr
	cfg.Watchdog = []string{exe, "supervise", "-watchdog", "-kill-grace", cfg.KillGrace.String(), "-log-format", logFormat}
	return nil
}

// consulAddr prints where conf reaches Consul, with its scheme.
func consulAddr(conf *api.Config) string {
	if strings.HasPrefix(conf.Address, "unix://") {
		return conf.Address
	}
	scheme := conf.Scheme
	if scheme == "" {
		scheme = "http"
	}
	return scheme + "://" + conf.Address
}

// defaultCheckID is unique per supervisor: the Nomad allocation, else random.
func defaultCheckID() string {
	if id := os.Getenv("NOMAD_ALLOC_ID"); id != "" {
		return "kantree-lock-" + id
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "kantree-lock-" + hex.EncodeToString(b)
}

func newSuperviseLogger(format string, w io.Writer) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, rules.WithHint(fmt.Errorf("supervise: unknown -log-format %q", format), "Use -log-format text or -log-format json.")
}
