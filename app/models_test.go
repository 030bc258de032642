package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModelEdits(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Empty: true})
	if _, err := s.ImportDataset(ctx, irisPath(t), ImportOptions{Name: "iris"}, nil); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Train(ctx, TrainOptions{Data: "iris", Target: "species", Algorithm: "bayes", Name: "flowers"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	refs := func() string {
		list, err := s.Models(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range list {
			out = append(out, m.Ref+":"+m.Stage)
		}
		return strings.Join(out, " ")
	}

	t.Run("stage", func(t *testing.T) {
		m, err := s.SetModelStage(ctx, "flowers@1", "production")
		if err != nil || m.Stage != "production" {
			t.Fatalf("stage: %v %v", m.Stage, err)
		}
		if got := refs(); got != "flowers@1:production flowers@2:none" {
			t.Errorf("models %s", got)
		}
		if _, err := s.SetModelStage(ctx, "flowers", "live"); !errors.Is(err, ErrUsage) {
			t.Errorf("unknown stage: %v", err)
		}
	})

	t.Run("rename", func(t *testing.T) {
		if _, err := s.SetModelAlias(ctx, "flowers@1", "prod"); err != nil {
			t.Fatal(err)
		}
		if err := s.RenameModel(ctx, "flowers", "iris-bayes"); err != nil {
			t.Fatal(err)
		}
		// The alias follows the model to its new name.
		if m, err := s.Model(ctx, "iris-bayes@prod"); err != nil || m.Version != 1 {
			t.Errorf("iris-bayes@prod after the rename: %v %v", m.Ref, err)
		}
		if got := refs(); got != "iris-bayes@1:production iris-bayes@2:none" {
			t.Errorf("after rename: %s", got)
		}
		// The renamed model still predicts and reports.
		if _, err := s.ModelReport(ctx, "iris-bayes@2", nil); err != nil {
			t.Errorf("report after rename: %v", err)
		}
		for _, bad := range []string{"", "a@b", "a/b"} {
			if err := s.RenameModel(ctx, "iris-bayes", bad); !errors.Is(err, ErrUsage) {
				t.Errorf("rename to %q: %v", bad, err)
			}
		}
		if err := s.RenameModel(ctx, "nothing", "other"); err == nil || !strings.Contains(err.Error(), "nothing") {
			t.Errorf("rename a missing model: %v", err)
		}
		if _, err := s.Train(ctx, TrainOptions{Data: "iris", Target: "species", Algorithm: "bayes", Name: "taken"}, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.RenameModel(ctx, "iris-bayes", "taken"); err == nil || !strings.Contains(err.Error(), "taken") {
			t.Errorf("rename onto a taken name: %v", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		deps, err := s.ModelDependents(ctx, "iris-bayes@1")
		if err != nil || len(deps) != 1 || deps[0] != "alias iris-bayes@prod" {
			t.Errorf("dependents %v %v, want the alias prod", deps, err)
		}
		m, err := s.DeleteModel(ctx, "iris-bayes@1")
		if err != nil || m.Ref != "iris-bayes@1" {
			t.Fatalf("delete: %v %v", m.Ref, err)
		}
		if got := refs(); got != "iris-bayes@2:none taken@1:none" {
			t.Errorf("after delete: %s", got)
		}
		if _, err := s.DeleteModel(ctx, "iris-bayes@1"); err == nil {
			t.Errorf("deleted twice")
		}
		if aliases, err := s.ModelAliases(ctx, "iris-bayes"); err != nil || len(aliases) != 0 {
			t.Errorf("aliases left pointing at the deleted version: %v %v", aliases, err)
		}
		// The run that trained it stays, for lineage.
		runs, err := s.Runs(ctx, 0, 0)
		if err != nil || len(runs) != 3 {
			t.Errorf("%d runs after deleting a model (%v), want 3", len(runs), err)
		}
	})
}

func TestPredictToFile(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Empty: true})
	if _, err := s.Train(ctx, TrainOptions{Data: irisPath(t), Target: "species", Algorithm: "bayes", Name: "flowers"}, nil); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.csv")
	res, err := s.PredictToFile(ctx, "flowers", irisPath(t), out, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 151 || res.Input.Rows() != 150 {
		t.Fatalf("%d lines for %d rows", len(lines), res.Input.Rows())
	}
	if !strings.HasSuffix(lines[0], ",species,prediction,proba_setosa,proba_versicolor,proba_virginica") {
		t.Errorf("header %q", lines[0])
	}
	// A failure leaves nothing under the name asked for.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	if _, err := s.PredictToFile(ctx, "flowers", "no-such-data", bad, nil); err == nil {
		t.Error("no error for missing data")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("a failed prediction left %s (%v)", bad, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("temporary files left beside the output: %d entries", len(entries))
	}
}
