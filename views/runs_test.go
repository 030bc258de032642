package views

import (
	"context"
	"testing"

	"fyne.io/fyne/v2/test"
)

// startAutoML fills the AutoML form as a user would and presses Start.
func startAutoML(t *testing.T, s *Shell, ref, target, metric string, families []string, trials, budget string) {
	t.Helper()
	eventually(t, "the dataset list", func() bool { return len(s.train.dataset.Options) == 3 })
	onUI(func() {
		s.showNamed("Train")
		s.train.selectRef(ref)
	})
	eventually(t, ref+"'s columns", func() bool { return s.train.target.Selected == target })
	onUI(func() {
		f := s.train.automl
		if got := f.metric.Selected; got != metric {
			t.Errorf("metric for %s = %q, want %s", target, got, metric)
		}
		f.trials.SetText(trials)
		f.budget.SetText(budget)
		f.families.SetSelected(families)
		if f.start.Disabled() {
			t.Fatalf("Start is disabled: %s", f.status.Text)
		}
		test.Tap(f.start)
		if s.content.Objects[0] != s.runs.view {
			t.Error("starting AutoML does not show the Runs screen")
		}
	})
}

func TestAutoMLFillsLeaderboard(t *testing.T) {
	s, w := newTestShell(t)
	startAutoML(t, s, "iris@1", "species", "accuracy", []string{"linear", "bayes", "knn"}, "4", "2m")
	eventually(t, "the search to finish", func() bool { return s.runs.live != nil && s.runs.liveDone() && !s.task.busy() })
	eventually(t, "the finished leaderboard", func() bool { return len(s.runs.rows) >= 4 && s.runs.selected != 0 })
	onUI(func() {
		if s.runs.rows[0].Rank != 1 || s.runs.boardText(0, 0) != "1" {
			t.Errorf("first row rank %d", s.runs.rows[0].Rank)
		}
		if len(s.runs.exps) != 1 || s.runs.exps[0].Kind != "automl" || s.runs.exps[0].Status != "succeeded" {
			t.Errorf("experiments: %+v", s.runs.exps)
		}
		if len(s.runs.best) == 0 {
			t.Error("no best-score points")
		}
		found := false
		for _, o := range w.Canvas().Overlays().List() {
			found = found || labelContaining(o, "Registered iris-automl@1")
		}
		if !found {
			t.Error("no dialog names the registered model")
		}
	})
	models, err := s.studio.Models(context.Background())
	if err != nil || len(models) != 1 {
		t.Fatalf("models: %v %v", models, err)
	}
	eventually(t, "the Open model button", func() bool { return !s.runs.open.Hidden && s.runs.modelRef == "iris-automl@1" })
	onUI(func() {
		test.Tap(s.runs.open)
		if s.content.Objects[0] == s.runs.view {
			t.Error("Open model stayed on the Runs screen")
		}
	})
}

func TestAutoMLCancelKeepsTrials(t *testing.T) {
	s, _ := newTestShell(t)
	// The MLP takes a while a trial, even on iris: time to cancel.
	startAutoML(t, s, "iris@1", "species", "accuracy", []string{"nn"}, "", "10m")
	eventually(t, "a first trial on the leaderboard", func() bool { return len(s.runs.rows) > 0 })
	onUI(func() {
		if !s.runs.liveBox.Visible() {
			t.Error("no progress while the search runs")
		}
		test.Tap(s.runs.cancel)
	})
	eventually(t, "the search to stop", func() bool { return s.runs.liveDone() && !s.task.busy() })
	eventually(t, "the cancelled experiment", func() bool {
		return len(s.runs.exps) == 1 && s.runs.exps[0].Status == "cancelled"
	})
	onUI(func() {
		if s.runs.exps[0].Runs == 0 {
			t.Error("the cancelled search kept no trials")
		}
	})
	eventually(t, "Resume offered", func() bool { return !s.runs.resume.Hidden })
	models, _ := s.studio.Models(context.Background())
	if len(models) != 0 {
		t.Errorf("a cancelled search registered %d models", len(models))
	}
}

func TestTryAutoMLOnSample(t *testing.T) {
	s, _ := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return s.home.list.Length() == 3 })
	onUI(func() {
		try := findButton(s.home.samples.Objects[0], "Try AutoML")
		if try == nil {
			t.Fatal("the iris card has no Try AutoML button")
		}
		test.Tap(try)
	})
	eventually(t, "the search to start on the Runs screen", func() bool {
		return s.runs.live != nil && s.content.Objects[0] == s.runs.view
	})
	onUI(func() {
		o := s.runs.live.opts
		if o.Data != "iris@1" || o.Target != "species" || o.Task != "multiclass" || o.Budget != tryBudget {
			t.Errorf("Try AutoML started %+v", o)
		}
		test.Tap(s.runs.cancel)
	})
	eventually(t, "the search to stop", func() bool { return s.runs.liveDone() && !s.task.busy() })
}
