package views

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// post runs fn on the UI goroutine; every result of background work reaches
// the widgets through it. It is fyne.Do, except in tests: Fyne's test driver
// runs fyne.Do at once on the calling goroutine, so the tests replace post
// with a version that also holds their UI lock.
var post = fyne.Do

// Shell is the main window's frame: navigation on the left, the current screen
// on the right, and a task bar for running work at the bottom. Screens reach
// the Studio, the window and each other through it.
type Shell struct {
	studio *app.Studio
	win    fyne.Window

	nav      *widget.List
	content  *fyne.Container
	task     *taskBar
	screens  []*screen
	home     *homeScreen
	data     *dataScreen
	jobs     *jobsScreen
	settings *settingsScreen
	train    *trainScreen
	runs     *runsScreen

	// switchWorkspace, when set (by the desktop window, not in tests), closes
	// this workspace and opens another one, new or existing, chosen by dialog.
	switchWorkspace func(create bool)

	// datasets is the workspace's dataset list as last loaded; UI goroutine only.
	datasets []app.Dataset

	// ctx is cancelled when the window closes, stopping any running work.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// screen is one entry of the navigation. A screen file builds its view and
// registers it in NewShell with one s.add line; onShow (optional) runs each
// time it is shown, selectRef (optional) shows one object by reference
// (a model "name@version" on the Models screen).
type screen struct {
	title     string
	icon      fyne.Resource
	view      fyne.CanvasObject
	onShow    func()
	selectRef func(ref string)
}

// NewShell builds the window's content for studio.
func NewShell(studio *app.Studio, win fyne.Window, switchWorkspace func(create bool)) *Shell {
	s := &Shell{studio: studio, win: win, switchWorkspace: switchWorkspace}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.task = newTaskBar()
	s.home = newHomeScreen(s)
	s.data = newDataScreen(s)
	s.jobs = newJobsScreen(s)
	s.settings = newSettingsScreen(s)
	s.train = newTrainScreen(s)
	s.runs = newRunsScreen(s)
	// The navigation, in order. Screens of later features add one line here.
	s.add(&screen{title: "Home", icon: theme.HomeIcon(), view: s.home.view, onShow: s.home.onShow})
	s.add(&screen{title: "Data", icon: theme.StorageIcon(), view: s.data.view, onShow: s.data.onShow, selectRef: s.data.selectRef})
	s.add(&screen{title: "Train", icon: theme.MediaPlayIcon(), view: s.train.view, onShow: s.train.onShow, selectRef: s.train.selectRef})
	s.add(&screen{title: "Runs", icon: theme.ListIcon(), view: s.runs.view, onShow: s.runs.onShow, selectRef: s.runs.selectRef})
	models := newModelsScreen(s)
	s.add(&screen{title: "Models", icon: theme.ComputerIcon(), view: models.view, onShow: models.onShow, selectRef: models.selectRef})
	deploy := newDeployScreen(s) // views/deploy.go
	s.add(&screen{title: "Deploy", icon: theme.UploadIcon(), view: deploy.view, onShow: deploy.onShow, selectRef: deploy.selectRef})
	s.add(&screen{title: "Jobs", icon: theme.HistoryIcon(), view: s.jobs.view, onShow: s.jobs.reload})
	s.add(&screen{title: "Settings", icon: theme.SettingsIcon(), view: s.settings.view, onShow: s.settings.onShow})
	s.content = container.NewStack()
	s.nav = widget.NewList(
		func() int { return len(s.screens) },
		func() fyne.CanvasObject {
			return container.NewHBox(widget.NewIcon(theme.HomeIcon()), widget.NewLabel("Navigation"))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			box := o.(*fyne.Container)
			box.Objects[0].(*widget.Icon).SetResource(s.screens[id].icon)
			box.Objects[1].(*widget.Label).SetText(s.screens[id].title)
		},
	)
	s.nav.OnSelected = func(id widget.ListItemID) { s.show(id) }
	s.nav.Select(0)
	s.reloadDatasets(nil)
	return s
}

// Content is the window's whole content.
func (s *Shell) Content() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("Modelsmith", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	left := container.NewBorder(container.NewPadded(title), nil, nil, nil, s.nav)
	split := container.NewHSplit(left, s.content)
	split.Offset = 0.16
	return container.NewBorder(nil, s.task.view, nil, nil, split)
}

// Close stops running work and waits for it, so that nothing writes to the
// workspace after it is closed.
func (s *Shell) Close() {
	s.cancel()
	s.wg.Wait()
}

func (s *Shell) show(id int) {
	sc := s.screens[id]
	s.content.Objects = []fyne.CanvasObject{sc.view}
	s.content.Refresh()
	if sc.onShow != nil {
		sc.onShow()
	}
}

// add appends a screen to the navigation.
func (s *Shell) add(sc *screen) { s.screens = append(s.screens, sc) }

// screenNamed is the registered screen with this title, or nil.
func (s *Shell) screenNamed(title string) *screen {
	for _, sc := range s.screens {
		if sc.title == title {
			return sc
		}
	}
	return nil
}

// showNamed switches to the screen with this title; false if there is none.
func (s *Shell) showNamed(title string) bool {
	for i, sc := range s.screens {
		if sc.title == title {
			s.nav.Select(i)
			return true
		}
	}
	return false
}

// openRef shows the object ref on the screen titled title (which must have a
// selectRef); false if no such screen is registered.
func (s *Shell) openRef(title, ref string) bool {
	sc := s.screenNamed(title)
	if sc == nil || sc.selectRef == nil {
		return false
	}
	sc.selectRef(ref)
	return s.showNamed(title)
}

// openDataset shows a dataset on the Data screen.
func (s *Shell) openDataset(ref string) { s.openRef("Data", ref) }

// openModel shows a model ("name@version") on the Models screen; false when
// this build has no Models screen registered.
func (s *Shell) openModel(ref string) bool { return s.openRef("Models", ref) }

// openExperiment shows an experiment's runs on the Runs screen; false when
// there is none.
func (s *Shell) openExperiment(id int64) bool { return s.openRef("Runs", strconv.FormatInt(id, 10)) }

// openSample makes sure sample dataset name is in the workspace (adding it
// back if it was deleted), shows it on the Data screen and hands its
// reference to then (if not nil).
func (s *Shell) openSample(name string, then func(ref string)) {
	s.background(func(ctx context.Context) {
		d, err := s.studio.AddSample(ctx, name, nil)
		post(func() {
			if err != nil {
				s.showError("Could not add the sample "+name, err)
				return
			}
			s.reloadDatasets(func() {
				if then != nil {
					then(d.Ref)
					return
				}
				s.openDataset(d.Ref)
			})
		})
	})
}

// canOpenModels says whether openModel can work, so that screens show their
// "Open model" actions only then.
func (s *Shell) canOpenModels() bool {
	sc := s.screenNamed("Models")
	return sc != nil && sc.selectRef != nil
}

// background runs fn off the UI goroutine; Close waits for it.
func (s *Shell) background(fn func(ctx context.Context)) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn(s.ctx)
	}()
}

// reloadDatasets loads the dataset list and hands it to the screens; then, on
// the UI goroutine, calls then (if not nil).
func (s *Shell) reloadDatasets(then func()) {
	s.background(func(ctx context.Context) {
		list, err := s.studio.Datasets(ctx)
		post(func() {
			if err != nil {
				s.showError("Could not list the datasets", err)
				return
			}
			s.datasets = list
			s.home.setDatasets(list)
			s.data.setDatasets(list)
			s.train.setDatasets(list)
			if then != nil {
				then()
			}
		})
	})
}

// Dropped imports the files dropped on the window, one after another.
func (s *Shell) Dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() != "file" {
			s.showError("Cannot import "+u.String(), fmt.Errorf("only files can be dropped here"))
			continue
		}
		paths = append(paths, u.Path())
	}
	s.importFiles(paths)
}

// openImportDialog lets the user pick a file to import.
func (s *Shell) openImportDialog() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			s.showError("Could not open the file", err)
			return
		}
		if r == nil {
			return
		}
		path := r.URI().Path()
		r.Close()
		s.importFiles([]string{path})
	}, s.win)
	d.Resize(fyne.NewSize(900, 600))
	d.Show()
}

// importFiles imports paths in the background with progress in the task bar;
// the first dataset imported is opened on the Data screen.
func (s *Shell) importFiles(paths []string) {
	if len(paths) == 0 {
		return
	}
	if s.task.busy() {
		s.showError("An import is already running", fmt.Errorf("wait for it to finish or cancel it, then drop the file again"))
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	s.task.start("Importing "+filepath.Base(paths[0]), cancel)
	s.background(func(context.Context) {
		defer cancel()
		var opened string
		var failures []string
		for i, p := range paths {
			label := fmt.Sprintf("Importing %s", filepath.Base(p))
			if len(paths) > 1 {
				label += fmt.Sprintf(" (%d of %d)", i+1, len(paths))
			}
			res, err := s.studio.ImportDataset(ctx, p, app.ImportOptions{}, s.task.throttled(label))
			if err != nil {
				failures = append(failures, err.Error())
				if ctx.Err() != nil {
					break
				}
				continue
			}
			if opened == "" {
				opened = res.Dataset.Ref
			}
		}
		post(func() {
			s.task.finish()
			if len(failures) > 0 {
				s.showError("Import failed", fmt.Errorf("%s", strings.Join(failures, "\n")))
			}
			s.reloadDatasets(func() {
				if opened != "" {
					s.openDataset(opened)
				}
			})
		})
	})
}

func (s *Shell) showError(title string, err error) {
	msg := widget.NewLabel(err.Error())
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustom(title, "Close", container.NewVScroll(msg), s.win)
	d.Resize(fyne.NewSize(560, 240))
	d.Show()
}

// taskBar shows the running job's progress and a Cancel button; hidden when
// nothing runs.
type taskBar struct {
	view     *fyne.Container
	label    *widget.Label
	bar      *widget.ProgressBar
	cancelFn context.CancelFunc
	cancel   *widget.Button

	mu   sync.Mutex
	last time.Time
}

func newTaskBar() *taskBar {
	t := &taskBar{label: widget.NewLabel(""), bar: widget.NewProgressBar()}
	t.label.Truncation = fyne.TextTruncateEllipsis // progress messages run long
	t.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		if t.cancelFn != nil {
			t.cancelFn()
			t.cancel.Disable()
			t.label.SetText(t.label.Text + " — cancelling")
		}
	})
	t.view = container.NewBorder(nil, nil, nil, t.cancel, container.NewGridWithColumns(2, t.label, t.bar))
	t.view.Hide()
	return t
}

func (t *taskBar) busy() bool { return t.cancelFn != nil }

func (t *taskBar) start(label string, cancel context.CancelFunc) {
	t.cancelFn = cancel
	t.label.SetText(label)
	t.bar.SetValue(0)
	t.cancel.Enable()
	t.view.Show()
}

func (t *taskBar) finish() {
	t.cancelFn = nil
	t.view.Hide()
}

// throttled returns a progress callback for worker goroutines that posts at
// most ~30 updates a second to the UI, one fyne.Do each.
func (t *taskBar) throttled(label string) func(app.Progress) {
	return func(p app.Progress) {
		t.mu.Lock()
		if time.Since(t.last) < 33*time.Millisecond {
			t.mu.Unlock()
			return
		}
		t.last = time.Now()
		t.mu.Unlock()
		post(func() {
			if t.cancelFn == nil {
				return
			}
			t.label.SetText(label + ": " + p.Message)
			if p.Fraction >= 0 {
				t.bar.SetValue(p.Fraction)
			}
		})
	}
}
