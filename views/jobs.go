package views

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// jobsScreen lists background work and how it ended, including jobs of other
// processes (a CLI import) and jobs interrupted by a crash.
type jobsScreen struct {
	shell *Shell
	view  fyne.CanvasObject
	table *widget.Table
	jobs  []app.Job
}

var jobHeaders = []string{"Job", "Kind", "Status", "Started", "Took", "CPU", "Title", "Error"}

func newJobsScreen(s *Shell) *jobsScreen {
	j := &jobsScreen{shell: s}
	j.table = newRecordTable(jobHeaders, []float32{60, 80, 100, 160, 70, 70, 260, 400},
		func() int { return len(j.jobs) }, j.text)
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), j.reload)
	heading := widget.NewLabelWithStyle("Jobs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	j.view = container.NewBorder(container.NewBorder(nil, nil, heading, refresh), nil, nil, nil, j.table)
	return j
}

func (j *jobsScreen) reload() {
	j.shell.background(func(ctx context.Context) {
		list, err := j.shell.studio.Jobs(ctx, 200)
		post(func() {
			if err != nil {
				j.shell.showError("Could not list the jobs", err)
				return
			}
			j.jobs = list
			j.table.Refresh()
		})
	})
}

func (j *jobsScreen) text(row, col int) string {
	job := j.jobs[row]
	switch col {
	case 0:
		return fmt.Sprint(job.ID)
	case 1:
		return job.Kind
	case 2:
		return job.Status
	case 3:
		return job.StartedAt.Local().Format(time.DateTime)
	case 4:
		if job.FinishedAt.IsZero() {
			return ""
		}
		return job.FinishedAt.Sub(job.StartedAt).Round(10 * time.Millisecond).String()
	case 5:
		return fmt.Sprintf("%.2fs", job.CPUSeconds)
	case 6:
		return job.Title
	default:
		return job.Error
	}
}
