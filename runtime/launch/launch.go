package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// Marker is the file, in the Kantree root, whose presence says init_node
// succeeded there.
const Marker = ".kantree-nomad-init-node"

// Config says where and what to launch.
type Config struct {
	Root    string   // the Kantree root; the command runs there
	Init    []string // run once per root before Command; empty: no initialisation
	Command []string // what the launcher becomes
	Stdout  io.Writer
	Stderr  io.Writer
}

// Validate refuses a configuration launch cannot run: no command, or no
// root.
func (c *Config) Validate() error {
	switch {
	case len(c.Command) == 0:
		return rules.WithHint(errors.New("launch: no command"), "Put the command after --, for example -- ./platform run web.")
	case c.Root == "":
		return rules.WithHint(errors.New("launch: empty -root"), "Pass the Kantree root, for example -root local/kantree.")
	}
	return nil
}

// Prepare changes into the root and runs the init command unless the root
// already has the marker. It returns the command's resolved path.
func Prepare(ctx context.Context, c Config) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	if err := os.Chdir(c.Root); err != nil {
		return "", rules.WithHint(fmt.Errorf("launch: Kantree root: %w", err),
			"The release archive should unpack there (artifact destination) or the image hold it; check kantree.root.")
	}
	if len(c.Init) > 0 {
		if err := initOnce(ctx, c); err != nil {
			return "", err
		}
	}
	return resolve(c.Command[0])
}

// Exec replaces the process with the command. It returns only on error.
func Exec(path string, argv []string) error {
	err := syscall.Exec(path, argv, os.Environ())
	return fmt.Errorf("launch: exec %s: %w", argv[0], err)
}

// resolve finds the command: a path with a slash is taken relative to the
// root (the working directory), a bare name is looked up on PATH.
func resolve(name string) (string, error) {
	path := name
	if !strings.Contains(name, "/") {
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("launch: %w", err)
		}
		path = p
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("launch: %w", err)
	}
	if _, err := os.Stat(abs); err != nil {
		return "", rules.WithHint(fmt.Errorf("launch: command %s: %w", name, err), "Check the process's command and the Kantree root.")
	}
	return abs, nil
}

// initOnce runs the init command under an exclusive lock on the marker's
// lock file, unless the marker is there.
func initOnce(ctx context.Context, c Config) error {
	lock, err := os.OpenFile(Marker+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("launch: lock %s: %w", lock.Name(), err)
	}
	if _, err := os.Stat(Marker); err == nil {
		return nil
	}
	cmd := exec.CommandContext(ctx, c.Init[0], c.Init[1:]...)
	cmd.Stdout, cmd.Stderr = c.Stdout, c.Stderr
	if err := cmd.Run(); err != nil {
		return rules.WithHint(fmt.Errorf("launch: %s in %s: %w", strings.Join(c.Init, " "), c.Root, err),
			"Its output is above; Nomad restarts the task and init_node runs again.")
	}
	return writeMarker()
}

// writeMarker records the initialisation, atomically.
func writeMarker() error {
	tmp := Marker + ".tmp"
	if err := os.WriteFile(tmp, []byte("init_node done\n"), 0o644); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	if err := os.Rename(tmp, Marker); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	return nil
}
