package app

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"modelsmith/ml/automl"
	"modelsmith/ml/learn"
	"modelsmith/storage"
)

const sharedData = "../../shared/datasets"

// The public training files of iris and breast_cancer: small enough for
// searches under the race detector.
var (
	irisTrain    = filepath.Join(sharedData, "iris", "train.csv")
	breastCancer = filepath.Join(sharedData, "breast_cancer", "train.csv")
)

// emptyStudio is a Studio on a new workspace without the sample datasets
// (importing them under the race detector takes longer than the searches).
func emptyStudio(t *testing.T) *Studio { return openStudio(t, Options{Empty: true}) }

func TestAutoMLRecordsEveryTrialAndRegistersTheBest(t *testing.T) {
	s := emptyStudio(t)
	ctx := context.Background()
	var events []AutoMLEvent
	var fractions []Progress
	res, err := s.AutoML(ctx, AutoMLOptions{Data: irisTrain, Target: "species", Trials: 5, Seed: 3,
		Families: []string{"linear", "gbdt", "knn"}},
		func(p Progress) { fractions = append(fractions, p) },
		func(ev AutoMLEvent) {
			events = append(events, ev)
			// A reader of the workspace sees the trial as soon as it is reported.
			if board, err := s.Leaderboard(ctx, ev.ExperimentID); err != nil || len(board) != ev.Done {
				t.Errorf("after trial %d the workspace shows %d trials (%v)", ev.Row.Trial, len(board), err)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 5 {
		t.Fatalf("%d events, want 5", len(events))
	}
	for i, ev := range events {
		if ev.Done != i+1 || ev.Planned != 5 || len(ev.Leaderboard) != i+1 || ev.ExperimentID != res.ExperimentID || ev.Metric != "accuracy" || !ev.Greater {
			t.Errorf("event %d: %+v", i, ev)
		}
		if ev.Row.RunID == 0 {
			t.Errorf("event %d: the trial's run was not recorded before the event", i)
		}
		for k := 1; k < len(ev.Leaderboard); k++ {
			if a, b := ev.Leaderboard[k-1].Score, ev.Leaderboard[k].Score; !math.IsNaN(b) && a < b {
				t.Errorf("event %d: leaderboard not best first: %v before %v", i, a, b)
			}
		}
	}
	// Progress goes forward within each job (the import's, then the search's).
	for i := 1; i < len(fractions); i++ {
		a, b := fractions[i-1], fractions[i]
		if a.JobID == b.JobID && b.Fraction < a.Fraction && b.Fraction >= 0 {
			t.Errorf("job %d: progress went back from %v (%s) to %v (%s)", a.JobID, a.Fraction, a.Stage, b.Fraction, b.Stage)
		}
	}
	if last := fractions[len(fractions)-1]; last.JobID != res.JobID || last.Fraction < 0.99 {
		t.Errorf("last progress %+v", last)
	}
	if res.Task != "multiclass" || res.Metric != "accuracy" || res.Model.Ref != "train-automl@1" || res.Score < 0.9 {
		t.Errorf("result: %+v", res)
	}
	if !strings.Contains(res.Validation, "fold") {
		t.Errorf("validation %q: iris is small, want k-fold CV", res.Validation)
	}

	// The workspace holds the same leaderboard: five trials and the final model.
	board, err := s.Leaderboard(ctx, res.ExperimentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(board) != 6 || len(res.Leaderboard) != 6 {
		t.Fatalf("leaderboard: %d rows stored, %d returned, want 6", len(board), len(res.Leaderboard))
	}
	finals := 0
	for i, row := range board {
		if row.Trial < 0 {
			finals++
			if row.RunID != res.Model.RunID || row.Note == "" {
				t.Errorf("final row %+v (model run %d)", row, res.Model.RunID)
			}
		}
		if row.Rank != 0 && row.Rank != i+1 {
			t.Errorf("row %d has rank %d", i, row.Rank)
		}
		if res.Leaderboard[i].RunID != row.RunID {
			t.Errorf("row %d: stored run %d, returned run %d", i, row.RunID, res.Leaderboard[i].RunID)
		}
	}
	if finals != 1 {
		t.Errorf("%d final rows", finals)
	}
	err = s.ws.View(ctx, func(tx *storage.Tx) error {
		trials, err := tx.Trials(res.ExperimentID, true)
		if err != nil {
			return err
		}
		for _, tr := range trials {
			if tr.Role == storage.RoleTrial && tr.Status == "succeeded" && (tr.OOFRows != 120 || tr.OOFOutputs != 3) {
				t.Errorf("trial %d keeps %d × %d out-of-fold predictions, want 120 × 3", tr.Index, tr.OOFRows, tr.OOFOutputs)
			}
		}
		e, err := tx.Experiment(res.ExperimentID)
		if err != nil {
			return err
		}
		if e.Kind != "automl" || e.Status != "succeeded" || e.Task != "multiclass" {
			t.Errorf("experiment %+v", e)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The model card says how it was found and what it relies on.
	m, err := s.Model(ctx, res.Model.Ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dataset", "dataset_sha256", "validation", "leaderboard", "seed", "importance", "cpu_seconds", "metric"} {
		if _, ok := m.Card[k]; !ok {
			t.Errorf("model card lacks %q", k)
		}
	}
	imp, _ := json.Marshal(m.Card["importance"])
	if !strings.Contains(string(imp), "petal") {
		t.Errorf("importance %s names no iris feature", imp)
	}
	// A working model (single or ensemble) predicts the 30 test flowers well; a
	// broken one (classes mixed up) scores about 1/3.
	if ev, err := s.Evaluate(ctx, res.Model.Ref, filepath.Join(sharedData, "iris", "test.csv"), nil); err != nil || ev.Metrics["accuracy"] < 0.8 {
		t.Errorf("evaluate: %+v, %v", ev, err)
	}

	exps, err := s.Experiments(ctx, 0)
	if err != nil || len(exps) != 1 || exps[0].Kind != "automl" || exps[0].Runs != 6 || exps[0].BestScore == nil {
		t.Errorf("experiments: %+v, %v", exps, err)
	}
}

func TestAutoMLIsDeterministicWithATrialCount(t *testing.T) {
	s := emptyStudio(t)
	ctx := context.Background()
	opts := AutoMLOptions{Data: breastCancer, Target: "diagnosis", Trials: 3, Seed: 11, Families: []string{"linear", "knn"}}
	a, err := s.AutoML(ctx, opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.AutoML(ctx, opts, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Score != b.Score || len(a.Leaderboard) != len(b.Leaderboard) {
		t.Errorf("same seed, two searches: %+v and %+v", a, b)
	}
	for i := range a.Leaderboard {
		ra, rb := a.Leaderboard[i], b.Leaderboard[i]
		if ra.Trial != rb.Trial || ra.Algorithm != rb.Algorithm || ra.Score != rb.Score {
			t.Errorf("leaderboard row %d: %+v and %+v", i, ra, rb)
		}
	}
	// The models differ only in their lineage (experiment id): they predict the same.
	test := filepath.Join(sharedData, "breast_cancer", "test.csv")
	pa, err := s.Predict(ctx, a.Model.Ref, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := s.Predict(ctx, b.Model.Ref, test, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pa.Out {
		if pa.Out[i] != pb.Out[i] {
			t.Fatalf("prediction %d: %v and %v", i, pa.Out[i], pb.Out[i])
		}
	}
	if a.Model.Ref != "train-automl@1" || b.Model.Ref != "train-automl@2" {
		t.Errorf("models %s, %s", a.Model.Ref, b.Model.Ref)
	}
}

func TestAutoMLCancelKeepsFinishedTrials(t *testing.T) {
	s := emptyStudio(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen int
	res, err := s.AutoML(ctx, AutoMLOptions{Data: irisTrain, Target: "species", Trials: 50, Seed: 1}, nil,
		func(ev AutoMLEvent) {
			seen++
			if seen == 2 {
				cancel()
			}
		})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want cancelled", err)
	}
	if res.ExperimentID == 0 || len(res.Leaderboard) < 2 {
		t.Fatalf("a cancelled search returned %+v", res)
	}
	board, err := s.Leaderboard(context.Background(), res.ExperimentID)
	if err != nil {
		t.Fatal(err)
	}
	if len(board) < 2 {
		t.Errorf("%d trials kept, want at least the 2 finished before cancel", len(board))
	}
	for _, r := range board {
		if r.Trial < 0 {
			t.Errorf("a cancelled search registered a final model: %+v", r)
		}
	}
	exps, _ := s.Experiments(context.Background(), 1)
	if len(exps) != 1 || exps[0].Status != "cancelled" {
		t.Errorf("experiment after cancel: %+v", exps)
	}
	if list, _ := s.Models(context.Background()); len(list) != 0 {
		t.Errorf("a cancelled search registered %+v", list)
	}

	// Resuming continues with the trials kept and ends with at least as many.
	res2, err := s.AutoML(context.Background(), AutoMLOptions{Resume: res.ExperimentID, Trials: len(board) + 2}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res2.ExperimentID != res.ExperimentID || res2.Model.Ref != "train-automl@1" {
		t.Errorf("resumed: %+v", res2)
	}
	after, _ := s.Leaderboard(context.Background(), res.ExperimentID)
	if len(after) != len(board)+3 {
		t.Errorf("%d rows after resume, want %d trials kept + 2 new + the final model", len(after), len(board))
	}
	if _, err := s.AutoML(context.Background(), AutoMLOptions{Resume: res.ExperimentID, Trials: 1}, nil, nil); !errors.Is(err, ErrUsage) {
		t.Errorf("resuming a finished search: %v", err)
	}
}

func TestAutoMLBadRequests(t *testing.T) {
	s := emptyStudio(t)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		opts AutoMLOptions
		want string
	}{
		{"no budget", AutoMLOptions{Data: irisTrain, Target: "species"}, "no budget"},
		{"negative budget", AutoMLOptions{Data: irisTrain, Target: "species", Budget: -1}, "negative"},
		{"unknown target", AutoMLOptions{Data: irisTrain, Target: "colour", Trials: 1}, `no column "colour"`},
		{"unknown metric", AutoMLOptions{Data: irisTrain, Target: "species", Trials: 1, Metric: "r2"}, "unknown multiclass metric"},
		{"unknown family", AutoMLOptions{Data: irisTrain, Target: "species", Trials: 1, Families: []string{"svm"}}, "svm"},
		{"one fold", AutoMLOptions{Data: irisTrain, Target: "species", Trials: 1, Folds: 1}, "folds"},
		{"more folds than rows", AutoMLOptions{Data: irisTrain, Target: "species", Trials: 1, Folds: 200}, "fewer than the 200 folds"},
		{"unknown experiment", AutoMLOptions{Resume: 99}, "no experiment 99"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.AutoML(ctx, c.opts, nil, nil)
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want a usage error with %q", err, c.want)
			}
		})
	}
	if exps, _ := s.Experiments(ctx, 0); len(exps) != 0 {
		t.Errorf("bad requests left experiments: %+v", exps)
	}
}

func TestLeaderboardRowJSON(t *testing.T) {
	row := LeaderboardRow{Rank: 0, RunID: 3, Trial: 2, Algorithm: "gbdt", Params: map[string]string{"num_leaves": "31"},
		Score: math.NaN(), ScoreStd: math.Inf(1), Status: "failed", Note: "boom"}
	b, err := json.Marshal(row)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"score":null`) || !strings.Contains(string(b), `"score_std":null`) {
		t.Errorf("a failed trial's scores are not null: %s", b)
	}
	var back LeaderboardRow
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.Score) || !math.IsNaN(back.ScoreStd) || back.Algorithm != "gbdt" || back.Params["num_leaves"] != "31" {
		t.Errorf("round trip: %+v", back)
	}
	res, err := json.Marshal(AutoMLResult{Score: math.NaN()})
	if err != nil || !strings.Contains(string(res), `"score":null`) {
		t.Errorf("result without a score: %s, %v", res, err)
	}
}

// FuzzLeaderboardRowJSON: whatever decodes encodes and decodes again to the
// same row (scores that are not finite become null, hence NaN).
func FuzzLeaderboardRowJSON(f *testing.F) {
	f.Add(`{"rank":1,"run_id":4,"trial":0,"algorithm":"linear","params":{"l2":"1"},"score":0.93,"score_std":null,"status":"succeeded"}`)
	f.Add(`{"score":null}`)
	f.Add(`{"score":1e308,"trial":-1,"note":"ensemble of 3"}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		var row LeaderboardRow
		if json.Unmarshal([]byte(s), &row) != nil {
			return
		}
		b, err := json.Marshal(row)
		if err != nil {
			t.Fatalf("%q decoded to %+v, which does not encode: %v", s, row, err)
		}
		var again LeaderboardRow
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatalf("%s does not decode: %v", b, err)
		}
		b2, _ := json.Marshal(again)
		if string(b) != string(b2) {
			t.Fatalf("not stable: %s then %s", b, b2)
		}
	})
}

// BenchmarkRecordTrial measures what recording one finished trial costs the
// search: its run, its automl_trials row with the out-of-fold predictions of
// a flights_delay-sized holdout (160,000 rows) and a 100-point learning
// curve, in one transaction.
func BenchmarkRecordTrial(b *testing.B) {
	s, err := Open(context.Background(), Options{Path: filepath.Join(b.TempDir(), "bench.modelsmith"), Empty: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	exp := storage.Experiment{Kind: "automl", DatasetRef: "flights@1", DatasetHash: strings.Repeat("0", 64),
		Target: "delayed", Task: "binary", Metric: "roc_auc"}
	if err := s.ws.Update(context.Background(), func(tx *storage.Tx) error { return tx.InsertExperiment(&exp) }); err != nil {
		b.Fatal(err)
	}
	rec := &trialRecorder{ws: s.ws, ctx: context.Background(), exp: exp.ID, seed: 1, outputs: 2}
	trial := automl.Trial{Algorithm: "gbdt", Params: map[string]string{"num_leaves": "63"}, Score: 0.77, ScoreStd: math.NaN(),
		Metrics: map[string]float64{"roc_auc": 0.77, "log_loss": 0.45}, Status: automl.Succeeded, OOF: make([]float64, 2*160_000)}
	for i := range 100 {
		trial.Curve = append(trial.Curve, learn.Iteration{Step: i + 1, Metric: "logloss", Loss: 0.5, ValidLoss: 0.52})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		trial.Index = i
		i++
		if _, err := rec.record(trial); err != nil {
			b.Fatal(err)
		}
	}
}

func TestAutoMLLeavesOutIgnoredColumns(t *testing.T) {
	s := emptyStudio(t)
	ctx := context.Background()
	imp, err := s.ImportDataset(ctx, irisTrain, ImportOptions{Name: "iris"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetColumnRole(ctx, imp.Dataset.Ref, "sepal_width_cm", "ignore"); err != nil {
		t.Fatal(err)
	}
	res, err := s.AutoML(ctx, AutoMLOptions{Data: imp.Dataset.Ref, Target: "species", Trials: 2, Seed: 1,
		Families: []string{"linear"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	sig := string(res.Model.Signature)
	if strings.Contains(sig, "sepal_width_cm") || !strings.Contains(sig, "sepal_length_cm") {
		t.Errorf("signature %s: want the ignored column left out and the others in", sig)
	}
}
