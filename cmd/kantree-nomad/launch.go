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
	fs := newFlagSet("launch", "-root DIR [-init CMD] -- COMMAND [ARGS...]", stderr)
	root := fs.String("root", ".", "the Kantree root: the command runs there")
	initCmd := fs.String("init", "./platform init_node", "run once per root before the command (split on spaces); empty for none")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	cfg := launch.Config{Root: *root, Init: strings.Fields(*initCmd), Command: fs.Args(), Stdout: stdout, Stderr: stderr}
	path, err := launch.Prepare(ctx, cfg)
	if err == nil {
		err = launch.Exec(path, cfg.Command)
	}
	printError(stderr, err)
	return 1
}
