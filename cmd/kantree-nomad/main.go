// Command kantree-nomad renders Nomad jobs for a Kantree deployment and, inside
// those jobs, runs as the scheduler lock supervisor, the preflight check and
// the once-only database migration.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// command is one subcommand. It parses its own flags from args and returns
// the process exit code.
type command struct {
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	summary string
}

var commands = map[string]command{
	"init":        {runInit, "write a commented kantree.hcl to start from"},
	"validate":    {runValidate, "check a deployment file without writing anything"},
	"render":      {runRender, "write the Nomad jobs, load-balancer config and ACL policies"},
	"plan":        {runPlan, "show what deploy would change in Nomad (exit 0 none, 1 changes, 255 error)"},
	"deploy":      {runDeploy, "run a release: the migration once, then the service job, watched to the end"},
	"status":      {runStatus, "show groups, scheduler lock, load balancer view, release and drift (exit 0 ok, 1 unreadable, 3 act, 4 drift)"},
	"rollback":    {runRollback, "return the service job to its previous stable version"},
	"version":     {runVersion, "print the version"},
	"logs":        {runLogs, "print (or follow) the logs of every allocation of a process, merged"},
	"run":         {runRun, "run a one-off Kantree command (./platform ...) as a Nomad batch job in the release's environment"},
	"rotate":      {runRotate, "restart every instance, health-gated, with the secrets as they are now"},
	"maintenance": {runMaintenance, "switch the load balancers to the maintenance page (on) or back (off)"},
	"preflight":   {runPreflight, "(in tasks) wait until PostgreSQL and Redis are usable"},
	"migrate":     {runMigrate, "(in the upgrade-db job) run the database upgrade once per release"},
	"supervise":   {runSupervise, "(in the scheduler task) run a command only while holding a Consul lock"},
	"launch":      {runLaunch, "(in tasks) run ./platform init_node once in the Kantree root, then become the command"},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "kantree-nomad: error: unknown command %q\n", args[0])
		fmt.Fprintf(stderr, "kantree-nomad: hint: run 'kantree-nomad -help' for the list of commands\n")
		return 2
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: kantree-nomad <command> [flags] [args]\n\nCommands:\n")
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-10s %s\n", name, commands[name].summary)
	}
	fmt.Fprintf(w, "\nRun 'kantree-nomad <command> -help' for a command's flags.\n")
}

// printError prints err as "kantree-nomad: error: ..." and, when the error
// (or one it wraps) carries a hint (rules.Hint), "kantree-nomad: hint: ...".
// It is the one place the CLI prints an error.
func printError(w io.Writer, err error) {
	fmt.Fprintf(w, "kantree-nomad: error: %v\n", err)
	if hint := rules.Hint(err); hint != "" {
		fmt.Fprintf(w, "kantree-nomad: hint: %s\n", hint)
	}
}
