package operator

import (
	"context"
	"fmt"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/kantree-nomad/kantree-nomad/rules"
)

// migrateTask is the upgrade-db job's task that runs `kantree-nomad migrate`.
const migrateTask = "upgrade-db"

// verdict is what an ended allocation of the upgrade job proves.
type verdict struct {
	ok       bool
	reason   string // why it is not a success ("" when ok)
	exitCode int
	ledger   rules.LedgerRecord // the ledger's word, when ok
}

// terminal reports whether an allocation will not run (again).
func terminal(a *nomadapi.AllocationListStub) bool {
	switch a.ClientStatus {
	case nomadapi.AllocClientStatusComplete, nomadapi.AllocClientStatusFailed, nomadapi.AllocClientStatusLost:
		return true
	}
	return a.DesiredStatus != nomadapi.AllocDesiredStatusRun && a.ClientStatus != nomadapi.AllocClientStatusRunning
}

// judge decides whether allocation a of the upgrade job migrated release.
// Nomad's client status is not enough: a stopped allocation is "complete"
// too. A success needs both witnesses: the task ran and exited 0 on its
// own (no kill), and its output carries the ledger line that migrate
// prints only once the ledger holds release as applied.
func (c *Cluster) judge(ctx context.Context, r *Release, a *nomadapi.AllocationListStub, release string) verdict {
	ts := a.TaskStates[migrateTask]
	switch {
	case a.ClientStatus == nomadapi.AllocClientStatusLost:
		return verdict{reason: "the allocation was lost (its node went away)", exitCode: -1}
	case ts == nil || ts.StartedAt.IsZero():
		return verdict{reason: fmt.Sprintf("the task never started (allocation %s, desired %s)", a.ClientStatus, a.DesiredStatus), exitCode: -1}
	}
	// A kill cuts the task when it comes before the task's end (Killing,
	// then Terminated, then Killed). The client also records a Killing
	// event on a task that had already ended when it garbage-collects the
	// allocation: that one does not count.
	code, killed, pending := -1, "", ""
	for _, e := range ts.Events {
		switch e.Type {
		case nomadapi.TaskTerminated:
			code, killed = e.ExitCode, pending
		case nomadapi.TaskKilling:
			pending = eventText(e)
		}
	}
	if code == -1 {
		killed = pending
	}
	switch {
	case killed != "":
		return verdict{reason: fmt.Sprintf("the task was stopped before it ended (%s; exit code %d)", killed, code), exitCode: code}
	case code == -1:
		return verdict{reason: "the task has no recorded end (no Terminated event)", exitCode: code}
	case code != 0:
		return verdict{reason: fmt.Sprintf("the task exited with code %d", code), exitCode: code}
	}
	full, _, err := c.Nomad.Allocations().Info(a.ID, r.query(ctx))
	if err != nil {
		return verdict{reason: "exit code 0, but its output could not be read: " + nomadError("read allocation "+short(a.ID), err).Error(), exitCode: code}
	}
	out, err := c.readLog(ctx, full, migrateTask, "stdout")
	if err != nil {
		return verdict{reason: fmt.Sprintf("exit code 0, but its output could not be read (the ledger's word is missing): %v", err), exitCode: code}
	}
	rec, ok := rules.FindLedgerLine(out, release)
	if !ok || rec.Status != rules.LedgerSucceeded {
		return verdict{reason: fmt.Sprintf("exit code 0, but its output has no ledger record of release %s applied (%s)", release, lastOutputLine(out)), exitCode: code}
	}
	return verdict{ok: true, exitCode: code, ledger: rec}
}

// unknownAttempt reads the output of allocation a, whose migrate exited
// non-zero, for the ledger line migrate prints when it refuses to go past
// an attempt of release with no recorded end, and returns that attempt (0
// when there is none, or the output cannot be read: the exit code alone
// is then the reason).
func (c *Cluster) unknownAttempt(ctx context.Context, r *Release, a *nomadapi.AllocationListStub, release string) int {
	full, _, err := c.Nomad.Allocations().Info(a.ID, r.query(ctx))
	if err != nil {
		return 0
	}
	out, err := c.readLog(ctx, full, migrateTask, "stdout")
	if err != nil {
		return 0
	}
	if rec, ok := rules.FindLedgerLine(out, release); ok && rec.Status == rules.LedgerUnknown {
		return rec.Attempt
	}
	return 0
}

// lastOutputLine is the last non-empty line of s, for a reason.
func lastOutputLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return "last line: " + l
	}
	return "no output"
}

// ledgerText says what the ledger recorded.
func (v verdict) ledgerText() string {
	if v.ledger.Schema != "" && v.ledger.Schema != v.ledger.Release {
		return fmt.Sprintf("ledger: schema already at %s, attempt %d", v.ledger.Schema, v.ledger.Attempt)
	}
	return fmt.Sprintf("ledger: %s %s, attempt %d", v.ledger.Release, v.ledger.Status, v.ledger.Attempt)
}
