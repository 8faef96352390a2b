package main

import (
	"context"
	"io"
	"strings"

	"github.com/kantree-nomad/kantree-nomad/runtime/launch"
)

// runLaunch runs ./platform init_node once in the Kantree root, then
// replaces itself with the command after "--".
func runLaunch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseLaunchFlags(args, stderr)
	if err != nil {
		return flagExit(err)
	}
	cfg.Stdout, cfg.Stderr = stdout, stderr
	path, err := launch.Prepare(ctx, cfg)
	if err == nil {
		err = launch.Exec(path, cfg.Command)
	}
	printError(stderr, err)
	return 1
}

// parseLaunchFlags reads launch's command line into a Config (without the
// outputs). A mistake is printed on stderr by the FlagSet.
func parseLaunchFlags(args []string, stderr io.Writer) (launch.Config, error) {
	fs := newFlagSet("launch", "-root DIR [-init CMD] -- COMMAND [ARGS...]", stderr)
	root := fs.String("root", ".", "the Kantree root: the command runs there")
	initCmd := fs.String("init", "./platform init_node", "run once per root before the command (split on spaces); empty for none")
	if err := fs.Parse(args); err != nil {
		return launch.Config{}, parseError(err)
	}
	return launch.Config{Root: *root, Init: strings.Fields(*initCmd), Command: fs.Args()}, nil
}
