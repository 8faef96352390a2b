package kantreestub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// NodeMarker is the file init_node writes, relative to the Kantree root
// (the working directory).
const NodeMarker = "data/node-initialized"

// NodeInit is what init_node wrote in a root's NodeMarker.
type NodeInit struct {
	ServerName string
	InitID     string    // random, new at every init_node run
	InstanceID string    // KANTREE_INSTANCE_ID of the init_node run
	At         time.Time // when it ran (host clock)
	Runs       int       // how many times init_node ran on this root
}

// initNode prepares the Kantree root of this node: the data and logs
// directories and NodeMarker. It may run again (as Kantree's may): each
// run writes a new InitID and counts itself in Runs, so that a test can
// tell that it ran exactly once. With a database it also records the run
// (NodeInitTable), best effort.
func (c command) initNode(ctx context.Context) error {
	for _, d := range []string{"data", "logs"} {
		if err := os.MkdirAll(filepath.Join(c.env.Dir, d), 0o755); err != nil {
			return fmt.Errorf("init_node: %w", err)
		}
	}
	prev, err := ReadNodeMarker(c.env.Dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("init_node: %w", err)
	}
	ni := NodeInit{ServerName: c.cfg.ServerName, InitID: newID(8), InstanceID: c.cfg.InstanceID,
		At: time.Now().UTC(), Runs: prev.Runs + 1}
	if err := writeNodeMarker(c.env.Dir, ni); err != nil {
		return fmt.Errorf("init_node: %w", err)
	}
	c.record(ctx, NodeInitTable, `INSERT INTO kantree_stub_node_inits (instance_id, root, init_id, run, at)
		VALUES ($1, $2, $3, $4, clock_timestamp())`, ni.InstanceID, c.env.Dir, ni.InitID, ni.Runs)
	fmt.Fprintf(c.env.Stdout, "node initialized in %s (run %d)\n", c.env.Dir, ni.Runs)
	return nil
}

// writeNodeMarker writes the marker atomically (temporary file, rename).
func writeNodeMarker(root string, ni NodeInit) error {
	body := fmt.Sprintf("server_name: %s\ninit_id: %s\ninstance_id: %s\ninitialized_at: %s\nruns: %d\n",
		strconv.Quote(ni.ServerName), ni.InitID, strconv.Quote(ni.InstanceID), ni.At.Format(time.RFC3339Nano), ni.Runs)
	path := filepath.Join(root, NodeMarker)
	if err := os.WriteFile(path+".tmp", []byte(body), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// ReadNodeMarker reads the NodeMarker of root. The error wraps
// fs.ErrNotExist when init_node never ran there.
func ReadNodeMarker(root string) (NodeInit, error) {
	kv, err := readFlatYAML(filepath.Join(root, NodeMarker))
	if err != nil {
		return NodeInit{}, fmt.Errorf("read init_node marker: %w", err)
	}
	ni := NodeInit{ServerName: kv["server_name"], InitID: kv["init_id"], InstanceID: kv["instance_id"]}
	ni.At, err = time.Parse(time.RFC3339Nano, kv["initialized_at"])
	if err == nil {
		ni.Runs, err = strconv.Atoi(kv["runs"])
	}
	if err != nil || ni.InitID == "" {
		return NodeInit{}, fmt.Errorf("init_node marker %s is damaged (%v); hint: run init_node again", filepath.Join(root, NodeMarker), err)
	}
	return ni, nil
}

// errNotInitialized is returned by requireInit on a root where init_node
// never ran.
type errNotInitialized struct{ root, process string }

func (e errNotInitialized) Error() string {
	return fmt.Sprintf("run %s: the Kantree root %s is not initialized (no %s)\nplatform: hint: run `./platform init_node` in %s first, once per node",
		e.process, e.root, NodeMarker, e.root)
}

// requireInit returns the marker `run process` starts on. A root with a
// configuration file is a node's root and must have run init_node: run
// refuses to start otherwise, as Kantree's does. Without a configuration
// file (unit tests of one process) it returns a zero NodeInit.
func (c command) requireInit(process string) (NodeInit, error) {
	if c.cfg.File == "" {
		return NodeInit{}, nil
	}
	ni, err := ReadNodeMarker(c.env.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return ni, errNotInitialized{root: c.env.Dir, process: process}
	}
	return ni, err
}

// recordStart records, best effort, that process starts on marker ni.
func (c command) recordStart(ctx context.Context, process string, ni NodeInit) {
	if ni.InitID == "" {
		return
	}
	c.record(ctx, ProcessStartTable, `INSERT INTO kantree_stub_process_starts (instance_id, process, root, init_id, init_runs, at)
		VALUES ($1, $2, $3, $4, $5, clock_timestamp())`, c.cfg.InstanceID, process, c.env.Dir, ni.InitID, ni.Runs)
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
