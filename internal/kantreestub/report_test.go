package kantreestub

import (
	"testing"
	"time"
)

func TestOverlapAndGapsOnKnownRuns(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	run := func(id string, from, to int) SchedulerRun {
		return SchedulerRun{RunID: id, First: at(from), Last: at(to)}
	}
	tests := []struct {
		name    string
		runs    []SchedulerRun
		overlap time.Duration
		gaps    []time.Duration
	}{
		{name: "none", runs: nil},
		{name: "one run", runs: []SchedulerRun{run("a", 0, 1000)}},
		{name: "handover with gap", runs: []SchedulerRun{run("a", 0, 1000), run("b", 1300, 2000)},
			gaps: []time.Duration{300 * time.Millisecond}},
		{name: "touching", runs: []SchedulerRun{run("a", 0, 1000), run("b", 1000, 2000)}},
		{name: "overlap 250ms", runs: []SchedulerRun{run("a", 0, 1000), run("b", 750, 2000)}, overlap: 250 * time.Millisecond},
		{name: "three runs, nested, counted once", runs: []SchedulerRun{run("a", 0, 1000), run("b", 200, 800), run("c", 300, 400)},
			overlap: 600 * time.Millisecond},
		{name: "two overlaps and a gap", runs: []SchedulerRun{run("c", 2500, 3000), run("a", 0, 1000), run("b", 900, 2000), run("d", 2900, 3100)},
			overlap: 200 * time.Millisecond, gaps: []time.Duration{500 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Overlap(tc.runs); got != tc.overlap {
				t.Errorf("Overlap = %v, want %v", got, tc.overlap)
			}
			got := Gaps(tc.runs)
			if len(got) != len(tc.gaps) {
				t.Fatalf("Gaps = %v, want %v", got, tc.gaps)
			}
			for i := range got {
				if got[i] != tc.gaps[i] {
					t.Errorf("Gaps = %v, want %v", got, tc.gaps)
				}
			}
		})
	}
}
