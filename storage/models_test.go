package storage_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"modelsmith/storage"
)

// train records an experiment with one finished run, its curve and a
// registered model, as the train use case does.
func train(t *testing.T, ws *storage.Workspace, d storage.Dataset, jobID int64, model string) (storage.Experiment, storage.Run, storage.Model) {
	t.Helper()
	e := storage.Experiment{Kind: "train", DatasetID: d.ID, DatasetRef: d.Name + "@1", DatasetHash: d.Hash,
		Target: "y", Task: "binary", Metric: "roc_auc", Config: `{"algo":"gbdt"}`, JobID: jobID}
	r := storage.Run{Algorithm: "gbdt", Params: `{"n_estimators":"100"}`, Seed: 7, Score: math.NaN(), ScoreStd: math.NaN()}
	var m storage.Model
	err := ws.Update(context.Background(), func(tx *storage.Tx) error {
		if err := tx.InsertExperiment(&e); err != nil {
			return err
		}
		r.ExperimentID = e.ID
		if err := tx.InsertRun(&r); err != nil {
			return err
		}
		return tx.AddRunMetrics(r.ID, []storage.MetricPoint{
			{Name: "train_logloss", Step: 1, Value: 0.6}, {Name: "train_logloss", Step: 2, Value: 0.5},
			{Name: "valid_logloss", Step: 1, Value: math.NaN()},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if model == "" {
		return e, r, m
	}
	err = ws.Update(context.Background(), func(tx *storage.Tx) error {
		r.Status, r.Score, r.Metrics, r.FinishedAt = "succeeded", 0.93, `{"roc_auc":0.93}`, time.Now()
		if err := tx.UpdateRun(r); err != nil {
			return err
		}
		m = storage.Model{Name: model, RunID: r.ID, Algorithm: "gbdt", Task: "binary", Artifact: []byte("model bytes"),
			ArtifactSHA256: hashOf("model bytes"), Signature: `{"inputs":[]}`, Card: `{"seed":7}`}
		if err := tx.InsertModel(&m); err != nil {
			return err
		}
		return tx.FinishExperiment(e.ID, "succeeded", time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, r, m
}

func TestTrainingRecordsAndRegistry(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	d := importDataset(t, ws, "sales", "a", 10, 4)
	_, r1, m1 := train(t, ws, d, 0, "churn")
	_, _, m2 := train(t, ws, d, 0, "churn")
	if m1.Version != 1 || m2.Version != 2 {
		t.Errorf("versions %d, %d; want 1, 2", m1.Version, m2.Version)
	}
	err := ws.View(ctx, func(tx *storage.Tx) error {
		got, err := tx.Model("churn", 0)
		if err != nil {
			return err
		}
		if got.Version != 2 || string(got.Artifact) != "model bytes" || got.ArtifactBytes != int64(len("model bytes")) {
			t.Errorf("latest model = %+v", got)
		}
		if _, err := tx.Model("churn", 9); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Model(churn, 9) error = %v, want ErrNotFound", err)
		}
		list, err := tx.Models()
		if err != nil || len(list) != 2 || list[0].Artifact != nil {
			t.Errorf("Models() = %d models (artifacts must not be loaded), %v", len(list), err)
		}
		run, err := tx.Run(r1.ID)
		if err != nil {
			return err
		}
		if run.Status != "succeeded" || run.Score != 0.93 || !math.IsNaN(run.ScoreStd) {
			t.Errorf("run = %+v", run)
		}
		points, err := tx.RunMetrics(r1.ID)
		if err != nil {
			return err
		}
		if len(points) != 3 || !math.IsNaN(points[2].Value) || points[0].Value != 0.6 {
			t.Errorf("curve = %+v", points)
		}
		runs, err := tx.Runs(0, 0)
		if err != nil || len(runs) != 2 || runs[0].ID < runs[1].ID {
			t.Errorf("Runs = %+v, %v; want 2, newest first", runs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Deleting the dataset keeps the lineage by name and hash.
	if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.DeleteDataset(d.ID) }); err != nil {
		t.Fatal(err)
	}
	ws.View(ctx, func(tx *storage.Tx) error {
		e, err := tx.Experiment(r1.ExperimentID)
		if err != nil || e.DatasetID != 0 || e.DatasetRef != "sales@1" || e.DatasetHash != d.Hash {
			t.Errorf("experiment after dataset delete = %+v, %v", e, err)
		}
		return nil
	})
}

func TestInterruptRunsOfJob(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	d := importDataset(t, ws, "sales", "a", 10, 4)
	job := storage.Job{Kind: "train", Status: "running"}
	if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertJob(&job) }); err != nil {
		t.Fatal(err)
	}
	e, r, _ := train(t, ws, d, job.ID, "")
	if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InterruptRunsOfJob(job.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	ws.View(ctx, func(tx *storage.Tx) error {
		run, _ := tx.Run(r.ID)
		exp, _ := tx.Experiment(e.ID)
		if run.Status != "interrupted" || exp.Status != "interrupted" || run.FinishedAt.IsZero() {
			t.Errorf("run %q, experiment %q; want both interrupted", run.Status, exp.Status)
		}
		if list, _ := tx.Models(); len(list) != 0 {
			t.Errorf("an interrupted training registered %d models", len(list))
		}
		return nil
	})
}
