package cli

import (
	"fmt"
	"io"
	"time"

	"modelsmith/app"
)

// progress prints a job's progress to stderr: one redrawn line on a terminal,
// otherwise a line per stage and at most one a second, so that logs stay short.
// A stage's first report is always printed, synchronously.
type progress struct {
	w         io.Writer
	tty       bool
	label     string
	stage     string
	lastPrint time.Time
	printed   bool
}

func newProgress(w io.Writer, label string) *progress {
	return &progress{w: w, tty: isTerminal(w), label: label}
}

func (p *progress) report(pr app.Progress) {
	now := time.Now()
	interval := time.Second
	if p.tty {
		interval = 100 * time.Millisecond
	}
	if pr.Stage == p.stage && now.Sub(p.lastPrint) < interval {
		return
	}
	p.stage, p.lastPrint, p.printed = pr.Stage, now, true
	pct := "    "
	if pr.Fraction >= 0 {
		pct = fmt.Sprintf("%3.0f%%", 100*pr.Fraction)
	}
	line := fmt.Sprintf("%s: %s %-9s %s", p.label, pct, pr.Stage, pr.Message)
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// done ends a redrawn line.
func (p *progress) done() {
	if p.tty && p.printed {
		fmt.Fprintln(p.w)
	}
	p.printed = false
}
