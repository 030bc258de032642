package automl

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"modelsmith/ml/data"
	"modelsmith/ml/learn/learntest"
)

func readSet(t *testing.T, name, file string) *data.Frame {
	t.Helper()
	f, err := data.ReadFile(context.Background(), filepath.Join(learntest.Datasets(), name, file), data.ReadOptions{})
	if err != nil {
		t.Skipf("dataset %s not available: %v", name, err)
	}
	return f
}

// fast keeps test searches quick: small families only.
var fast = []string{"linear", "gbdt", "forest", "bayes", "knn"}

func TestDeterministicWithTrialCount(t *testing.T) {
	for _, tc := range []struct{ name, target string }{{"iris", "species"}, {"breast_cancer", "diagnosis"}} {
		t.Run(tc.name, func(t *testing.T) {
			f := readSet(t, tc.name, "train.csv")
			cfg := Config{Trials: 9, Seed: 7, Families: fast}
			a, err := Run(context.Background(), f, tc.target, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := Run(context.Background(), f, tc.target, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Trials) != 9 || len(b.Trials) != 9 {
				t.Fatalf("trials: %d and %d, want 9", len(a.Trials), len(b.Trials))
			}
			for i := range a.Trials {
				ta, tb := a.Trials[i], b.Trials[i]
				if ta.Index != tb.Index || !reflect.DeepEqual(ta.Params, tb.Params) || ta.Score != tb.Score || !reflect.DeepEqual(ta.OOF, tb.OOF) {
					t.Fatalf("trial %d differs: %v %v %v vs %v %v %v", i, ta.Index, ta.Params, ta.Score, tb.Index, tb.Params, tb.Score)
				}
			}
			if a.Score != b.Score || a.Best.Meta["algorithm"] != b.Best.Meta["algorithm"] {
				t.Fatalf("results differ: %v %v vs %v %v", a.Score, a.Best.Meta, b.Score, b.Best.Meta)
			}
			pa, err := a.Best.Predict(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			pb, _ := b.Best.Predict(context.Background(), f)
			if !reflect.DeepEqual(pa, pb) {
				t.Fatal("the final models predict differently")
			}
			if !a.Refitted {
				t.Error("the best model was not refitted")
			}
		})
	}
}

func TestCancelKeepsFinishedTrials(t *testing.T) {
	f := readSet(t, "breast_cancer", "train.csv")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := 0
	res, err := Run(ctx, f, "diagnosis", Config{Trials: 50, Seed: 1, Families: fast}, func(e Event) {
		events++
		if e.Done == 3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if res == nil || len(res.Trials) != 3 || events != 3 {
		t.Fatalf("result %v with events %d: want the 3 finished trials", res, events)
	}
	if res.Best == nil || res.Refitted {
		t.Errorf("best %v refitted %v: want the best trial's fold model, not refitted", res.Best, res.Refitted)
	}
	for _, tr := range res.Trials {
		if tr.Status != Succeeded || math.IsNaN(tr.Score) {
			t.Errorf("trial %d: %s %v", tr.Index, tr.Status, tr.Score)
		}
	}
}

func TestResumeContinues(t *testing.T) {
	f := readSet(t, "iris", "train.csv")
	cfg := Config{Trials: 4, Seed: 3, Families: fast}
	first, err := Run(context.Background(), f, "species", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Trials = 8
	cfg.Prior = first.Trials
	var ran []int
	second, err := Run(context.Background(), f, "species", cfg, func(e Event) { ran = append(ran, e.Trial.Index) })
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Trials) != 8 {
		t.Fatalf("%d trials after resume, want 8", len(second.Trials))
	}
	if len(ran) != 4 || ran[0] != 4 {
		t.Fatalf("events for trials %v, want only the 4 new ones from index 4", ran)
	}
	seen := map[int]bool{}
	for _, tr := range second.Trials {
		if seen[tr.Index] {
			t.Fatalf("trial index %d twice", tr.Index)
		}
		seen[tr.Index] = true
	}
	for i := range 8 {
		if !seen[i] {
			t.Fatalf("trial index %d missing: %v", i, ran)
		}
	}
	if second.Score < first.Score {
		t.Errorf("resumed best %v below the prior best %v", second.Score, first.Score)
	}
}

func TestBadInput(t *testing.T) {
	num := func(name string, v ...float64) *data.Column {
		return &data.Column{Name: name, Kind: data.Numeric, Num: v}
	}
	cat := func(name string, levels []string, codes ...int32) *data.Column {
		return &data.Column{Name: name, Kind: data.Categorical, Levels: levels, Codes: codes}
	}
	good := &data.Frame{Columns: []*data.Column{
		num("x", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
		cat("y", []string{"a", "b"}, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1),
	}}
	budget := Config{Budget: time.Second}
	tests := []struct {
		name   string
		frame  *data.Frame
		target string
		cfg    Config
		want   string
	}{
		{"no budget", good, "y", Config{}, "no budget"},
		{"negative budget", good, "y", Config{Budget: -time.Second}, "negative"},
		{"missing target", good, "z", budget, `no target column "z"; the columns are "x", "y"`},
		{"constant target", &data.Frame{Columns: []*data.Column{num("x", 1, 2, 3), num("y", 4, 4, 4)}}, "y", budget, "constant"},
		{"fewer rows than folds", &data.Frame{Columns: []*data.Column{num("x", 1, 2, 3), num("y", 1.5, 2.5, 4.5)}}, "y", budget, "fewer than the 5 folds"},
		{"all features constant", &data.Frame{Columns: []*data.Column{num("x", 1, 1, 1, 1, 1, 1), num("y", 1.5, 2.5, 4.5, 1, 2, 3)}}, "y", budget, "every feature column is constant"},
		{"unknown family", good, "y", Config{Budget: time.Second, Families: []string{"svm"}}, `unknown algorithm family "svm"`},
		{"unknown metric", good, "y", Config{Budget: time.Second, Metric: "r2"}, `unknown binary metric "r2"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.frame, tc.target, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrBadInput) {
				t.Fatalf("Validate: %v, want an ErrBadInput containing %q", err, tc.want)
			}
			if _, err := Run(context.Background(), tc.frame, tc.target, tc.cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSingleExampleClassFallsBack(t *testing.T) {
	x := make([]float64, 30)
	codes := make([]int32, 30)
	for i := range x {
		x[i] = float64(i)
		codes[i] = int32(i % 2)
	}
	codes[29] = 2 // class "c" has one example
	f := &data.Frame{Columns: []*data.Column{{Name: "x", Kind: data.Numeric, Num: x},
		{Name: "y", Kind: data.Categorical, Levels: []string{"a", "b", "c"}, Codes: codes}}}
	res, err := Run(context.Background(), f, "y", Config{Trials: 2, Families: []string{"linear", "gbdt"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range res.Notes {
		found = found || strings.Contains(n, `class "c" has one example: stratification fell back`)
	}
	if !found || strings.Contains(res.Validation, "stratified") {
		t.Fatalf("notes %q, validation %q: want the fallback said", res.Notes, res.Validation)
	}
}

func TestFoldsWithoutAClassStillScore(t *testing.T) {
	// 3 positives in 40 rows: two of the five folds have none, where ROC
	// AUC is undefined.
	n := 40
	x := make([]float64, n)
	codes := make([]int32, n)
	for i := range x {
		x[i] = float64(i)
	}
	codes[5], codes[20], codes[33] = 1, 1, 1
	f := &data.Frame{Columns: []*data.Column{{Name: "x", Kind: data.Numeric, Num: x},
		{Name: "y", Kind: data.Categorical, Levels: []string{"no", "yes"}, Codes: codes}}}
	res, err := Run(context.Background(), f, "y", Config{Trials: 2, Families: []string{"linear", "bayes"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range res.Trials {
		if tr.Status != Succeeded || math.IsNaN(tr.Score) {
			t.Fatalf("trial %d: %s %v %s", tr.Index, tr.Status, tr.Score, tr.Error)
		}
	}
}
