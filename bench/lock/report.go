package main

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// report prints the two tools side by side.
func report(w io.Writer, kn, cl *tool) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t%s\tratio\t\n", kn.name, cl.name)
	row := func(name string, a, b float64, unit string) {
		fmt.Fprintf(tw, "%s\t%.1f %s\t%.1f %s\t%.2f\t\n", name, a, unit, b, unit, ratio(a, b))
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	row(fmt.Sprintf("graceful handoff median (n=%d/%d)", len(kn.handoffs), len(cl.handoffs)), ms(pct(kn.handoffs, 50)), ms(pct(cl.handoffs, 50)), "ms")
	row("graceful handoff p99", ms(pct(kn.handoffs, 99)), ms(pct(cl.handoffs, 99)), "ms")
	row(fmt.Sprintf("crash failover median (n=%d/%d)", len(kn.failovers), len(cl.failovers)), ms(pct(kn.failovers, 50))/1000, ms(pct(cl.failovers, 50))/1000, "s")
	row("crash failover max", ms(pct(kn.failovers, 100))/1000, ms(pct(cl.failovers, 100))/1000, "s")
	row("peak RSS, supervisor (max)", float64(slices.Max(kn.rss))/1024, float64(slices.Max(cl.rss))/1024, "MB")
	row("peak RSS, supervisor + watchdog (max)", float64(slices.Max(kn.rssTree))/1024, float64(slices.Max(cl.rssTree))/1024, "MB")
	row("PSS, supervisor + watchdog (max)", float64(slices.Max(kn.pssTree))/1024, float64(slices.Max(cl.pssTree))/1024, "MB")
	fmt.Fprintf(tw, "overlap between children\t%s\t%s\t\t\n", kn.overlap, cl.overlap)
	tw.Flush()
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// pct is the p-th percentile (nearest rank) of ds, or 0 when empty.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	return s[max(i-1, 0)]
}
