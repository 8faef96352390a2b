package operator

import (
	"fmt"
	"io"
	"sort"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// eventLog prints the task events of allocations as they appear, each
// once, stamped with the time since start.
type eventLog struct {
	w     io.Writer
	start time.Time
	seen  map[string]int // alloc/task -> events printed
}

func newEventLog(w io.Writer, start time.Time) *eventLog {
	return &eventLog{w: w, start: start, seen: map[string]int{}}
}

// print writes the events of a's tasks not printed yet, in time order.
func (l *eventLog) print(a *nomadapi.AllocationListStub) {
	type line struct {
		at   int64
		text string
	}
	var lines []line
	for _, task := range sortedTasks(a.TaskStates) {
		key := a.ID + "/" + task
		evs := a.TaskStates[task].Events
		for _, e := range evs[min(l.seen[key], len(evs)):] {
			lines = append(lines, line{e.Time, fmt.Sprintf("    %7s  %s %s  %s", l.offset(e.Time), short(a.ID), task, eventText(e))})
		}
		l.seen[key] = len(evs)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at < lines[j].at })
	for _, ln := range lines {
		fmt.Fprintln(l.w, ln.text)
	}
}

// offset is the time of a Nomad event (Unix nanoseconds) since start.
func (l *eventLog) offset(at int64) string {
	d := time.Unix(0, at).Sub(l.start)
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("+%.1fs", d.Seconds())
}

// eventText is an event as the nomad CLI shows it: type and message.
func eventText(e *nomadapi.TaskEvent) string {
	msg := e.DisplayMessage
	if msg == "" {
		msg = e.Message
	}
	if msg == "" {
		return e.Type
	}
	return e.Type + ": " + msg
}

func sortedTasks(states map[string]*nomadapi.TaskState) []string {
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
