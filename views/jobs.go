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
	j.table = widget.NewTableWithHeaders(
		func() (int, int) { return len(j.jobs), len(jobHeaders) },
		newCellLabel, j.cell)
	j.table.ShowHeaderColumn = false
	j.table.CreateHeader = newCellLabel
	j.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		l := o.(*widget.Label)
		l.TextStyle.Bold = true
		if id.Col >= 0 {
			l.SetText(jobHeaders[id.Col])
		}
	}
	for i, w := range []float32{60, 80, 100, 160, 70, 70, 260, 400} {
		j.table.SetColumnWidth(i, w)
	}
	refresh := widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), j.reload)
	heading := widget.NewLabelWithStyle("Jobs", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	j.view = container.NewBorder(container.NewBorder(nil, nil, heading, refresh), nil, nil, nil, j.table)
	return j
}

func (j *jobsScreen) reload() {
	j.shell.background(func(ctx context.Context) {
		list, err := j.shell.studio.Jobs(ctx, 200)
		fyne.Do(func() {
			if err != nil {
				j.shell.showError("Could not list the jobs", err)
				return
			}
			j.jobs = list
			j.table.Refresh()
		})
	})
}

func (j *jobsScreen) cell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	if id.Row >= len(j.jobs) {
		l.SetText("")
		return
	}
	job := j.jobs[id.Row]
	var text string
	switch id.Col {
	case 0:
		text = fmt.Sprint(job.ID)
	case 1:
		text = job.Kind
	case 2:
		text = job.Status
	case 3:
		text = job.StartedAt.Local().Format(time.DateTime)
	case 4:
		if !job.FinishedAt.IsZero() {
			text = job.FinishedAt.Sub(job.StartedAt).Round(10 * time.Millisecond).String()
		}
	case 5:
		text = fmt.Sprintf("%.2fs", job.CPUSeconds)
	case 6:
		text = job.Title
	case 7:
		text = job.Error
	}
	l.SetText(text)
}
