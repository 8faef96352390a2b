package main

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// runMaintenance switches the load balancers to the maintenance page
// (on) or back (off). Exit 0 once Consul holds the new mode, 1 on error,
// 2 on a usage mistake.
func runMaintenance(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("maintenance", "on|off [connection flags] [-allow NET,...] [-var name=value]... [-var-file FILE]... FILE", stderr)
	allow := fs.String("allow", "", "with on: client networks (CIDR or address, comma-separated) that still reach Kantree")
	if len(args) == 0 || (args[0] != "on" && args[0] != "off") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			fs.Usage()
			return 0
		}
		printError(stderr, usageError("maintenance", "the first argument must be on or off"))
		return 2
	}
	on := args[0] == "on"
	rel, cluster, code, ok := openRelease(fs, args[1:], stdout, stderr)
	if !ok {
		return code
	}
	if !on && *allow != "" {
		printError(stderr, usageError("maintenance", fmt.Sprintf("-allow %q only goes with on", *allow)))
		return 2
	}
	var nets []string
	if *allow != "" {
		nets = strings.Split(*allow, ",")
	}
	if err := cluster.SetMaintenance(ctx, rel, on, nets); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}
