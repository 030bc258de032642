package views

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// recentLimit is how many recent runs and models Home lists.
const recentLimit = 6

// homeScreen is where a session starts: a drop zone, the workspace's recent
// datasets, runs and models, and the sample datasets to try AutoML on.
type homeScreen struct {
	shell *Shell
	view  fyne.CanvasObject

	list     *widget.List
	count    *widget.Label
	empty    *widget.Label
	datasets []app.Dataset

	runList   *widget.List
	runs      []app.RunInfo
	noRuns    *widget.Label
	modelList *widget.List
	models    []app.ModelInfo
	noModels  *widget.Label

	samples *fyne.Container
}

func newHomeScreen(s *Shell) *homeScreen {
	h := &homeScreen{shell: s}
	workspace := widget.NewLabel("Workspace: " + s.studio.Path())
	workspace.Truncation = fyne.TextTruncateEllipsis
	workspace.SizeName = theme.SizeNameCaptionText

	h.count = heading("Datasets")
	h.empty = widget.NewLabel("No datasets yet: drop a file on the window.")
	h.empty.Wrapping = fyne.TextWrapWord
	h.empty.Hide()
	h.list = widget.NewList(
		func() int { return len(h.datasets) },
		func() fyne.CanvasObject { return twoLineItem(theme.StorageIcon()) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			d := h.datasets[id]
			setTwoLineItem(o, d.Ref, datasetSummary(d))
		},
	)
	h.list.OnSelected = func(id widget.ListItemID) {
		h.list.UnselectAll()
		s.openDataset(h.datasets[id].Ref)
	}

	h.noRuns = widget.NewLabel("No trainings yet: press Try AutoML on a sample above, or use the Train screen.")
	h.noRuns.Wrapping = fyne.TextWrapWord
	h.runList = widget.NewList(
		func() int { return len(h.runs) },
		func() fyne.CanvasObject { return twoLineItem(theme.MediaPlayIcon()) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			r := h.runs[id]
			setTwoLineItem(o, r.Algorithm+" on "+r.Dataset, runSummary(r))
		},
	)
	h.runList.OnSelected = func(id widget.ListItemID) {
		h.runList.UnselectAll()
		if !s.openExperiment(h.runs[id].Experiment) {
			s.openDataset(h.runs[id].Dataset)
		}
	}

	h.noModels = widget.NewLabel("No models yet: every training registers one.")
	h.noModels.Wrapping = fyne.TextWrapWord
	h.modelList = widget.NewList(
		func() int { return len(h.models) },
		func() fyne.CanvasObject { return twoLineItem(theme.ComputerIcon()) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			m := h.models[id]
			setTwoLineItem(o, m.Ref, recentModelSummary(m))
		},
	)
	h.modelList.OnSelected = func(id widget.ListItemID) {
		h.modelList.UnselectAll()
		s.openModel(h.models[id].Ref)
	}

	recent := container.NewGridWithColumns(3,
		container.NewBorder(container.NewVBox(h.count, h.empty), nil, nil, nil, h.list),
		container.NewBorder(container.NewVBox(heading("Recent runs"), h.noRuns), nil, nil, nil, h.runList),
		container.NewBorder(container.NewVBox(heading("Models"), h.noModels), nil, nil, nil, h.modelList),
	)

	h.samples = container.NewGridWithColumns(len(app.Samples()))
	for _, sm := range app.Samples() {
		h.samples.Add(h.sampleCard(sm))
	}
	top := container.NewVBox(
		newDropZone(s.openImportDialog),
		heading("Sample datasets"),
		h.samples,
	)
	h.view = container.NewBorder(top, workspace, nil, nil, recent)
	return h
}

// sampleCard offers a sample dataset: look at it, or train on it.
func (h *homeScreen) sampleCard(sm app.SampleInfo) fyne.CanvasObject {
	desc := widget.NewLabel(sm.Description)
	desc.Wrapping = fyne.TextWrapWord
	open := widget.NewButtonWithIcon("Explore", theme.StorageIcon(), func() { h.shell.openSample(sm.Name, nil) })
	try := widget.NewButtonWithIcon("Try AutoML", theme.MediaPlayIcon(), func() { h.shell.tryAutoML(sm.Name) })
	try.Importance = widget.HighImportance
	buttons := container.NewHBox(try, open)
	title := widget.NewLabelWithStyle(sm.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return widget.NewCard("", "", container.NewBorder(title, buttons, nil, nil, desc))
}

func (h *homeScreen) setDatasets(list []app.Dataset) {
	h.datasets = list
	h.count.SetText(fmt.Sprintf("Datasets (%d)", len(list)))
	h.empty.Hidden = len(list) > 0
	h.empty.Refresh()
	h.list.Refresh()
}

func (h *homeScreen) onShow() {
	h.shell.background(func(ctx context.Context) {
		runs, rerr := h.shell.studio.Runs(ctx, 0, recentLimit)
		models, merr := h.shell.studio.Models(ctx)
		post(func() {
			if rerr != nil || merr != nil {
				h.shell.showError("Could not list the recent work", fmt.Errorf("%w", firstErr(rerr, merr)))
				return
			}
			sortModelsNewest(models)
			if len(models) > recentLimit {
				models = models[:recentLimit]
			}
			h.runs, h.models = runs, models
			h.noRuns.Hidden = len(runs) > 0
			h.noModels.Hidden = len(models) > 0
			h.noRuns.Refresh()
			h.noModels.Refresh()
			h.runList.Refresh()
			h.modelList.Refresh()
		})
	})
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func sortModelsNewest(m []app.ModelInfo) {
	for i := 1; i < len(m); i++ {
		for j := i; j > 0 && m[j].CreatedAt.After(m[j-1].CreatedAt); j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
}

func twoLineItem(icon fyne.Resource) fyne.CanvasObject {
	title := widget.NewLabelWithStyle("title", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	sub := widget.NewLabel("detail")
	sub.Truncation = fyne.TextTruncateEllipsis

	sub.SizeName = theme.SizeNameCaptionText
	return container.NewBorder(nil, nil, widget.NewIcon(icon), nil,
		container.New(&tightVBox{}, title, sub))
}

func setTwoLineItem(o fyne.CanvasObject, title, sub string) {
	box := o.(*fyne.Container).Objects[0].(*fyne.Container)
	box.Objects[0].(*widget.Label).SetText(title)
	box.Objects[1].(*widget.Label).SetText(sub)
}

// tightVBox stacks objects with their labels' inner padding overlapping, so
// a title and its caption read as one item.
type tightVBox struct{}

func (tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
	}
	return s.SubtractWidthHeight(0, 2*theme.Padding()*float32(max(len(objs)-1, 0)))
}

func (tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for _, o := range objs {
		h := o.MinSize().Height
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h - 2*theme.Padding()
	}
}

// datasetSummary is one line about a dataset: size and age.
func datasetSummary(d app.Dataset) string {
	return fmt.Sprintf("%s rows × %d columns · %s · %s", groupDigits(d.Rows), d.Columns,
		app.FormatBytes(d.StoredBytes), d.CreatedAt.Local().Format(time.DateTime))
}

func runSummary(r app.RunInfo) string {
	s := r.Status
	if r.Score != nil {
		s = fmt.Sprintf("%s %s · %s", r.Metric, app.FormatNumber(*r.Score), s)
	}
	return fmt.Sprintf("%s · predicts %s · %.1f s", s, r.Target, r.FitSeconds)
}

func recentModelSummary(m app.ModelInfo) string {
	return modelSummary(m) + " · " + m.CreatedAt.Local().Format(time.DateTime)
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

// dropZone is Home's large target for files: dropping works anywhere on the
// window, and its button opens the file dialog.
type dropZone struct {
	widget.BaseWidget
	onImport func()
}

func newDropZone(onImport func()) *dropZone {
	z := &dropZone{onImport: onImport}
	z.ExtendBaseWidget(z)
	return z
}

func (z *dropZone) CreateRenderer() fyne.WidgetRenderer {
	frame := canvas.NewRectangle(nil)
	frame.StrokeWidth = 2
	frame.CornerRadius = 10
	icon := widget.NewIcon(theme.UploadIcon())
	title := widget.NewLabelWithStyle("Drop a data file here — or anywhere on this window", fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	formats := widget.NewLabelWithStyle("CSV, TSV, JSON lines, Parquet, Excel (.xlsx), ARFF; .gz compressed too", fyne.TextAlignCenter, fyne.TextStyle{})
	formats.SizeName = theme.SizeNameCaptionText
	button := widget.NewButtonWithIcon("Choose a file…", theme.FolderOpenIcon(), z.onImport)
	content := container.NewCenter(container.NewVBox(
		container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(40), icon)), title, formats, container.NewCenter(button)))
	r := &dropZoneRenderer{z: z, frame: frame, content: content}
	r.Refresh()
	return r
}

type dropZoneRenderer struct {
	z       *dropZone
	frame   *canvas.Rectangle
	content *fyne.Container
}

func (r *dropZoneRenderer) Layout(size fyne.Size) {
	r.frame.Resize(size)
	r.content.Resize(size)
}

func (r *dropZoneRenderer) MinSize() fyne.Size {
	return r.content.MinSize().AddWidthHeight(0, 4*theme.Padding())
}

func (r *dropZoneRenderer) Refresh() {
	th := r.z.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.frame.StrokeColor = th.Color(theme.ColorNamePrimary, v)
	r.frame.FillColor = th.Color(theme.ColorNameInputBackground, v)
	r.frame.Refresh()
	r.content.Refresh()
}

func (r *dropZoneRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.frame, r.content}
}

func (r *dropZoneRenderer) Destroy() {}
