package kantreestub

import (
	"context"
	"fmt"
	"strconv"
)

// adminCommand stands in for Kantree's admin commands (./platform
// <command>), to test `kantree-nomad run`: `admin_note TEXT` writes TEXT
// to the database with DATABASE_URL and prints it; `admin_exit N` prints a
// line on stdout and one on stderr and exits N.
func (c command) adminCommand(ctx context.Context, args []string) int {
	switch {
	case len(args) == 2 && args[0] == "admin_note":
		conn, err := c.connect(ctx, AdminTable)
		if err != nil {
			return c.exit(fmt.Errorf("admin_note: %w", err))
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "INSERT INTO kantree_stub_admin_notes (note, secret_key_id, instance_id, at) VALUES ($1, $2, $3, clock_timestamp())",
			args[1], c.cfg.SecretKeyID(), c.cfg.InstanceID); err != nil {
			return c.exit(fmt.Errorf("admin_note: %w", redactErr(err, c.cfg.DatabaseURL)))
		}
		fmt.Fprintf(c.env.Stdout, "admin_note: wrote %q\n", args[1])
		return 0
	case len(args) == 2 && args[0] == "admin_exit":
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 0 || n > 255 {
			return usage(c.env.Stderr, "admin_exit needs an exit code 0-255")
		}
		fmt.Fprintf(c.env.Stdout, "admin_exit: about to exit %d\n", n)
		fmt.Fprintf(c.env.Stderr, "admin_exit: this line is on stderr\n")
		return n
	}
	return usage(c.env.Stderr, "admin_note needs TEXT, admin_exit needs N")
}
