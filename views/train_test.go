package views

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"modelsmith/app"
)

func TestCustomTrainingRegistersModel(t *testing.T) {
	s, w := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return len(s.train.dataset.Options) == 3 })
	onUI(func() {
		s.showNamed("Train")
		s.train.selectRef("iris@1")
	})
	eventually(t, "iris's columns", func() bool { return s.train.target.Selected == "species" })
	onUI(func() {
		if got := s.train.task.Selected; got != "multiclass" {
			t.Errorf("task detected as %q, want multiclass", got)
		}
		s.train.custom.algo.SetSelected("knn")
		if s.train.custom.train.Disabled() {
			t.Fatalf("Train is disabled: %s", s.train.custom.status.Text)
		}
		test.Tap(s.train.custom.train)
	})
	eventually(t, "the training to finish", func() bool { return !s.task.busy() && len(w.Canvas().Overlays().List()) > 0 })
	models, err := s.studio.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 1 || models[0].Ref != "iris-knn@1" || models[0].Task != "multiclass" {
		t.Fatalf("models after training: %+v", models)
	}
	onUI(func() {
		found := false
		for _, o := range w.Canvas().Overlays().List() {
			found = found || labelContaining(o, "Registered iris-knn@1")
		}
		if !found {
			t.Error("no dialog says the model was registered")
		}
	})
}

func TestCustomFormValidatesAsYouType(t *testing.T) {
	s, _ := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return len(s.train.dataset.Options) == 3 })
	onUI(func() { s.train.selectRef("iris@1") })
	eventually(t, "iris's columns", func() bool { return s.train.target.Selected == "species" })
	onUI(func() {
		f := s.train.custom
		f.algo.SetSelected("nn")
		if f.layers == nil || f.layers.hidden() != "64,32" {
			t.Fatalf("layer designer missing or wrong default")
		}
		f.layers.units[1].SetText("0")
		if !f.train.Disabled() || !strings.Contains(f.status.Text, "layer 2") {
			t.Errorf("a zero-unit layer is accepted: status %q", f.status.Text)
		}
		f.layers.units[1].SetText("8")
		f.layers.addLayer("4")
		f.layers.changed()
		if got := f.values()["hidden"]; got != "64,8,4" {
			t.Errorf("hidden = %q after editing, want 64,8,4", got)
		}
		if f.train.Disabled() {
			t.Errorf("valid nn form refused: %s", f.status.Text)
		}
		f.layers.remove(f.layers.units[0])
		if got := f.values()["hidden"]; got != "8,4" {
			t.Errorf("hidden = %q after removing the first layer, want 8,4", got)
		}
	})
}

func TestCustomTrainingFollowedOnRuns(t *testing.T) {
	s, _ := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return len(s.train.dataset.Options) == 3 })
	onUI(func() { s.train.selectRef("iris@1") })
	eventually(t, "iris's columns", func() bool { return s.train.target.Selected == "species" })
	onUI(func() {
		f := s.train.custom
		s.train.tabs.SelectIndex(1)
		f.algo.SetSelected("nn")
		f.fields["epochs"] = func() string { return "60" }
		f.fields["early_stopping_rounds"] = func() string { return "0" }
		test.Tap(f.train)
		if s.content.Objects[0] != s.runs.view {
			t.Error("Train does not show the Runs screen")
		}
	})
	eventually(t, "the training to finish", func() bool { return !s.task.busy() })
	eventually(t, "the finished training on Runs", func() bool {
		return len(s.runs.rows) == 1 && s.runs.rows[0].Status == "succeeded" && s.runs.selKind == "train"
	})
	eventually(t, "its learning curves", func() bool { return len(s.runs.curves) >= 2 && len(s.runs.curves[0].Steps) > 10 })
}

func TestCancelFollowedTraining(t *testing.T) {
	s, _ := newTestShell(t)
	onUI(func() {
		s.startTraining(app.TrainOptions{Data: "california_housing@1", Target: "median_house_value", Algorithm: "nn",
			Params: map[string]string{"epochs": "100000", "early_stopping_rounds": "0"}, Seed: 1, Holdout: 0.1})
	})
	eventually(t, "the training on Runs", func() bool { return s.runs.selected != 0 && len(s.runs.rows) == 1 })
	onUI(func() { test.Tap(s.runs.cancel) })
	eventually(t, "the training to stop", func() bool { return !s.task.busy() })
	eventually(t, "the cancelled run", func() bool { return len(s.runs.rows) == 1 && s.runs.rows[0].Status == "cancelled" })
	if models, _ := s.studio.Models(context.Background()); len(models) != 0 {
		t.Errorf("a cancelled training registered %d models", len(models))
	}
}
