// Package launch starts a Kantree process the way Kantree's own procedure
// for a node says: in the Kantree root, after `./platform init_node` has
// run once there. It is what `kantree-nomad launch` runs inside every
// Nomad task that runs Kantree.
//
// Once per root: a marker file in the root records a successful
// init_node, so a task that Nomad restarts in the same allocation (same
// local/ directory) does not initialise again, while a fresh root (a new
// allocation, a new container) always does. A lock on the marker keeps
// two launches in one root from initialising at once.
//
// Then the launcher replaces itself with the command (execve): the command
// keeps the launcher's process ID, so Nomad's signals, supervise's fencing
// and migrate's process-tree control reach it directly, and nothing stays
// in between.
//
// It must not import the generator or jobspec: it runs in the task.
package launch
