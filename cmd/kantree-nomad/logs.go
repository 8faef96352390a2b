package main

import (
	"context"
	"io"
	"strings"

	"github.com/kantree-nomad/kantree-nomad/operator"
)

// runLogs prints the logs of every allocation of a process, merged, each
// line prefixed with the allocation and node; -f follows, and Ctrl-C ends
// it cleanly (exit 0). Exit 1 on error, 2 on a usage mistake.
func runLogs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("logs", "[connection flags] [-f] [-stderr] [-since D] [-n N] [-var name=value]... FILE PROCESS", stderr)
	var o operator.LogOptions
	fs.BoolVar(&o.Follow, "f", false, "follow: stream on, and pick up allocations that start later")
	fs.BoolVar(&o.Stderr, "stderr", false, "print the tasks' stderr instead of stdout")
	fs.DurationVar(&o.Since, "since", 0, "only allocations running, or ended less than this long ago")
	fs.IntVar(&o.Lines, "n", 0, "only the last N lines of each allocation (0: all Nomad keeps)")
	flags, pos := splitArgs(args, map[string]bool{"f": true, "stderr": true, "tls-skip-verify": true, "h": true, "help": true})
	if len(pos) != 2 {
		printError(stderr, usageError("logs", "expected FILE PROCESS (a process of the file, upgrade-db, or lb)"))
		return 2
	}
	rel, cluster, code, ok := openRelease(fs, append(flags, pos[0]), stdout, stderr)
	if !ok {
		return code
	}
	if err := cluster.Logs(ctx, rel, pos[1], o); err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}

// splitArgs separates flags (with their values) from positional
// arguments, so that flags may also follow the positional ones as in
// `logs FILE web -f`. A flag takes the next argument as its value unless
// it is boolean or written -name=value; "--" ends the flags.
func splitArgs(args []string, boolean map[string]bool) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return flags, append(pos, args[i+1:]...)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !boolean[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			pos = append(pos, a)
		}
	}
	return flags, pos
}
