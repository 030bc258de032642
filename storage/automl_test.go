package storage_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"modelsmith/storage"
)

// search records an AutoML experiment with n finished trials, as the AutoML
// use case does: one transaction per trial.
func search(t *testing.T, ws *storage.Workspace, d storage.Dataset, jobID int64, n int) storage.Experiment {
	t.Helper()
	ctx := context.Background()
	e := storage.Experiment{Kind: "automl", DatasetID: d.ID, DatasetRef: d.Name + "@1", DatasetHash: d.Hash,
		Target: "y", Task: "binary", Metric: "roc_auc", BudgetSeconds: 60, Config: `{"seed":1}`, JobID: jobID}
	if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertExperiment(&e) }); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		err := ws.Update(ctx, func(tx *storage.Tx) error {
			r := storage.Run{ExperimentID: e.ID, Algorithm: "gbdt", Params: `{"num_leaves":"31"}`, Seed: 1,
				Status: "succeeded", Score: 0.9 + float64(i)/100, ScoreStd: 0.01, FinishedAt: time.Now()}
			if err := tx.InsertRun(&r); err != nil {
				return err
			}
			return tx.InsertTrial(storage.Trial{RunID: r.ID, ExperimentID: e.ID, Index: i, Status: "succeeded",
				PredictMicros: 1.5, RefitParams: `{"num_leaves":"31","n_estimators":"57"}`, OOFRows: 3, OOFOutputs: 2, OOF: []float64{0.1, 0.9, 0.2, 0.8, float64(i), math.NaN()}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func TestAutoMLTrials(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	d := importDataset(t, ws, "d", "content", 3, 10)
	e := search(t, ws, d, 0, 3)

	err := ws.Update(ctx, func(tx *storage.Tx) error {
		r := storage.Run{ExperimentID: e.ID, Algorithm: "ensemble", Params: `{}`, Status: "succeeded", Score: 0.95}
		if err := tx.InsertRun(&r); err != nil {
			return err
		}
		if err := tx.InsertTrial(storage.Trial{RunID: r.ID, ExperimentID: e.ID, Role: storage.RoleFinal, Status: "succeeded",
			Note: "ensemble of 3"}); err != nil {
			return err
		}
		// A trial index is recorded once per search.
		dup := storage.Run{ExperimentID: e.ID, Algorithm: "gbdt", Params: `{}`}
		if err := tx.InsertRun(&dup); err != nil {
			return err
		}
		if err := tx.InsertTrial(storage.Trial{RunID: dup.ID, ExperimentID: e.ID, Index: 1, Status: "succeeded"}); err == nil {
			t.Error("a second trial 1 was accepted")
		}
		return errors.New("roll back the duplicate")
	})
	if err == nil || !strings.Contains(err.Error(), "roll back") {
		t.Fatal(err)
	}

	err = ws.View(ctx, func(tx *storage.Tx) error {
		trials, err := tx.Trials(e.ID, true)
		if err != nil {
			return err
		}
		if len(trials) != 3 {
			t.Fatalf("%d trials, want 3 (the final model's transaction was rolled back)", len(trials))
		}
		for i, tr := range trials {
			if tr.Index != i || tr.Role != storage.RoleTrial || len(tr.OOF) != 6 || tr.OOF[4] != float64(i) || tr.RefitParams == "" || !math.IsNaN(tr.OOF[5]) {
				t.Errorf("trial %d: %+v", i, tr)
			}
		}
		light, err := tx.Trials(e.ID, false)
		if err != nil {
			return err
		}
		if light[0].OOF != nil || light[0].OOFRows != 3 {
			t.Errorf("without OOF: %+v", light[0])
		}
		list, err := tx.Experiments("automl", 0)
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].Runs != 3 || math.Abs(list[0].MaxScore-0.92) > 1e-12 || math.Abs(list[0].MinScore-0.9) > 1e-12 {
			t.Errorf("experiments: %+v", list)
		}
		if other, err := tx.Experiments("train", 0); err != nil || len(other) != 0 {
			t.Errorf("train experiments: %v, %v", other, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// A search stopped and resumed runs again under a new job.
	err = ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.FinishExperiment(e.ID, "interrupted", time.Now()); err != nil {
			return err
		}
		if err := tx.RestartExperiment(e.ID, 0); err != nil {
			return err
		}
		if err := tx.RestartExperiment(e.ID, 0); !errors.Is(err, storage.ErrNotRestartable) {
			t.Errorf("restarting a running experiment: %v", err)
		}
		if err := tx.SetExperimentConfig(e.ID, `{"seed":1,"resumed":1}`); err != nil {
			return err
		}
		if err := tx.SetExperimentConfig(e.ID, `{"seed":`); err == nil {
			t.Error("bad config JSON accepted")
		}
		got, err := tx.Experiment(e.ID)
		if err != nil {
			return err
		}
		if got.Status != "running" || !got.FinishedAt.IsZero() || got.Config != `{"seed":1,"resumed":1}` {
			t.Errorf("restarted: %+v", got)
		}
		if err := tx.RestartExperiment(e.ID+100, 0); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("restart of a missing experiment: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Deleting the experiment takes its trials with it.
	db := rawDB(t, ws.Path())
	if _, err := db.Exec(`PRAGMA foreign_keys = ON; DELETE FROM experiments WHERE id = ?`, e.ID); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM automl_trials`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d trials left after deleting the experiment (%v)", n, err)
	}
}

func TestTrialOOFShapeIsChecked(t *testing.T) {
	ws := newWorkspace(t)
	d := importDataset(t, ws, "d", "content", 3, 10)
	e := search(t, ws, d, 0, 0)
	err := ws.Update(context.Background(), func(tx *storage.Tx) error {
		r := storage.Run{ExperimentID: e.ID, Algorithm: "gbdt", Params: `{}`}
		if err := tx.InsertRun(&r); err != nil {
			return err
		}
		return tx.InsertTrial(storage.Trial{RunID: r.ID, ExperimentID: e.ID, Status: "succeeded", OOFRows: 2, OOFOutputs: 2, OOF: []float64{1}})
	})
	if err == nil || !strings.Contains(err.Error(), "1 out-of-fold values for 2 rows × 2 outputs") {
		t.Errorf("got %v", err)
	}
}

func TestDecodeOOF(t *testing.T) {
	v := []float64{0, -1.5, math.Inf(1), math.NaN(), 1e-300, 3}
	got, err := storage.DecodeOOF(storage.EncodeOOF(v), 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range v {
		if math.Float64bits(got[i]) != math.Float64bits(v[i]) {
			t.Errorf("value %d: %v, want %v", i, got[i], v[i])
		}
	}
	for _, c := range []struct {
		bytes, rows, outputs int
	}{{47, 3, 2}, {48, 2, 2}, {8, -1, -1}, {0, 1, 0 + 1}} {
		if _, err := storage.DecodeOOF(make([]byte, c.bytes), c.rows, c.outputs); err == nil {
			t.Errorf("%d bytes as %d × %d: no error", c.bytes, c.rows, c.outputs)
		}
	}
}

// FuzzDecodeOOF: any bytes and shape either decode to exactly rows × outputs
// values that encode back to the same bytes, or give an error; never a panic.
func FuzzDecodeOOF(f *testing.F) {
	f.Add(storage.EncodeOOF([]float64{0.25, 0.75}), 1, 2)
	f.Add([]byte{1, 2, 3}, 1, 1)
	f.Add([]byte{}, 0, 5)
	f.Add(make([]byte, 16), 1<<62, 4)
	f.Fuzz(func(t *testing.T, b []byte, rows, outputs int) {
		v, err := storage.DecodeOOF(b, rows, outputs)
		if err != nil {
			return
		}
		if len(v) != rows*outputs || string(storage.EncodeOOF(v)) != string(b) {
			t.Fatalf("%d bytes as %d × %d: %d values that do not round-trip", len(b), rows, outputs, len(v))
		}
	})
}
