package operator

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// versionsOf builds a job's versions, newest first as Nomad lists them,
// from releases oldest first; a "*" suffix marks a version that never
// became stable.
func versionsOf(releases ...string) []*nomadapi.Job {
	var out []*nomadapi.Job
	for i, rel := range releases {
		stable := true
		if rel[len(rel)-1] == '*' {
			rel, stable = rel[:len(rel)-1], false
		}
		out = append([]*nomadapi.Job{{Version: new(uint64(i)), Stable: new(stable), Meta: map[string]string{"kantree_version": rel}}}, out...)
	}
	return out
}

// The release history that rollback reads: a revert (ours or Nomad's)
// pops back, a scale does not move, rollback twice goes back twice.
func TestReleaseHistory(t *testing.T) {
	for _, tc := range []struct {
		name     string
		versions []string // oldest first
		want     string   // the stack, current release last
		target   int      // job version rollback returns to; -1 none
	}{
		{name: "three releases", versions: []string{"8.4.1", "8.4.2", "8.5.0"}, want: "[8.4.1 8.4.2 8.5.0]", target: 1},
		{name: "after one rollback", versions: []string{"8.4.1", "8.4.2", "8.5.0", "8.4.2"}, want: "[8.4.1 8.4.2]", target: 0},
		{name: "after two rollbacks", versions: []string{"8.4.1", "8.4.2", "8.5.0", "8.4.2", "8.4.1"}, want: "[8.4.1]", target: -1},
		{name: "scaled versions stay one release", versions: []string{"8.4.1", "8.4.2", "8.4.2", "8.4.2"}, want: "[8.4.1 8.4.2]", target: 0},
		{name: "auto-revert after a failed deployment", versions: []string{"8.4.1", "8.4.2*", "8.4.1"}, want: "[8.4.1]", target: -1},
		{name: "the newest stable version of the target", versions: []string{"8.4.1", "8.4.1", "8.4.2"}, want: "[8.4.1 8.4.2]", target: 1},
		{name: "a target never stable", versions: []string{"8.4.1*", "8.4.2"}, want: "[8.4.1 8.4.2]", target: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hist := releaseHistory(versionsOf(tc.versions...))
			var rels []string
			for _, h := range hist {
				rels = append(rels, h.release)
			}
			if got := fmt.Sprint(rels); got != tc.want {
				t.Errorf("history %s, want %s", got, tc.want)
			}
			target := -1
			if len(hist) >= 2 && hist[len(hist)-2].job != nil {
				target = int(version(hist[len(hist)-2].job))
			}
			if target != tc.target {
				t.Errorf("rollback target version %d, want %d", target, tc.target)
			}
		})
	}
}

// A kill before the task's end is a cut migration, whatever the exit
// code; judge decides it from the events alone, before reading any log.
func TestJudgeKillOrder(t *testing.T) {
	ev := func(typ string, code int) *nomadapi.TaskEvent {
		return &nomadapi.TaskEvent{Type: typ, ExitCode: code, DisplayMessage: typ}
	}
	for _, tc := range []struct {
		name   string
		events []*nomadapi.TaskEvent
		want   string
	}{
		{"stopped midway", []*nomadapi.TaskEvent{ev(nomadapi.TaskStarted, 0), ev(nomadapi.TaskKilling, 0), ev(nomadapi.TaskTerminated, 0), ev(nomadapi.TaskKilled, 0)}, "stopped before it ended"},
		{"failed", []*nomadapi.TaskEvent{ev(nomadapi.TaskStarted, 0), ev(nomadapi.TaskTerminated, 1)}, "exited with code 1"},
		{"no end", []*nomadapi.TaskEvent{ev(nomadapi.TaskStarted, 0)}, "no recorded end"},
	} {
		a := &nomadapi.AllocationListStub{ID: "a", ClientStatus: nomadapi.AllocClientStatusComplete,
			TaskStates: map[string]*nomadapi.TaskState{migrateTask: {StartedAt: time.Now(), Events: tc.events}}}
		if v := (&Cluster{}).judge(context.Background(), nil, a, "8.4.1"); v.ok || !strings.Contains(v.reason, tc.want) {
			t.Errorf("%s: verdict %+v, want a failure saying %q", tc.name, v, tc.want)
		}
	}
}
