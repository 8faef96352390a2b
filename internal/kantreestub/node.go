package kantreestub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// NodeMarker is the file init_node writes, relative to the Kantree root.
const NodeMarker = "data/node-initialized"

// initNode prepares the Kantree root of this node: the data and logs
// directories and NodeMarker (which names the server). It is idempotent.
func (c command) initNode() error {
	for _, d := range []string{"data", "logs"} {
		if err := os.MkdirAll(filepath.Join(c.env.Dir, d), 0o755); err != nil {
			return fmt.Errorf("init_node: %w", err)
		}
	}
	marker := filepath.Join(c.env.Dir, NodeMarker)
	body := "server_name: " + strconv.Quote(c.cfg.ServerName) + "\n"
	if err := os.WriteFile(marker, []byte(body), 0o644); err != nil {
		return fmt.Errorf("init_node: %w", err)
	}
	fmt.Fprintf(c.env.Stdout, "node initialized in %s\n", c.env.Dir)
	return nil
}

// genConfig writes a configuration file for this node. It refuses to
// overwrite a file, and writes no secrets: those come from the environment.
func (c command) genConfig(file string) error {
	if !filepath.IsAbs(file) {
		file = filepath.Join(c.env.Dir, file)
	}
	name := first(c.env.Getenv("SERVER_NAME"), c.cfg.ServerName, "localhost")
	body := fmt.Sprintf(`# Kantree configuration written by platform gen_config (kantree-nomad stand-in).
# database_url and redis_url are secrets: give them as DATABASE_URL and REDIS_URL in the environment.
server_name: %s
web_port: %d
push_port: %d
`, strconv.Quote(name), c.cfg.WebPort, c.cfg.PushPort)
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("gen_config: %s exists; hint: remove it to write a new one", file)
	}
	if err != nil {
		return fmt.Errorf("gen_config: %w", err)
	}
	if _, err := f.WriteString(body); err != nil {
		f.Close()
		return fmt.Errorf("gen_config: write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("gen_config: write %s: %w", file, err)
	}
	fmt.Fprintf(c.env.Stdout, "wrote %s\n", file)
	return nil
}
