package views

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"modelsmith/app"
)

// demoStep is one scene of the scripted demo: prepare it on the UI goroutine,
// wait for background work to settle, capture.
type demoStep struct {
	name    string
	prepare func(s *Shell)
	settle  time.Duration
	// until, if set, is polled on the UI goroutine after settling until it
	// holds (at most demoWait).
	until func(s *Shell) bool
	// wait steps only wait: no screenshot.
	wait bool
}

// demoSize is the window size of every screenshot.
var demoSize = fyne.NewSize(1200, 780)

// demoWait bounds a step's wait for its until condition.
const demoWait = 90 * time.Second

// runDemo drives the app through every screen, saving a PNG of each in light
// and dark theme to dir, then quits. It runs on its own goroutine.
func (d *desktop) runDemo(dir string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "modelsmith demo:", err)
		d.exit = 1
		post(d.app.Quit)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
		return
	}
	var shell *Shell
	var first, shown time.Duration
	fyne.DoAndWait(func() { shell, first, shown = d.shell, d.firstFrame, d.workspaceShown })
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
	log := []string{"first frame " + ms(first) + " after start; workspace with its screens shown " + ms(shown) + " after start"}

	steps := demoSteps(shell)
	for _, variant := range []string{app.ThemeLight, app.ThemeDark} {
		// Through the Settings control, as a user would: it saves the choice too.
		fyne.DoAndWait(func() { shell.settings.setTheme(variant); shell.settings.chooseTheme(shell.settings.themes.Selected) })
		for _, st := range steps {
			fyne.DoAndWait(func() {
				// Dialogs of the step before would cover this one.
				for _, o := range d.win.Canvas().Overlays().List() {
					d.win.Canvas().Overlays().Remove(o)
				}
				st.prepare(shell)
				// Back to the normal size: a screen too wide for it grows the
				// window, and the log says which.
				d.win.Resize(demoSize)
			})
			time.Sleep(st.settle)
			for deadline := time.Now().Add(demoWait); st.until != nil && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				ok := false
				fyne.DoAndWait(func() { ok = st.until(shell) })
				if ok {
					time.Sleep(600 * time.Millisecond) // let charts redraw
					break
				}
			}
			if st.wait {
				continue
			}
			name := filepath.Join(dir, st.name+"-"+variant+".png")
			if err := d.capture(name); err != nil {
				fail(err)
				return
			}
			var size fyne.Size
			fyne.DoAndWait(func() { size = d.win.Canvas().Size() })
			log = append(log, fmt.Sprintf("saved %s (window %.0f×%.0f)", name, size.Width, size.Height))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "demo.log"), []byte(strings.Join(log, "\n")+"\n"), 0o644); err != nil {
		fail(err)
		return
	}
	post(d.quit)
}

// demoSteps shows every registered screen in turn, some in several states:
// the Train forms, a search while it runs and after it finished.
func demoSteps(s *Shell) []demoStep {
	searchDone := func(s *Shell) bool {
		return s.runs.live != nil && s.runs.liveDone() && !s.task.busy() && len(s.runs.rows) > 0
	}
	scripted := map[string][]demoStep{
		"Data": {{name: "data", settle: 1500 * time.Millisecond, prepare: func(s *Shell) {
			s.openDataset("adult@1")
		}}},
		"Train": {
			{name: "train-automl", settle: 1200 * time.Millisecond, prepare: func(s *Shell) {
				s.showNamed("Train")
				s.train.selectRef("adult@1")
				s.train.tabs.SelectIndex(0)
			}},
			{name: "train-custom", settle: 800 * time.Millisecond, prepare: func(s *Shell) {
				s.train.tabs.SelectIndex(1)
				s.train.custom.algo.SetSelected("gbdt")
			}},
			{name: "train-nn", settle: 800 * time.Millisecond, prepare: func(s *Shell) {
				s.train.custom.algo.SetSelected("nn")
				s.train.custom.layers.addLayer("16")
				s.train.custom.layers.changed()
			}},
		},
		"Runs": {
			{name: "runs-training", settle: 6 * time.Second, prepare: func(s *Shell) {
				s.startTraining(app.TrainOptions{Data: "california_housing@1", Target: "median_house_value", Algorithm: "nn",
					Params: map[string]string{"hidden": "64,32,16", "epochs": "40"}, Seed: 1, Holdout: 0.1})
			}},
			{name: "training-done", wait: true, settle: time.Second, until: func(s *Shell) bool { return !s.task.busy() }, prepare: func(s *Shell) {}},
			{name: "runs-live", settle: 9 * time.Second, prepare: func(s *Shell) {
				s.startAutoML(app.AutoMLOptions{Data: "adult@1", Target: "income", Budget: 25 * time.Second, Seed: 1,
					Families: []string{"linear", "gbdt", "forest", "bayes"}})
			}},
			{name: "runs-done", settle: time.Second, until: searchDone, prepare: func(s *Shell) {}},
		},
		"Models": {
			{name: "models", settle: 8 * time.Second, prepare: func(s *Shell) {
				if s.runs.modelRef == "" || !s.openModel(s.runs.modelRef) {
					s.showNamed("Models")
				}
			}},
			// A multiclass model: one ROC and PR curve per class.
			{name: "models-multiclass-training", wait: true, settle: 500 * time.Millisecond, until: func(s *Shell) bool {
				return !s.task.busy()
			}, prepare: func(s *Shell) {
				s.startTraining(app.TrainOptions{Data: "iris@1", Target: "species", Algorithm: "knn", Name: "flowers",
					Seed: 1, Holdout: 0.3})
			}},
			{name: "models-multiclass", settle: 6 * time.Second, prepare: func(s *Shell) {
				if !s.openModel("flowers") { // its newest version
					s.showNamed("Models")
				}
			}},
		},
	}
	var steps []demoStep
	for _, sc := range s.screens {
		if st, ok := scripted[sc.title]; ok {
			steps = append(steps, st...)
			continue
		}
		title := sc.title
		steps = append(steps, demoStep{name: strings.ToLower(title), settle: 2 * time.Second,
			prepare: func(s *Shell) { s.showNamed(title) }})
	}
	return steps
}

// capture saves the window as a PNG. Fyne's Canvas.Capture reads OpenGL's
// front buffer, which under Xvfb (no compositor) reads back blank: then the
// X server's copy is taken with ImageMagick's import instead.
func (d *desktop) capture(path string) error {
	img := d.win.Canvas().Capture()
	if !uniform(img) {
		return savePNG(path, img)
	}
	var size fyne.Size
	var scale float32
	fyne.DoAndWait(func() {
		size = d.win.Canvas().Size()
		scale = d.win.Canvas().Scale()
	})
	w, h := int(size.Width*scale), int(size.Height*scale)
	out, err := exec.Command("import", "-window", "root", "-crop", fmt.Sprintf("%dx%d+0+0", w, h), "+repage", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("capture %s: the canvas reads back blank and ImageMagick's import failed: %v: %s", path, err, out)
	}
	return nil
}

// uniform says whether every sampled pixel of img has one colour.
func uniform(img image.Image) bool {
	b := img.Bounds()
	if b.Empty() {
		return true
	}
	r0, g0, b0, _ := img.At(b.Min.X, b.Min.Y).RGBA()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r != r0 || g != g0 || bb != b0 {
				return false
			}
		}
	}
	return true
}

func savePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("save screenshot: %w", err)
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("save screenshot %s: %w", path, err)
	}
	return f.Close()
}
