package views

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
	"modelsmith/views/charts"
)

func init() {
	// Delayed chart redraws reach the widgets under the tests' UI lock.
	charts.Do = func(f func()) { post(f) }
}

// writeModelData writes a small seeded table whose target depends on x and
// colour: binary labels, or a number for regression.
func writeModelData(t *testing.T, task string, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	var b strings.Builder
	b.WriteString("x,colour,noise,target\n")
	colours := []string{"red", "green", "blue"}
	for i := range n {
		x := rng.NormFloat64()
		c := colours[rng.IntN(3)]
		v := 2*x + float64(i%3) - 1 + 0.4*rng.NormFloat64()
		if task == "binary" {
			label := "no"
			if v > 0 {
				label = "yes"
			}
			fmt.Fprintf(&b, "%.3f,%s,%.3f,%s\n", x, c, rng.Float64(), label)
		} else {
			fmt.Fprintf(&b, "%.3f,%s,%.3f,%.3f\n", x, c, rng.Float64(), v)
		}
	}
	path := filepath.Join(t.TempDir(), task+".csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func trainModel(t *testing.T, s *Shell, task, algo, name string) app.TrainResult {
	t.Helper()
	res, err := s.studio.Train(context.Background(), app.TrainOptions{Data: writeModelData(t, task, 600), Target: "target",
		Algorithm: algo, Name: name, Seed: 1, Holdout: 0.25}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// newModelsTest shows the Models screen alone in the shell's window.
func newModelsTest(t *testing.T) (*Shell, *modelsScreen, fyne.Window) {
	t.Helper()
	s, w := newTestShell(t)
	var m *modelsScreen
	onUI(func() {
		m = newModelsScreen(s)
		w.SetContent(m.view)
		w.Resize(fyne.NewSize(1200, 780))
	})
	return s, m, w
}

func TestModelsScreenBinary(t *testing.T) {
	s, m, w := newModelsTest(t)
	res := trainModel(t, s, "binary", "gbdt", "churn")
	onUI(func() { m.selectRef(res.Model.Ref) })
	eventually(t, "the report of churn@1", func() bool { return m.report != nil })
	onUI(func() {
		if m.title.Text != "churn@1" {
			t.Errorf("title %q", m.title.Text)
		}
		want := []fyne.CanvasObject{m.confusion, m.roc, m.pr, m.calibration}
		if len(m.chartGrid.Objects) != len(want) {
			t.Fatalf("%d charts shown, want confusion matrix, ROC, PR and calibration", len(m.chartGrid.Objects))
		}
		for i, o := range want {
			if m.chartGrid.Objects[i] != o {
				t.Errorf("chart %d is not the expected one", i)
			}
		}
		if len(m.metrics.Objects) != len(m.report.Metrics) || len(m.metrics.Objects) < 5 {
			t.Errorf("%d metric tiles for %d metrics", len(m.metrics.Objects), len(m.report.Metrics))
		}
		if !strings.Contains(m.status.Text, "150 held-out rows") {
			t.Errorf("status %q", m.status.Text)
		}
		if !cardHas(m, "Dataset SHA-256") || !cardHas(m, "CPU time") || !cardHas(m, "Parameters") {
			t.Errorf("model card lacks lineage or costs")
		}
	})
	// The charts draw at their laid-out size (once the throttle allows).
	eventually(t, "the charts to draw", func() bool {
		for _, c := range []*charts.Chart{m.confusion, m.roc, m.pr, m.calibration} {
			img := c.Image()
			if img == nil || img.Bounds().Dx() < 100 || c.Size().Width < 100 {
				return false
			}
			if d := img.Bounds().Dx() - int(c.Size().Width+0.5); d < -1 || d > 1 {
				return false
			}
		}
		return true
	})

	// The card's dataset opens it on the Data screen.
	dataset := res.Model.DatasetRef
	onUI(func() { m.tabs.SelectIndex(2) })
	onUI(func() { tapButton(t, m.card, dataset) })
	eventually(t, dataset+" on the Data screen", func() bool { return s.data.detail != nil && s.data.detail.Ref == dataset })
	_ = w
}

func TestModelsScreenMulticlass(t *testing.T) {
	s, m, _ := newModelsTest(t)
	iris, err := filepath.Abs(filepath.Join("..", "resources", "samples", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Another model is shown first: a new model moves it down a row, and
	// opening the new one by name must still show the new one.
	churn := trainModel(t, s, "binary", "gbdt", "churn")
	onUI(func() { m.selectRef(churn.Model.Ref) })
	eventually(t, "churn@1 shown", func() bool { return m.current != nil && m.current.Name == "churn" && m.report != nil })
	res, err := s.studio.Train(context.Background(), app.TrainOptions{Data: iris, Target: "species", Algorithm: "knn",
		Name: "flowers", Seed: 1, Holdout: 0.3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	onUI(func() { m.selectRef("flowers") })
	eventually(t, "the report of flowers@1", func() bool {
		return m.current != nil && m.current.Ref == res.Model.Ref && m.report != nil && m.report.OneVsRest != nil
	})
	onUI(func() {
		// A ROC and a PR chart, one curve per class against the rest; no
		// calibration (it is of one class).
		want := []fyne.CanvasObject{m.confusion, m.roc, m.pr}
		if len(m.chartGrid.Objects) != len(want) {
			t.Fatalf("%d charts shown, want confusion matrix, ROC and PR", len(m.chartGrid.Objects))
		}
		for i, o := range want {
			if m.chartGrid.Objects[i] != o {
				t.Errorf("chart %d is not the expected one", i)
			}
		}
		if len(m.report.OneVsRest) != 3 {
			t.Errorf("%d classes with curves, want 3", len(m.report.OneVsRest))
		}
	})
	eventually(t, "the ROC and PR charts to draw", func() bool { return m.roc.Renders() > 0 && m.pr.Renders() > 0 })
}

func TestModelsScreenRegression(t *testing.T) {
	s, m, _ := newModelsTest(t)
	trainModel(t, s, "regression", "linear", "price")
	onUI(func() { m.onShow() })
	eventually(t, "the model list", func() bool { return len(m.models) == 1 })
	onUI(func() { m.list.Select(0) })
	eventually(t, "the report of price@1", func() bool { return m.report != nil })
	onUI(func() {
		if len(m.chartGrid.Objects) != 2 || m.chartGrid.Objects[0] != m.fit || m.chartGrid.Objects[1] != m.residuals {
			t.Errorf("regression shows %d charts, want predicted-vs-actual and residuals", len(m.chartGrid.Objects))
		}
		if len(m.report.Importance) != 3 {
			t.Errorf("importance of %d columns", len(m.report.Importance))
		}
	})
	onUI(func() { m.tabs.SelectIndex(1) })
	eventually(t, "the importance chart", func() bool { return m.importance.Renders() > 0 })
}

func TestModelsScreenActions(t *testing.T) {
	s, m, w := newModelsTest(t)
	trainModel(t, s, "binary", "bayes", "churn")
	onUI(func() { m.selectRef("churn@1") })
	eventually(t, "churn@1 shown", func() bool { return m.current != nil && m.current.Ref == "churn@1" })

	// Stage: the picker writes through to the workspace.
	onUI(func() { m.stage.SetSelected("production") })
	eventually(t, "the stage to be saved", func() bool {
		return len(m.models) == 1 && m.models[0].Stage == "production"
	})
	info, err := s.studio.Model(context.Background(), "churn@1")
	if err != nil || info.Stage != "production" {
		t.Errorf("stored stage %q (%v)", info.Stage, err)
	}

	// Alias through its dialog.
	onUI(func() { m.askAlias() })
	onUI(func() {
		entry := findEntry(w.Canvas().Overlays().Top())
		if entry == nil {
			t.Fatal("no alias entry in the alias dialog")
		}
		entry.SetText("prod")
		tapButton(t, w.Canvas().Overlays().Top(), "Set")
	})
	eventually(t, "the alias in the header", func() bool { return strings.Contains(m.subtitle.Text, "alias prod") })

	// Export writes a native model file.
	exported := filepath.Join(t.TempDir(), "churn.msmodel")
	onUI(func() { m.exportTo("churn@1", "native", exported) })
	eventually(t, "the exported file", func() bool {
		b, err := os.ReadFile(exported)
		return err == nil && strings.HasPrefix(string(b), "MSBUNDLE")
	})

	// and an ONNX one.
	onnxPath := filepath.Join(t.TempDir(), "churn.onnx")
	onUI(func() { m.exportTo("churn@1", "onnx", onnxPath) })
	eventually(t, "the ONNX file", func() bool {
		st, err := os.Stat(onnxPath)
		return err == nil && st.Size() > 100
	})

	// Rename through its dialog.
	onUI(func() { m.askRename() })
	onUI(func() {
		entry := findEntry(w.Canvas().Overlays().Top())
		if entry == nil {
			t.Fatal("no name entry in the rename dialog")
		}
		entry.SetText("retention")
		tapButton(t, w.Canvas().Overlays().Top(), "Rename")
	})
	eventually(t, "the renamed model", func() bool { return m.current != nil && m.current.Ref == "retention@1" })
	eventually(t, "the alias to follow the rename", func() bool { return strings.Contains(m.subtitle.Text, "alias prod") })

	// Predict on a file, written as CSV.
	out := filepath.Join(t.TempDir(), "scored.csv")
	in := writeModelData(t, "binary", 40)
	onUI(func() { m.predictTo("retention@1", in, out) })
	eventually(t, "the predictions file", func() bool {
		_, err := os.Stat(out)
		return err == nil && !s.task.busy()
	})
	b, _ := os.ReadFile(out)
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 41 ||
		!strings.HasSuffix(lines[0], "prediction,proba_no,proba_yes") {
		t.Errorf("predictions file: %d lines, header %q", len(lines), lines[0])
	}

	// Delete, confirmed in its dialog, which names the alias that goes.
	onUI(func() { m.askDelete() })
	eventually(t, "the delete confirmation", func() bool {
		top := w.Canvas().Overlays().Top()
		return top != nil && buttonIn(top, "Delete") != nil
	})
	onUI(func() {
		if !hasText(w.Canvas().Overlays().Top(), "alias retention@prod") {
			t.Error("the delete confirmation does not name the alias pointing at the model")
		}
	})
	onUI(func() { tapButton(t, w.Canvas().Overlays().Top(), "Delete") })
	eventually(t, "the model to go", func() bool { return len(m.models) == 0 && m.current == nil })
	if list, _ := s.studio.Models(context.Background()); len(list) != 0 {
		t.Errorf("%d models left in the workspace", len(list))
	}
	onUI(func() {
		if !m.empty.Visible() || m.detail.Objects[0] != m.placeholder {
			t.Error("the empty list and placeholder are not shown after deleting the last model")
		}
	})
}

func TestModelsScreenEmptyMarkup(t *testing.T) {
	_, m, w := newModelsTest(t)
	onUI(func() { m.onShow() })
	eventually(t, "the empty list", func() bool { return m.empty.Visible() })
	onUI(func() {
		w.Resize(fyne.NewSize(900, 500))
		test.AssertRendersToMarkup(t, "models_empty.xml", w.Canvas())
	})
}

func cardHas(m *modelsScreen, key string) bool {
	for _, o := range m.card.Objects {
		if l, ok := o.(*widget.Label); ok && l.Text == key {
			return true
		}
	}
	return false
}

// walk visits o and everything inside it, widgets included.
func walk(o fyne.CanvasObject, visit func(fyne.CanvasObject) bool) bool {
	if o == nil {
		return false
	}
	if visit(o) {
		return true
	}
	switch t := o.(type) {
	case *fyne.Container:
		for _, c := range t.Objects {
			if walk(c, visit) {
				return true
			}
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(t).Objects() {
			if walk(c, visit) {
				return true
			}
		}
	}
	return false
}

func buttonIn(o fyne.CanvasObject, text string) *widget.Button {
	var found *widget.Button
	walk(o, func(c fyne.CanvasObject) bool {
		if b, ok := c.(*widget.Button); ok && b.Text == text {
			found = b
			return true
		}
		return false
	})
	return found
}

func hasText(o fyne.CanvasObject, text string) bool {
	return walk(o, func(c fyne.CanvasObject) bool {
		l, ok := c.(*widget.Label)
		return ok && strings.Contains(l.Text, text)
	})
}

func findEntry(o fyne.CanvasObject) *widget.Entry {
	var found *widget.Entry
	walk(o, func(c fyne.CanvasObject) bool {
		if e, ok := c.(*widget.Entry); ok {
			found = e
			return true
		}
		return false
	})
	return found
}

func tapButton(t *testing.T, o fyne.CanvasObject, text string) {
	t.Helper()
	b := buttonIn(o, text)
	if b == nil {
		t.Fatalf("no %q button", text)
	}
	test.Tap(b)
}

func TestCardValue(t *testing.T) {
	cases := []struct {
		name string
		in   any
		want string
	}{
		{"text", "adult@1", "adult@1"},
		{"number", 0.25, app.FormatNumber(0.25)},
		{"params", map[string]any{"b": "2", "a_b": 1.0}, "a b = 1\nb = 2"},
		{"records", []any{map[string]any{"score": 0.9, "trial": 3.0, "fit_seconds": 0.5}},
			"trial 3, score 0.9, fit seconds 0.5"},
		{"list", []any{"no", "yes"}, "no, yes"},
		{"empty", []any{}, "—"},
		{"bool", true, "true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := cardValue(c.in); got != c.want {
				t.Errorf("cardValue(%v) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// A model whose dataset is gone still shows its card, and says why it has
// no charts.
func TestModelsScreenWithoutDataset(t *testing.T) {
	s, m, _ := newModelsTest(t)
	res := trainModel(t, s, "binary", "bayes", "orphan")
	if _, err := s.studio.DeleteDataset(context.Background(), res.Model.DatasetRef); err != nil {
		t.Fatal(err)
	}
	onUI(func() { m.selectRef(res.Model.Ref) })
	eventually(t, "the evaluation to fail", func() bool { return strings.HasPrefix(m.status.Text, "Could not evaluate") })
	onUI(func() {
		if !strings.Contains(m.status.Text, res.Model.DatasetRef) {
			t.Errorf("status %q does not name the missing dataset", m.status.Text)
		}
		if len(m.chartGrid.Objects) != 0 || m.busy.Visible() {
			t.Errorf("%d charts and a busy bar for a model that could not be evaluated", len(m.chartGrid.Objects))
		}
		if !cardHas(m, "Dataset SHA-256") {
			t.Error("no model card")
		}
	})
}
