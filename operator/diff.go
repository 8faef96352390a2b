package operator

import (
	"fmt"
	"io"
	"sort"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"
)

// diffMarks are the signs the nomad CLI puts before each kind of change.
var diffMarks = map[string]string{"Added": "+", "Deleted": "-", "Edited": "~"}

// changed reports whether a Nomad diff type is a change.
func changed(typ string) bool { return typ != "" && typ != "None" }

// printJobDiff writes a readable, per-group form of Nomad's plan diff:
// job fields first, then each changed group with what Nomad will do to
// its allocations, then its fields and tasks. Unchanged parts are left
// out.
func printJobDiff(w io.Writer, d *nomadapi.JobDiff, ann *nomadapi.PlanAnnotations) {
	if d == nil || !changed(d.Type) {
		return
	}
	if d.Type == "Added" { // a new job: its groups, not every field
		for _, g := range d.TaskGroups {
			fmt.Fprintf(w, "    + group %q%s\n", g.Name, updatesText(g.Updates))
		}
		return
	}
	printFields(w, "    ", d.Fields)
	printObjects(w, "    ", d.Objects)
	for _, g := range d.TaskGroups {
		if !changed(g.Type) && !hasUpdates(g.Updates) {
			continue
		}
		fmt.Fprintf(w, "    %s group %q%s\n", mark(g.Type), g.Name, updatesText(g.Updates))
		printFields(w, "        ", g.Fields)
		printObjects(w, "        ", g.Objects)
		for _, t := range g.Tasks {
			if !changed(t.Type) {
				continue
			}
			ann := ""
			if len(t.Annotations) > 0 {
				ann = " (" + strings.Join(t.Annotations, ", ") + ")"
			}
			fmt.Fprintf(w, "        %s task %q%s\n", mark(t.Type), t.Name, ann)
			printFields(w, "            ", t.Fields)
			printObjects(w, "            ", t.Objects)
		}
	}
}

func printFields(w io.Writer, indent string, fields []*nomadapi.FieldDiff) {
	for _, f := range fields {
		if !changed(f.Type) {
			continue
		}
		switch f.Type {
		case "Added":
			fmt.Fprintf(w, "%s+ %s: %q\n", indent, f.Name, f.New)
		case "Deleted":
			fmt.Fprintf(w, "%s- %s: %q\n", indent, f.Name, f.Old)
		default:
			fmt.Fprintf(w, "%s~ %s: %q => %q\n", indent, f.Name, f.Old, f.New)
		}
	}
}

func printObjects(w io.Writer, indent string, objs []*nomadapi.ObjectDiff) {
	for _, o := range objs {
		if !changed(o.Type) {
			continue
		}
		fmt.Fprintf(w, "%s%s %s {\n", indent, mark(o.Type), o.Name)
		printFields(w, indent+"    ", o.Fields)
		printObjects(w, indent+"    ", o.Objects)
		fmt.Fprintf(w, "%s}\n", indent)
	}
}

func mark(typ string) string {
	if m, ok := diffMarks[typ]; ok {
		return m
	}
	return " "
}

func hasUpdates(u map[string]uint64) bool {
	for k, n := range u {
		if k != "ignore" && n > 0 {
			return true
		}
	}
	return false
}

// updatesText says what Nomad will do to a group's allocations:
// " (1 create, 2 destructive update)".
func updatesText(u map[string]uint64) string {
	keys := make([]string, 0, len(u))
	for k, n := range u {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", u[k], k)
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// diffSummary names the changed parts of a diff in one line, for status's
// drift report: "group web: task web: Env[X]; job: Meta[Y]".
func diffSummary(d *nomadapi.JobDiff) string {
	if d == nil || !changed(d.Type) {
		return ""
	}
	var parts []string
	add := func(where string, fields []*nomadapi.FieldDiff, objs []*nomadapi.ObjectDiff) {
		names := changedNames(fields, objs)
		if len(names) > 0 {
			parts = append(parts, where+strings.Join(names, ", "))
		}
	}
	add("job: ", d.Fields, d.Objects)
	for _, g := range d.TaskGroups {
		add("group "+g.Name+": ", g.Fields, g.Objects)
		for _, t := range g.Tasks {
			add("group "+g.Name+" task "+t.Name+": ", t.Fields, t.Objects)
		}
	}
	return strings.Join(parts, "; ")
}

func changedNames(fields []*nomadapi.FieldDiff, objs []*nomadapi.ObjectDiff) []string {
	var names []string
	for _, f := range fields {
		if changed(f.Type) {
			names = append(names, f.Name)
		}
	}
	for _, o := range objs {
		if changed(o.Type) {
			names = append(names, o.Name)
		}
	}
	return names
}
