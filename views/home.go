package views

import (
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// homeScreen is where a session starts: a drop zone and the workspace's datasets.
type homeScreen struct {
	shell    *Shell
	view     fyne.CanvasObject
	list     *widget.List
	count    *widget.Label
	empty    *widget.Label
	datasets []app.Dataset
}

func newHomeScreen(s *Shell) *homeScreen {
	h := &homeScreen{shell: s}
	heading := widget.NewLabelWithStyle("Welcome to Modelsmith", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	workspace := widget.NewLabel("Workspace: " + s.studio.Path())
	workspace.Truncation = fyne.TextTruncateEllipsis

	drop := widget.NewCard("Add data",
		"Drop a CSV, TSV, JSON lines, Parquet, Excel (.xlsx) or ARFF file anywhere on this window — .gz compressed too.",
		container.NewHBox(widget.NewButtonWithIcon("Import a file…", theme.FolderOpenIcon(), s.openImportDialog)))

	h.count = widget.NewLabelWithStyle("Datasets", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	h.empty = widget.NewLabel("No datasets yet. Drop a file on the window to add one.")
	h.empty.Hide()
	h.list = widget.NewList(
		func() int { return len(h.datasets) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("name@1", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			info := widget.NewLabel("rows")
			src := widget.NewLabel("source")
			src.Truncation = fyne.TextTruncateEllipsis
			return container.NewBorder(nil, nil, container.NewHBox(widget.NewIcon(theme.StorageIcon()), name, info), nil, src)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			d := h.datasets[id]
			row := o.(*fyne.Container)
			left := row.Objects[1].(*fyne.Container)
			left.Objects[1].(*widget.Label).SetText(d.Ref)
			left.Objects[2].(*widget.Label).SetText(datasetSummary(d))
			row.Objects[0].(*widget.Label).SetText(d.Source)
		},
	)
	h.list.OnSelected = func(id widget.ListItemID) {
		h.list.UnselectAll()
		s.openDataset(h.datasets[id].Ref)
	}
	top := container.NewVBox(heading, workspace, drop, h.count, h.empty)
	h.view = container.NewBorder(top, nil, nil, nil, h.list)
	return h
}

func (h *homeScreen) setDatasets(list []app.Dataset) {
	h.datasets = list
	h.count.SetText(fmt.Sprintf("Datasets (%d)", len(list)))
	if len(list) == 0 {
		h.empty.Show()
	} else {
		h.empty.Hide()
	}
	h.list.Refresh()
}

// datasetSummary is one line about a dataset: size and age.
func datasetSummary(d app.Dataset) string {
	return fmt.Sprintf("%s rows × %d columns · %s · %s", groupDigits(d.Rows), d.Columns,
		app.FormatBytes(d.StoredBytes), d.CreatedAt.Local().Format(time.DateTime))
}

// groupDigits writes 800000 as "800,000".
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
