package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/model"
	"modelsmith/storage"
)

// writeSynthetic writes a seeded CSV: a numeric signal x, a categorical
// signal colour, and a pure noise column; for binary the label depends on x
// and colour, for regression the target is 3x + colour effect + noise.
func writeSynthetic(t *testing.T, task string, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	var b strings.Builder
	b.WriteString("x,colour,noise,target\n")
	colours := []string{"red", "green", "blue"}
	effect := map[string]float64{"red": -1, "green": 0, "blue": 1}
	for range n {
		x := rng.NormFloat64()
		c := colours[rng.IntN(3)]
		z := rng.NormFloat64()
		v := 3*x + effect[c] + 0.3*rng.NormFloat64()
		if task == "binary" {
			label := "no"
			if v > 0 {
				label = "yes"
			}
			fmt.Fprintf(&b, "%.4f,%s,%.4f,%s\n", x, c, z, label)
		} else {
			fmt.Fprintf(&b, "%.4f,%s,%.4f,%.4f\n", x, c, z, v)
		}
	}
	path := filepath.Join(t.TempDir(), "synthetic_"+task+".csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestModelReport(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Empty: true})

	t.Run("binary on held-out rows", func(t *testing.T) {
		res, err := s.Train(ctx, TrainOptions{Data: writeSynthetic(t, "binary", 1500), Target: "target",
			Algorithm: "gbdt", Params: map[string]string{"n_estimators": "40"}, Name: "bin", Seed: 3, Holdout: 0.2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var stages []string
		rep, err := s.ModelReport(ctx, "bin", func(p Progress) { stages = append(stages, p.Stage) })
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Heldout || rep.Rows != 300 {
			t.Errorf("evaluated %d rows, held out %v; want the 300 held-out rows", rep.Rows, rep.Heldout)
		}
		// The same split as training: the report's scores are the ones
		// Train recorded for the held-out rows.
		for name, want := range res.Metrics {
			if got := rep.Metrics[name]; math.Abs(got-want) > 1e-9 {
				t.Errorf("%s = %.6f in the report, %.6f at training", name, got, want)
			}
		}
		if len(rep.Confusion) != 2 || len(rep.Confusion[0]) != 2 {
			t.Fatalf("confusion matrix %v, want 2×2", rep.Confusion)
		}
		total := 0
		for _, r := range rep.Confusion {
			for _, c := range r {
				total += c
			}
		}
		if total != rep.Rows {
			t.Errorf("confusion matrix counts %d rows of %d", total, rep.Rows)
		}
		if len(rep.ROC) < 3 || len(rep.PR) < 3 {
			t.Fatalf("ROC %d points, PR %d points", len(rep.ROC), len(rep.PR))
		}
		if len(rep.Calibration) < 3 {
			t.Errorf("calibration: %d bins", len(rep.Calibration))
		}
		rows := 0.0
		for _, b := range rep.Calibration {
			rows += b.Threshold
			if b.X < 0 || b.X > 1 || b.Y < 0 || b.Y > 1 {
				t.Errorf("calibration bin %v outside [0,1]", b)
			}
		}
		if int(rows) != rep.Rows {
			t.Errorf("calibration bins hold %v rows of %d", rows, rep.Rows)
		}
		first, last := rep.ROC[0], rep.ROC[len(rep.ROC)-1]
		if first.X != 0 || first.Y != 0 || last.X != 1 || last.Y != 1 {
			t.Errorf("ROC runs from %v to %v, want (0,0) to (1,1)", first, last)
		}
		if len(rep.Importance) != 3 {
			t.Fatalf("importance of %d columns, want 3: %v", len(rep.Importance), rep.Importance)
		}
		if rep.Importance[0].Feature != "x" || rep.Importance[2].Feature != "noise" {
			t.Errorf("importance order %v: want x first and noise last", rep.Importance)
		}
		if math.Abs(rep.Importance[2].Mean) > 0.02 {
			t.Errorf("noise column importance %.4f, want about 0", rep.Importance[2].Mean)
		}
		if !strings.Contains(rep.ImportanceSource, "300 held-out rows") {
			t.Errorf("importance source %q", rep.ImportanceSource)
		}
		if len(stages) == 0 || stages[len(stages)-1] != "done" {
			t.Errorf("progress stages %v", stages)
		}
	})

	t.Run("regression subsamples its points", func(t *testing.T) {
		_, err := s.Train(ctx, TrainOptions{Data: writeSynthetic(t, "regression", 7000), Target: "target",
			Algorithm: "linear", Name: "reg", Seed: 5, Holdout: 0.8}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := s.ModelReport(ctx, "reg@1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != 5600 || len(rep.Actual) != ReportMaxPoints || len(rep.Residuals) != ReportMaxPoints {
			t.Errorf("%d rows, %d points, %d residuals; want 5600 rows and %d points", rep.Rows, len(rep.Actual),
				len(rep.Residuals), ReportMaxPoints)
		}
		for i := range rep.Actual {
			if d := rep.Actual[i] - rep.Predicted[i] - rep.Residuals[i]; math.Abs(d) > 1e-9 {
				t.Fatalf("point %d: residual %g is not actual %g − predicted %g", i, rep.Residuals[i], rep.Actual[i], rep.Predicted[i])
			}
		}
		if rep.Metrics["r2"] < 0.9 {
			t.Errorf("r2 %.3f on a near-linear target", rep.Metrics["r2"])
		}
		if rep.Confusion != nil || rep.ROC != nil {
			t.Errorf("classification charts on a regression model")
		}
		if !strings.Contains(rep.ImportanceSource, "2000 held-out rows") {
			t.Errorf("importance source %q, want a 2000-row sample", rep.ImportanceSource)
		}
	})

	t.Run("no holdout: the training data, said so", func(t *testing.T) {
		if _, err := s.ImportDataset(ctx, irisPath(t), ImportOptions{Name: "iris"}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Train(ctx, TrainOptions{Data: "iris", Target: "species", Algorithm: "knn", Name: "flowers"}, nil); err != nil {
			t.Fatal(err)
		}
		rep, err := s.ModelReport(ctx, "flowers", nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Heldout || rep.Rows != 150 || !strings.Contains(rep.Data, "optimistic") {
			t.Errorf("report on %d rows (held out %v): %q", rep.Rows, rep.Heldout, rep.Data)
		}
		if len(rep.Confusion) != 3 || rep.ROC != nil {
			t.Errorf("multiclass: confusion %v, ROC %d points", rep.Confusion, len(rep.ROC))
		}
		// One ROC and PR curve per class against the rest; their AUCs
		// average to the model's macro AUC.
		if len(rep.OneVsRest) != 3 {
			t.Fatalf("%d one-vs-rest curves, want 3", len(rep.OneVsRest))
		}
		sum := 0.0
		for i, c := range rep.OneVsRest {
			if c.Class != rep.Classes[i] || len(c.ROC) < 2 || len(c.PR) < 2 || c.AP <= 0 || c.AP > 1 {
				t.Errorf("class %d: %q, %d ROC and %d PR points, AP %v", i, c.Class, len(c.ROC), len(c.PR), c.AP)
			}
			if last := c.ROC[len(c.ROC)-1]; last.X != 1 || last.Y != 1 {
				t.Errorf("class %q: ROC ends at %+v", c.Class, last)
			}
			sum += c.AUC
		}
		if got, want := sum/3, rep.Metrics["roc_auc"]; math.Abs(got-want) > 1e-12 {
			t.Errorf("mean of the classes' AUCs %v, macro roc_auc %v", got, want)
		}
	})

	t.Run("errors name the model", func(t *testing.T) {
		if _, err := s.ModelReport(ctx, "nothing", nil); err == nil || !strings.Contains(err.Error(), "nothing") {
			t.Errorf("missing model: %v", err)
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.ModelReport(cctx, "bin", nil); err == nil {
			t.Errorf("cancelled context: no error")
		}
		// The dataset a model was trained on is gone: the error says so.
		reg, err := s.Model(ctx, "reg")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteDataset(ctx, reg.DatasetRef); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ModelReport(ctx, "reg", nil); err == nil || !strings.Contains(err.Error(), reg.DatasetRef) {
			t.Errorf("report with its dataset deleted: %v", err)
		}
	})
}

func TestStoredImportance(t *testing.T) {
	list := map[string]any{"importance": []any{
		map[string]any{"feature": "b", "mean": 0.1, "std": 0.01},
		map[string]any{"feature": "a", "mean": 0.3},
	}}
	got, ok := CardImportance(list)
	if !ok || len(got) != 2 || got[0].Feature != "a" || got[1].Std != 0.01 {
		t.Errorf("list form: %v %v", got, ok)
	}
	got, ok = CardImportance(map[string]any{"importance": map[string]any{"x": 0.5, "y": 0.7}})
	if !ok || got[0].Feature != "y" {
		t.Errorf("map form: %v %v", got, ok)
	}
	for _, bad := range []map[string]any{{}, {"importance": "high"}, {"importance": []any{1.0}}, {"importance": []any{}}} {
		if _, ok := CardImportance(bad); ok {
			t.Errorf("%v read as importance", bad)
		}
	}
}

// irisPath is the iris sample shipped in resources.
func irisPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "resources", "samples", "iris.csv"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An AutoML model is reported on its search's out-of-fold predictions
// (cross-validation on small data), or, with a holdout, on the search's
// held-out rows; its stored importance is used.
func TestModelReportAutoML(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Empty: true})
	for _, tc := range []struct {
		name  string
		folds int
		task  string
	}{{"cv", 0, "binary"}, {"regression-cv", 3, "regression"}} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := s.AutoML(ctx, AutoMLOptions{Data: writeSynthetic(t, tc.task, 400), Target: "target", Trials: 4,
				Seed: 2, Folds: tc.folds, Families: []string{"linear", "gbdt"}, Name: tc.name}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := s.ModelReport(ctx, res.Model.Ref, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Heldout || rep.Rows != 400 || !strings.Contains(rep.Data, "out-of-fold") {
				t.Errorf("report on %d rows, held out %v: %q", rep.Rows, rep.Heldout, rep.Data)
			}
			// The search's own validation score, give or take pooling: the
			// report scores all out-of-fold predictions at once, the search
			// may average its folds' scores.
			if got, want := rep.Metrics[rep.Metric], res.Model.Metrics[rep.Metric]; math.Abs(got-want) > 0.01 {
				t.Errorf("%s %.6f in the report, %.6f from the search", rep.Metric, got, want)
			}
			if rep.ImportanceSource != "stored with the model" || len(rep.Importance) != 3 {
				t.Errorf("importance %v from %q", rep.Importance, rep.ImportanceSource)
			}
		})
	}
}

// A search on large data validates on a holdout. Such a search takes long
// to run in a test, so its record is written here as AutoML writes it: an
// automl experiment whose trial kept its predictions on the held-out rows,
// and a model whose card names that trial and the validation. The report
// must find exactly those rows again.
func TestModelReportSearchHoldout(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Empty: true})
	base, err := s.Train(ctx, TrainOptions{Data: writeSynthetic(t, "binary", 1500), Target: "target",
		Algorithm: "linear", Name: "base", Seed: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pipe, stored, err := s.loadModel(ctx, base.Model.Ref, true)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := s.Dataset(ctx, base.Model.DatasetRef)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := s.Frame(ctx, ds.Ref)
	if err != nil {
		t.Fatal(err)
	}
	y, _, err := model.Labels(frame.Column("target"), "binary")
	if err != nil {
		t.Fatal(err)
	}
	_, held := data.Holdout(frame.Rows(), y, 2, 0.2, 4)
	oof, err := pipe.Predict(ctx, frame.Take(held))
	if err != nil {
		t.Fatal(err)
	}
	err = s.ws.Update(ctx, func(tx *storage.Tx) error {
		exp := storage.Experiment{Kind: "automl", DatasetID: ds.ID, DatasetRef: ds.Ref, DatasetHash: ds.Hash,
			Target: "target", Task: "binary", Metric: "roc_auc"}
		if err := tx.InsertExperiment(&exp); err != nil {
			return err
		}
		run := storage.Run{ExperimentID: exp.ID, Algorithm: "linear", Seed: 4, Status: "succeeded", Score: math.NaN(), ScoreStd: math.NaN()}
		if err := tx.InsertRun(&run); err != nil {
			return err
		}
		if err := tx.InsertTrial(storage.Trial{RunID: run.ID, ExperimentID: exp.ID, Index: 0, Status: "succeeded",
			OOF: oof, OOFRows: len(held), OOFOutputs: 2}); err != nil {
			return err
		}
		card := map[string]any{"kind": "automl", "experiment_id": exp.ID, "dataset": ds.Ref, "target": "target",
			"metric": "roc_auc", "seed": 4, "validation": fmt.Sprintf("stratified holdout 20%% (%d rows)", len(held)),
			"ensemble": []map[string]any{{"trial": 0, "weight": 1.0}}}
		m := stored
		m.ID, m.Name, m.Version, m.RunID, m.Card = 0, "searched", 0, run.ID, string(mustJSON(card))
		return tx.InsertModel(&m)
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.ModelReport(ctx, "searched", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Heldout || rep.Rows != len(held) || !strings.Contains(rep.Data, "search's predictions on 300 held-out rows") {
		t.Errorf("report on %d rows, held out %v: %q", rep.Rows, rep.Heldout, rep.Data)
	}
	want := scoreAll("binary", takeFloats(y, held), oof, 2)
	for name, v := range want {
		if math.Abs(rep.Metrics[name]-v) > 1e-12 {
			t.Errorf("%s %.6f, want %.6f from the stored predictions", name, rep.Metrics[name], v)
		}
	}
	// A validation the report cannot match to rows: the model's own
	// predictions on its training data, said so.
	err = s.ws.Update(ctx, func(tx *storage.Tx) error {
		m := stored
		m.ID, m.Name, m.Version = 0, "unmatched", 0
		m.Card = string(mustJSON(map[string]any{"kind": "automl", "experiment_id": 1, "dataset": ds.Ref,
			"validation": "holdout 13% (7 rows)", "ensemble": []map[string]any{{"trial": 0, "weight": 1.0}}}))
		return tx.InsertModel(&m)
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := s.ModelReport(ctx, "unmatched", nil); err != nil || rep.Heldout || !strings.Contains(rep.Data, "optimistic") {
		t.Errorf("unmatched validation: %q, %v", rep.Data, err)
	}
}

// BenchmarkModelReportFlights is the first open of a model on the Models
// screen for a large dataset: loading the 800k rows of flights_delay,
// recreating the split, predicting the 10% held out, and permutation
// importance on 2000 of them. Skipped without ../shared/datasets.
func BenchmarkModelReportFlights(b *testing.B) {
	path := filepath.Join(sharedData, "flights_delay", "train.csv.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skip("no flights_delay in ../shared/datasets")
	}
	ctx := context.Background()
	s, err := Open(ctx, Options{Path: filepath.Join(b.TempDir(), "bench.modelsmith"), Empty: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	res, err := s.Train(ctx, TrainOptions{Data: path, Target: "delayed", Algorithm: "gbdt",
		Params: map[string]string{"n_estimators": "30"}, Seed: 1, Holdout: DefaultHoldout}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.ModelReport(ctx, res.Model.Ref, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzStoredImportance: any card JSON is read without panicking, and
// importance read from it is sorted, largest first.
func FuzzStoredImportance(f *testing.F) {
	f.Add(`{"importance":[{"feature":"a","mean":0.1,"std":0.01},{"feature":"b","mean":0.3}]}`)
	f.Add(`{"importance":{"x":1,"y":-2}}`)
	f.Add(`{"permutation_importance":[{"feature":"a","importance":2}]}`)
	f.Fuzz(func(t *testing.T, card string) {
		var m map[string]any
		if json.Unmarshal([]byte(card), &m) != nil {
			return
		}
		imp, ok := CardImportance(m)
		if !ok {
			return
		}
		if len(imp) == 0 {
			t.Fatal("ok with no importance")
		}
		for i := 1; i < len(imp); i++ {
			if imp[i].Mean > imp[i-1].Mean {
				t.Fatalf("not sorted: %v", imp)
			}
		}
	})
}
