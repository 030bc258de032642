package views

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
	"modelsmith/ml/learn"
)

// trainScreen starts trainings: the data part (dataset, target, task) is
// shared by its two forms, AutoML (search under a time budget) and Custom
// (one algorithm with hand-set hyperparameters).
type trainScreen struct {
	shell *Shell
	view  fyne.CanvasObject

	dataset  *widget.Select
	target   *widget.Select
	task     *widget.Select
	taskNote *widget.Label
	detail   *app.DatasetDetail // UI goroutine only

	tabs   *container.AppTabs
	custom *customForm
	automl *automlForm
}

var tasks = []string{"binary", "multiclass", "regression"}

func newTrainScreen(s *Shell) *trainScreen {
	t := &trainScreen{shell: s}
	t.dataset = widget.NewSelect(nil, func(ref string) { t.loadDataset(ref) })
	t.dataset.PlaceHolder = "Choose a dataset"
	t.target = widget.NewSelect(nil, func(string) { t.targetChanged() })
	t.target.PlaceHolder = "Choose the column to predict"
	t.task = widget.NewSelect(tasks, func(string) { t.taskChanged() })
	t.task.PlaceHolder = "Choose a target first"
	t.taskNote = widget.NewLabel("")
	t.taskNote.SizeName = theme.SizeNameCaptionText
	t.taskNote.Truncation = fyne.TextTruncateEllipsis

	t.custom = newCustomForm(t)
	t.automl = newAutoMLForm(t)
	dataForm := widget.NewForm(
		widget.NewFormItem("Dataset", t.dataset),
		widget.NewFormItem("Target", t.target),
		widget.NewFormItem("Task", container.NewGridWithColumns(2, t.task, t.taskNote)),
	)
	t.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("AutoML", theme.SearchIcon(), t.automl.view),
		container.NewTabItemWithIcon("Custom", theme.SettingsIcon(), t.custom.view),
	)
	t.view = container.NewBorder(container.NewVBox(heading("Train a model"), dataForm), nil, nil, nil, t.tabs)
	return t
}

// newSeedEntry is a random seed's entry: 1 at first, a whole number ≥ 0,
// changed called on every edit.
func newSeedEntry(changed func()) *widget.Entry {
	e := widget.NewEntry()
	e.SetText("1")
	e.Validator = func(s string) error {
		if _, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err != nil {
			return fmt.Errorf("a whole number ≥ 0")
		}
		return nil
	}
	e.OnChanged = func(string) { changed() }
	return e
}

// seedValue is the seed an entry made by newSeedEntry holds (0 if invalid).
func seedValue(e *widget.Entry) uint64 {
	seed, _ := strconv.ParseUint(strings.TrimSpace(e.Text), 10, 64)
	return seed
}

// setDatasets refreshes the dataset choice; UI goroutine.
func (t *trainScreen) setDatasets(list []app.Dataset) {
	refs := make([]string, len(list))
	for i, d := range list {
		refs[i] = d.Ref
	}
	t.dataset.SetOptions(refs)
	if t.detail != nil && !slices.Contains(refs, t.detail.Ref) {
		t.detail = nil
		t.dataset.ClearSelected()
		t.target.SetOptions(nil)
		t.target.ClearSelected()
	}
}

func (t *trainScreen) onShow() {
	if t.dataset.Selected == "" && len(t.dataset.Options) > 0 {
		t.dataset.SetSelectedIndex(0)
	}
}

// selectRef chooses a dataset ("name@version") to train on.
func (t *trainScreen) selectRef(ref string) {
	selectOption(t.dataset, ref)
}

func (t *trainScreen) loadDataset(ref string) {
	t.taskNote.SetText("reading " + ref + "…")
	t.shell.background(func(ctx context.Context) {
		detail, err := t.shell.studio.Dataset(ctx, ref)
		post(func() {
			if t.dataset.Selected != ref {
				return
			}
			if err != nil {
				t.taskNote.SetText("")
				t.shell.showError("Could not open "+ref, err)
				return
			}
			t.detail = &detail
			var names []string
			for _, c := range detail.Schema {
				if c.Role != "ignore" && c.Role != "id" {
					names = append(names, c.Name)
				}
			}
			t.target.SetOptions(names)
			t.target.SetSelected(app.GuessTarget(detail.Schema))
			t.custom.datasetChanged()
			t.automl.taskChanged()
		})
	})
}

// datasetEdited reloads ref's columns if it is the chosen dataset: a role
// changed on the Data screen.
func (t *trainScreen) datasetEdited(ref string) {
	if t.dataset.Selected == ref {
		t.loadDataset(ref)
	}
}

func (t *trainScreen) column(name string) (app.ColumnInfo, bool) {
	if t.detail == nil {
		return app.ColumnInfo{}, false
	}
	for _, c := range t.detail.Schema {
		if c.Name == name {
			return c, true
		}
	}
	return app.ColumnInfo{}, false
}

func (t *trainScreen) targetChanged() {
	c, ok := t.column(t.target.Selected)
	if !ok {
		t.taskNote.SetText("")
		return
	}
	guess := app.GuessTask(c)
	t.task.SetSelected(guess)
	t.taskNote.SetText(fmt.Sprintf("detected from %s (%s distinct values)", c.Type, groupDigits(int64(c.Profile.Distinct))))
}

func (t *trainScreen) taskChanged() {
	if c, ok := t.column(t.target.Selected); ok && t.task.Selected != app.GuessTask(c) {
		t.taskNote.SetText("chosen by you (detected: " + app.GuessTask(c) + ")")
	}
	t.custom.validate()
	t.automl.taskChanged()
}

// ready says what is missing before training can start; "" when nothing.
func (t *trainScreen) ready() string {
	switch {
	case t.detail == nil:
		return "Choose a dataset."
	case t.target.Selected == "":
		return "Choose the column to predict."
	case t.task.Selected == "":
		return "Choose the task."
	}
	return ""
}

// customForm trains one algorithm with hyperparameters set by hand; each
// field is checked as it is typed against the algorithm's own rules.
type customForm struct {
	t    *trainScreen
	view fyne.CanvasObject

	algo   *widget.Select
	help   *widget.Label
	params *fyne.Container // the form of the chosen algorithm
	scroll *container.Scroll
	fields map[string]func() string
	layers *layerDesigner // nn only

	name    *widget.Entry
	seed    *widget.Entry
	holdout *widget.Entry
	status  *widget.Label
	train   *widget.Button
	specs   map[string]learn.Spec
}

func newCustomForm(t *trainScreen) *customForm {
	f := &customForm{t: t, specs: map[string]learn.Spec{}}
	var names []string
	for _, sp := range app.Algorithms() {
		f.specs[sp.Name] = sp
		names = append(names, sp.Name)
	}
	f.help = widget.NewLabel("")
	f.help.Wrapping = fyne.TextWrapWord
	f.params = container.NewVBox()
	f.name = widget.NewEntry()
	f.name.OnChanged = func(string) { f.validate() }
	f.seed = newSeedEntry(f.validate)
	f.holdout = widget.NewEntry()
	f.holdout.SetText(strconv.FormatFloat(app.DefaultHoldout, 'g', -1, 64))
	f.holdout.Validator = func(s string) error {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || v < 0 || v >= 0.9 {
			return fmt.Errorf("a fraction in [0, 0.9)")
		}
		return nil
	}
	f.holdout.OnChanged = func(string) { f.validate() }
	f.status = widget.NewLabel("")
	f.status.Wrapping = fyne.TextWrapWord
	f.train = widget.NewButtonWithIcon("Train", theme.MediaPlayIcon(), f.start)
	f.train.Importance = widget.HighImportance

	f.algo = widget.NewSelect(names, func(string) { f.algorithmChanged() })
	common := widget.NewForm(
		widget.NewFormItem("Model name", f.name),
		&widget.FormItem{Text: "Seed", Widget: f.seed, HintText: "same seed, same data: same model"},
		&widget.FormItem{Text: "Held-out share", Widget: f.holdout, HintText: "rows kept aside to score the model"},
	)
	body := container.NewVBox(
		widget.NewForm(widget.NewFormItem("Algorithm", f.algo)), f.help, f.params,
		widget.NewSeparator(), common)
	f.scroll = container.NewVScroll(body)
	f.view = container.NewBorder(nil, container.NewBorder(nil, nil, nil, f.train, f.status), nil, nil, f.scroll)
	f.algo.SetSelected("gbdt")
	return f
}

func (f *customForm) datasetChanged() {
	f.name.SetPlaceHolder(f.defaultName())
	f.validate()
}

func (f *customForm) defaultName() string {
	if f.t.detail == nil {
		return "model name"
	}
	return f.t.detail.Name + "-" + f.algo.Selected
}

// algorithmChanged rebuilds the hyperparameter fields, with their defaults.
func (f *customForm) algorithmChanged() {
	sp := f.specs[f.algo.Selected]
	f.help.SetText(sp.Help)
	f.fields = map[string]func() string{}
	f.layers = nil
	form := widget.NewForm()
	var extra []fyne.CanvasObject
	for _, p := range sp.Params {
		// The help wraps under the field (a form's hint text would not, and
		// would widen the window); it turns into the error while the value
		// is invalid.
		help := widget.NewLabel(p.Help + " — " + p.Describe())
		help.Wrapping = fyne.TextWrapWord
		help.SizeName = theme.SizeNameCaptionText
		field := func(w fyne.CanvasObject) fyne.CanvasObject { return container.NewBorder(nil, help, nil, nil, w) }
		switch {
		case sp.Name == "nn" && p.Name == "hidden":
			f.layers = newLayerDesigner(p.Default, f.validate)
			f.fields[p.Name] = f.layers.hidden
			extra = append(extra, widget.NewCard("Hidden layers", "From the input side; each fully connected, with the activation and dropout below.", f.layers.view))
		case p.Kind == "choice":
			sel := widget.NewSelect(p.Choices, func(string) { f.validate() })
			sel.SetSelected(p.Default)
			f.fields[p.Name] = func() string { return sel.Selected }
			if len(p.Choices) == 1 {
				sel.Disable() // shown, for the record, but there is nothing to choose
			}
			form.Append(p.Name, field(sel))
		case p.Kind == "bool":
			chk := widget.NewCheck("", func(bool) { f.validate() })
			chk.SetChecked(p.Default == "true")
			f.fields[p.Name] = func() string { return strconv.FormatBool(chk.Checked) }
			form.Append(p.Name, field(chk))
		default:
			e := widget.NewEntry()
			e.SetText(p.Default)
			name, algo, text := p.Name, sp.Name, help.Text
			e.Validator = func(s string) error {
				if err := app.CheckParams(algo, map[string]string{name: s}); err != nil {
					return fmt.Errorf("%s", shortParamError(err))
				}
				return nil
			}
			e.SetOnValidationChanged(func(err error) {
				if err != nil {
					help.SetText(err.Error())
					help.Importance = widget.DangerImportance
				} else {
					help.SetText(text)
					help.Importance = widget.MediumImportance
				}
				help.Refresh()
			})
			e.OnChanged = func(string) { f.validate() }
			f.fields[p.Name] = func() string { return e.Text }
			form.Append(p.Name, field(e))
		}
	}
	if sp.Name == "nn" {
		opt := widget.NewLabel("Optimiser: Adam (mini-batch), with the learning rate, batch size and epochs below; training stops early when the held-out loss stops improving.")
		opt.Wrapping = fyne.TextWrapWord
		extra = append(extra, opt)
	}
	f.params.Objects = append(extra, form)
	f.params.Refresh()
	if f.scroll != nil {
		// The scroll keeps the old form's height until told: a short form
		// after a long one would leave a blank stretch to scroll through.
		f.scroll.Content.Resize(f.scroll.Content.MinSize().Max(fyne.NewSize(f.scroll.Size().Width, 0)))
		f.scroll.Refresh()
	}
	f.name.SetPlaceHolder(f.defaultName())
	f.validate()
}

// shortParamError drops the "invalid hyperparameter: family:" prefix the
// learn package puts before the useful part.
func shortParamError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg[:i], "hyperparameter") {
		return msg[i+2:]
	}
	return msg
}

func (f *customForm) values() map[string]string {
	out := map[string]string{}
	for k, get := range f.fields {
		out[k] = strings.TrimSpace(get())
	}
	return out
}

// validate checks the whole form and says what is wrong next to Train.
func (f *customForm) validate() {
	if f.train == nil || f.fields == nil {
		return
	}
	msg := f.t.ready()
	if msg == "" {
		if err := app.CheckParams(f.algo.Selected, f.values()); err != nil {
			msg = shortParamError(err)
		} else if f.seed.Validate() != nil || f.holdout.Validate() != nil {
			msg = "Check the seed and the held-out share."
		}
	}
	if msg != "" {
		f.status.SetText(msg)
		f.status.Importance = widget.DangerImportance
		f.train.Disable()
	} else {
		f.status.SetText(fmt.Sprintf("Trains %s on %s to predict %s (%s).", f.algo.Selected, f.t.detail.Ref, f.t.target.Selected, f.t.task.Selected))
		f.status.Importance = widget.MediumImportance
		f.train.Enable()
	}
	f.status.Refresh()
}

func (f *customForm) options() app.TrainOptions {
	seed := seedValue(f.seed)
	holdout, _ := strconv.ParseFloat(strings.TrimSpace(f.holdout.Text), 64)
	return app.TrainOptions{Data: f.t.detail.Ref, Target: f.t.target.Selected, Task: f.t.task.Selected,
		Algorithm: f.algo.Selected, Params: f.values(), Name: strings.TrimSpace(f.name.Text), Seed: seed, Holdout: holdout}
}

func (f *customForm) start() {
	f.validate()
	if f.train.Disabled() {
		return
	}
	f.t.shell.startTraining(f.options())
}

// startTraining runs a custom training as a job with progress in the task
// bar, then says how it went.
func (s *Shell) startTraining(opts app.TrainOptions) {
	if s.task.busy() {
		s.showError("Another job is running", fmt.Errorf("wait for it to finish or cancel it, then press Train again"))
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	label := fmt.Sprintf("Training %s on %s", opts.Algorithm, opts.Data)
	s.task.start(label, cancel)
	progress := s.task.throttled(label)
	follow, finish := s.runs.followTraining(opts, cancel)
	s.background(func(context.Context) {
		defer cancel()
		res, err := s.studio.Train(ctx, opts, func(p app.Progress) {
			progress(p)
			follow(p)
		})
		finish()
		post(func() {
			s.task.finish()
			s.runs.liveBox.Hide()
			if res.RunID != 0 || err == nil {
				s.runs.selected = 0
				s.runs.reload(0) // the finished training, with its score and model
			}
			s.trainingDone(res, err)
		})
	})
}

// trainingDone reports a finished custom training; UI goroutine.
func (s *Shell) trainingDone(res app.TrainResult, err error) {
	if err != nil {
		if s.ctx.Err() != nil {
			return
		}
		if strings.Contains(err.Error(), context.Canceled.Error()) {
			return // the user cancelled: the task bar said so
		}
		s.showError("Training failed", err)
		return
	}
	names := app.SortedMetricNames(res.Metrics)
	var lines []string
	for _, n := range names {
		lines = append(lines, fmt.Sprintf("%s: %s", n, app.FormatNumber(res.Metrics[n])))
	}
	msg := "Registered " + res.Model.Ref + "."
	if len(lines) > 0 {
		msg += "\nOn the held-out rows: " + strings.Join(lines, " · ")
	}
	if s.canOpenModels() {
		dialog.ShowCustomConfirm("Model trained", "Open model", "Close", widget.NewLabel(msg), func(open bool) {
			if open {
				s.openModel(res.Model.Ref)
			}
		}, s.win)
		return
	}
	dialog.ShowInformation("Model trained", msg, s.win)
}

// layerDesigner edits nn's hidden layers: add, remove, set units.
type layerDesigner struct {
	view     fyne.CanvasObject
	rows     *fyne.Container
	add      *widget.Button
	diagram  *widget.Label
	units    []*widget.Entry
	onChange func()
}

const maxDesignerLayers = 8

func newLayerDesigner(hidden string, onChange func()) *layerDesigner {
	l := &layerDesigner{rows: container.NewVBox(), onChange: onChange}
	l.diagram = widget.NewLabel("")
	l.add = widget.NewButtonWithIcon("Add layer", theme.ContentAddIcon(), func() { l.addLayer("32"); l.changed() })
	for _, u := range strings.Split(hidden, ",") {
		l.addLayer(strings.TrimSpace(u))
	}
	l.view = container.NewVBox(l.rows, container.NewHBox(l.add), l.diagram)
	l.changed()
	return l
}

func (l *layerDesigner) addLayer(units string) {
	e := widget.NewEntry()
	e.SetText(units)
	e.Validator = func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 4096 {
			return fmt.Errorf("1 to 4096 units")
		}
		return nil
	}
	e.OnChanged = func(string) { l.changed() }
	l.units = append(l.units, e)
	l.relayout()
}

func (l *layerDesigner) remove(e *widget.Entry) {
	for i, x := range l.units {
		if x == e {
			l.units = append(l.units[:i], l.units[i+1:]...)
			break
		}
	}
	l.relayout()
	l.changed()
}

func (l *layerDesigner) relayout() {
	l.rows.Objects = nil
	for i, e := range l.units {
		rm := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { l.remove(e) })
		if len(l.units) == 1 {
			rm.Disable()
		}
		label := widget.NewLabel(fmt.Sprintf("Layer %d", i+1))
		l.rows.Add(container.NewHBox(label, container.NewGridWrap(fyne.NewSize(110, e.MinSize().Height), e), widget.NewLabel("units"), rm))
	}
	if len(l.units) >= maxDesignerLayers {
		l.add.Disable()
	} else {
		l.add.Enable()
	}
	l.rows.Refresh()
}

func (l *layerDesigner) hidden() string {
	parts := make([]string, len(l.units))
	for i, e := range l.units {
		parts[i] = strings.TrimSpace(e.Text)
	}
	return strings.Join(parts, ",")
}

func (l *layerDesigner) changed() {
	l.diagram.SetText("inputs → " + strings.ReplaceAll(l.hidden(), ",", " → ") + " → output")
	if l.onChange != nil {
		l.onChange()
	}
}
