package storage_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"modelsmith/storage"
)

func TestServingRecords(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	d := importDataset(t, ws, "sales", "a", 10, 4)
	_, _, m1 := train(t, ws, d, 0, "churn")
	_, _, m2 := train(t, ws, d, 0, "churn")

	update := func(fn func(tx *storage.Tx) error) error { return ws.Update(ctx, fn) }
	if err := update(func(tx *storage.Tx) error { return tx.SetModelAlias("churn", "prod", 1, time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	if err := update(func(tx *storage.Tx) error { return tx.SetModelAlias("churn", "prod", 2, time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		alias   string
		version int
	}{{"prod", 9}, {"7up", 1}, {"has space", 1}, {"", 1}} {
		err := update(func(tx *storage.Tx) error { return tx.SetModelAlias("churn", bad.alias, bad.version, time.Time{}) })
		if err == nil {
			t.Errorf("alias %q to version %d was accepted", bad.alias, bad.version)
		}
	}
	var tok storage.Token
	var dep storage.Deployment
	err := update(func(tx *storage.Tx) error {
		tok = storage.Token{Name: "ci", Hash: strings.Repeat("ab", 32), Prefix: "ms_ab"}
		if err := tx.InsertToken(&tok); err != nil {
			return err
		}
		dep = storage.Deployment{Name: "churn", ModelRef: "churn@prod", ModelID: m2.ID, Address: "127.0.0.1:8080",
			OwnerPID: 42, Settings: `{"max_body":1}`}
		if err := tx.InsertDeployment(&dep); err != nil {
			return err
		}
		return tx.InsertPredictions([]storage.Prediction{
			{DeploymentID: dep.ID, ModelID: m2.ID, RequestID: "r1", Inputs: `{"a":1}`, Outputs: `{"label":"x"}`, LatencyMS: 0.2},
			{DeploymentID: dep.ID, ModelID: m2.ID, RequestID: "r1", Row: 1, Inputs: `{"a":null}`, Outputs: `{"label":"y"}`, LatencyMS: 0.2},
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := update(func(tx *storage.Tx) error {
		return tx.InsertPredictions([]storage.Prediction{{DeploymentID: dep.ID + 100, RequestID: "r2", Inputs: `{}`, Outputs: `{}`}})
	}); err == nil {
		t.Error("a prediction of a missing deployment was stored")
	}
	if err := update(func(tx *storage.Tx) error { return tx.RevokeToken(tok.ID, time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	if err := update(func(tx *storage.Tx) error { return tx.RevokeToken(tok.ID, time.Time{}) }); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoking twice: %v, want ErrNotFound", err)
	}
	if err := update(func(tx *storage.Tx) error { return tx.FinishDeployment(dep.ID, "stopped", "", time.Time{}) }); err != nil {
		t.Fatal(err)
	}
	err = ws.View(ctx, func(tx *storage.Tx) error {
		a, err := tx.ModelAlias("churn", "prod")
		if err != nil || a.Version != 2 {
			t.Errorf("alias prod = %+v, %v; want version 2", a, err)
		}
		if _, err := tx.ModelAlias("churn", "staging"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("missing alias: %v", err)
		}
		if live, _ := tx.Tokens(false); len(live) != 0 {
			t.Errorf("revoked token still listed: %+v", live)
		}
		if all, _ := tx.Tokens(true); len(all) != 1 || all[0].RevokedAt.IsZero() {
			t.Errorf("tokens with revoked = %+v", all)
		}
		deps, err := tx.Deployments(false, 0)
		if err != nil || len(deps) != 1 || deps[0].Status != "stopped" || deps[0].StoppedAt.IsZero() || deps[0].ModelID != m2.ID {
			t.Errorf("deployments = %+v, %v", deps, err)
		}
		if n, err := tx.CountPredictions(dep.ID); n != 2 || err != nil {
			t.Errorf("%d predictions, %v; want 2", n, err)
		}
		ps, err := tx.Predictions(0, 1)
		if err != nil || len(ps) != 1 || ps[0].Row != 1 || ps[0].Inputs != `{"a":null}` {
			t.Errorf("newest prediction = %+v, %v", ps, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = m1
}

// BenchmarkInsertPredictions is the prediction log's cost per row: batches
// of 4,096 rows (what the server writes under load), one adult row each.
func BenchmarkInsertPredictions(b *testing.B) {
	ws, err := storage.Open(context.Background(), b.TempDir()+"/bench.modelsmith")
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	ctx := context.Background()
	var dep storage.Deployment
	if err := ws.Update(ctx, func(tx *storage.Tx) error {
		dep = storage.Deployment{Name: "a", ModelRef: "a", Address: "127.0.0.1:1"}
		return tx.InsertDeployment(&dep)
	}); err != nil {
		b.Fatal(err)
	}
	const batch = 4096
	rows := make([]storage.Prediction, batch)
	inputs := `{"age":39,"workclass":"State-gov","fnlwgt":77516,"education":"Bachelors","education_num":13,"marital_status":"Never-married","occupation":"Adm-clerical","relationship":"Not-in-family","race":"White","sex":"Male","capital_gain":2174,"capital_loss":0,"hours_per_week":40,"native_country":"United-States"}`
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		now := time.Now()
		for i := range rows {
			n++
			rows[i] = storage.Prediction{DeploymentID: dep.ID, At: now, RequestID: "bench-" + strconv.Itoa(n), Inputs: inputs,
				Outputs: `{"label":"<=50K","probabilities":{"<=50K":0.99,">50K":0.01}}`, LatencyMS: 0.1}
		}
		if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertPredictions(rows) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/row")
}
