package gbdt

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/learntest"
)

func TestRealDatasets(t *testing.T) {
	tests := []struct {
		name, dir, target string
		classify          bool
		metric            string
		min               float64
	}{
		{"iris accuracy", "iris", "species", true, "accuracy", 0.9},
		{"breast cancer AUC", "breast_cancer", "diagnosis", true, "auc", 0.99},
		{"diabetes R2", "diabetes", "progression", false, "r2", 0.35},
		{"adult AUC with defaults", "adult", "income", true, "auc", 0.925},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (testing.Short() || raceEnabled) && tc.dir == "adult" {
				t.Skip("adult takes a few seconds, a minute under -race")
			}
			s := loadSplit(t, tc.dir, "train.csv", "test.csv", tc.target, tc.classify)
			p := DefaultParams()
			if tc.dir == "diabetes" {
				// 353 rows: shallower, slower boosting generalises better.
				p.NumLeaves, p.LearningRate, p.MinChildSamples = 8, 0.05, 20
			}
			m := mustFit(t, context.Background(), p, s.train, learn.Options{Seed: 1})
			out := predict(m, s.test.X)
			var got float64
			switch tc.metric {
			case "accuracy":
				got = argmaxAccuracy(s.test.Y, out, m.Outputs())
			case "auc":
				got = auc(s.test.Y, positiveColumn(out, m.Outputs()))
			case "r2":
				got = r2(s.test.Y, out)
			}
			t.Logf("%s = %.4f (%d trees)", tc.metric, got, len(m.Trees))
			if got < tc.min {
				t.Errorf("%s = %.4f, want >= %.4f", tc.metric, got, tc.min)
			}
		})
	}
}

// synthetic makes a dataset with numeric, missing and categorical features.
func synthetic(n int, seed uint64, classes int) learn.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	x1 := make([]float64, n)
	x2 := make([]float64, n)
	c := make([]int32, n)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		x1[i] = rng.NormFloat64()
		x2[i] = rng.Float64() * 100
		if rng.IntN(10) == 0 {
			x2[i] = math.NaN()
		}
		c[i] = int32(rng.IntN(12))
		if rng.IntN(20) == 0 {
			c[i] = -1
		}
		f := x1[i]
		if math.IsNaN(x2[i]) {
			f += 2
		} else {
			f += 0.03 * x2[i]
		}
		if c[i] == 3 || c[i] == 7 || c[i] == 11 {
			f -= 1.5
		}
		f += 0.5 * rng.NormFloat64()
		switch classes {
		case 0:
			y[i] = f
		case 2:
			if f > 1.5 {
				y[i] = 1
			}
		default:
			y[i] = float64(min(classes-1, max(0, int(f+1))))
		}
	}
	return learn.Dataset{
		X: &learn.Features{Rows: n, Cols: []learn.Feature{
			{Name: "x1", Num: x1}, {Name: "x2", Num: x2}, {Name: "c", Codes: c, Levels: 12},
		}},
		Y: y, Classes: classes,
	}
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name    string
		classes int
		p       func(*Params)
	}{
		{"binary with subsampling", 2, func(p *Params) { p.Subsample, p.ColsampleByTree = 0.7, 0.67 }},
		{"multiclass", 3, func(p *Params) {}},
		{"regression", 0, func(p *Params) {}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := synthetic(70_000, 3, tc.classes) // over rowBlock rows, so blocked sums are exercised
			p := DefaultParams()
			p.NEstimators = 4
			if raceEnabled {
				p.NEstimators = 1
			}
			tc.p(&p)
			var first []byte
			for _, procs := range []int{1, 2, 5} {
				old := runtime.GOMAXPROCS(procs)
				m := mustFit(t, context.Background(), p, d, learn.Options{Seed: 42})
				runtime.GOMAXPROCS(old)
				b, err := m.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if first == nil {
					first = b
				} else if !bytes.Equal(first, b) {
					t.Fatalf("GOMAXPROCS=%d: model differs from GOMAXPROCS=1", procs)
				}
			}
			m := mustFit(t, context.Background(), p, d, learn.Options{Seed: 43})
			b, _ := m.MarshalBinary()
			if (p.Subsample < 1) && bytes.Equal(first, b) {
				t.Error("another seed gave the same subsampled model")
			}
		})
	}
}

func TestCancel(t *testing.T) {
	d := synthetic(20_000, 1, 2)
	p := DefaultParams()
	p.NEstimators = 100_000
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	l, _ := New(p)
	_, err := l.Fit(ctx, d, learn.Options{Progress: func(it learn.Iteration) {
		calls++
		// The training loss is computed every few rounds only; NaN between.
		if it.Total != 100_000 || it.Metric != "logloss" || math.IsNaN(it.Loss) != (it.Step%5 != 0) {
			t.Errorf("progress %+v", it)
		}
		if calls == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit after cancel: %v, want context.Canceled", err)
	}
	if calls > 4 {
		t.Errorf("%d rounds reported after cancelling at the 3rd", calls)
	}
}

func TestProgressAndEarlyStopping(t *testing.T) {
	d := synthetic(4000, 5, 2)
	v := synthetic(2000, 6, 2)
	p := DefaultParams()
	p.NEstimators = 500
	p.LearningRate = 0.3
	p.EarlyStoppingRounds = 10
	var its []learn.Iteration
	m := mustFit(t, context.Background(), p, d, learn.Options{Valid: &v, Progress: func(it learn.Iteration) { its = append(its, it) }})
	if len(its) == 0 || len(its) >= 500 {
		t.Fatalf("%d progress calls; early stopping should end well before 500", len(its))
	}
	best := math.Inf(1)
	bestStep := 0
	for i, it := range its {
		if it.Step != i+1 || math.IsNaN(it.ValidLoss) {
			t.Fatalf("iteration %d: %+v", i, it)
		}
		if it.ValidLoss < best {
			best, bestStep = it.ValidLoss, it.Step
		}
	}
	if len(m.Trees) != bestStep {
		t.Errorf("kept %d trees, best validation loss at round %d", len(m.Trees), bestStep)
	}
	var losses []float64
	for _, it := range its {
		if !math.IsNaN(it.Loss) {
			losses = append(losses, it.Loss)
		}
	}
	if len(losses) < 2 || losses[len(losses)-1] >= losses[0] {
		t.Errorf("training loss did not fall, or was reported fewer than twice: %v", losses)
	}
}

// TestFloat32Thresholds checks the ONNX contract: inputs are compared as
// float32, so rounding them to float32 first changes nothing.
func TestFloat32Thresholds(t *testing.T) {
	d := synthetic(5000, 9, 0)
	m := mustFit(t, context.Background(), DefaultParams(), d, learn.Options{})
	rounded := &learn.Features{Rows: d.X.Rows}
	for _, c := range d.X.Cols {
		if c.Num != nil {
			r := make([]float64, len(c.Num))
			for i, v := range c.Num {
				r[i] = float64(float32(v))
			}
			c.Num = r
		}
		rounded.Cols = append(rounded.Cols, c)
	}
	a, b := predict(m, d.X), predict(m, rounded)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("row %d: %v from float64 inputs, %v from float32", i, a[i], b[i])
		}
	}
	for _, tr := range m.Trees {
		for _, n := range tr.Nodes {
			if !n.IsLeaf() && n.Categories == nil && float32(float64(n.Threshold)) != n.Threshold {
				t.Fatal("threshold not a float32")
			}
		}
	}
}

func TestMissingAndUnseen(t *testing.T) {
	d := synthetic(5000, 11, 2)
	m := mustFit(t, context.Background(), DefaultParams(), d, learn.Options{})
	X := &learn.Features{Rows: 4, Cols: []learn.Feature{
		{Name: "x1", Num: []float64{0, math.NaN(), 0, 0}},
		{Name: "x2", Num: []float64{math.NaN(), 50, 50, 50}},
		{Name: "c", Codes: []int32{1, 1, -1, 99}, Levels: 100},
	}}
	out := predict(m, X)
	for i := 0; i < 4; i++ {
		p := out[2*i+1]
		if math.IsNaN(p) || p < 0 || p > 1 || !near(out[2*i]+p, 1, 1e-12) {
			t.Errorf("row %d: probabilities %v", i, out[2*i:2*i+2])
		}
	}
	// A code the model never saw is read as missing.
	if out[5] != out[7] {
		t.Errorf("unseen code 99 gives %v, missing gives %v", out[7], out[5])
	}
	t.Run("absent column reads as missing", func(t *testing.T) {
		short := &learn.Features{Rows: 1, Cols: []learn.Feature{{Name: "x1", Num: []float64{0}}}}
		o := predict(m, short)
		if math.IsNaN(o[0]) {
			t.Error("NaN output")
		}
	})
}

func TestCodecRoundTrip(t *testing.T) {
	for _, classes := range []int{0, 2, 3} {
		t.Run(map[int]string{0: "regression", 2: "binary", 3: "multiclass"}[classes], func(t *testing.T) {
			d := synthetic(3000, 13, classes)
			m := mustFit(t, context.Background(), DefaultParams(), d, learn.Options{})
			b, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			pr, err := Spec.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			a, c := predict(m, d.X), predict(pr.(*Model), d.X)
			for i := range a {
				if a[i] != c[i] {
					t.Fatalf("output %d: %v before encoding, %v after", i, a[i], c[i])
				}
			}
			b2, _ := pr.MarshalBinary()
			if !bytes.Equal(b, b2) {
				t.Error("re-encoding differs")
			}
			for cut := 0; cut < len(b); cut += 1 + len(b)/200 {
				if _, err := Decode(b[:cut]); err == nil {
					t.Fatalf("truncated at %d of %d bytes: no error", cut, len(b))
				}
			}
		})
	}
}

func TestSpec(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		ok     bool
	}{
		{"defaults", nil, true},
		{"xgboost names", map[string]string{"n_estimators": "10", "max_depth": "6", "colsample_bytree": "0.5"}, true},
		{"max_bin too big", map[string]string{"max_bin": "256"}, false},
		{"unknown name", map[string]string{"eta": "0.1"}, false},
		{"bad objective", map[string]string{"objective": "poisson"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Spec.Values(tc.values)
			if err == nil {
				_, err = Spec.New(v)
			}
			if (err == nil) != tc.ok {
				t.Errorf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
	t.Run("objective mismatch", func(t *testing.T) {
		p := DefaultParams()
		p.Objective = "l2"
		l, _ := New(p)
		if _, err := l.Fit(context.Background(), synthetic(100, 1, 2), learn.Options{}); !errors.Is(err, learn.ErrParam) {
			t.Errorf("l2 on classes: %v", err)
		}
	})
	t.Run("bad shapes", func(t *testing.T) {
		d := synthetic(100, 1, 2)
		d.Y = d.Y[:50]
		l, _ := New(DefaultParams())
		if _, err := l.Fit(context.Background(), d, learn.Options{}); err == nil {
			t.Error("no error")
		}
	})
}

func FuzzDecode(f *testing.F) {
	d := synthetic(500, 1, 3)
	p := DefaultParams()
	p.NEstimators = 2
	p.NumLeaves = 4
	m := mustFit(f, context.Background(), p, d, learn.Options{})
	b, _ := m.MarshalBinary()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		out := make([]float64, d.X.Rows*m.Outputs())
		m.Predict(d.X, out)
		b2, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

// A single row gets exactly the bits the batch walk gives it, by QuickScorer
// (trees of at most 64 leaves) and by the lockstep walk (larger trees):
// missing values, unseen codes, a tree count that is not a multiple of four,
// and every objective.
func TestOneRowMatchesBatch(t *testing.T) {
	for _, tc := range []struct {
		classes, leaves int
		quickScorer     bool
	}{{0, 31, true}, {2, 31, true}, {3, 31, true}, {0, 200, false}, {2, 200, false}, {3, 200, false}} {
		name := map[int]string{0: "regression", 2: "binary", 3: "multiclass"}[tc.classes] + "/" + strconv.Itoa(tc.leaves) + " leaves"
		t.Run(name, func(t *testing.T) {
			d := synthetic(3000, 17, tc.classes)
			p := DefaultParams()
			p.NEstimators, p.NumLeaves, p.MinChildSamples = 23, tc.leaves, 2
			m := mustFit(t, context.Background(), p, d, learn.Options{})
			if (m.flat.qs != nil) != tc.quickScorer {
				t.Fatalf("QuickScorer form built: %v, want %v", m.flat.qs != nil, tc.quickScorer)
			}
			X := &learn.Features{Rows: 204, Cols: make([]learn.Feature, len(d.X.Cols))}
			for j, c := range d.X.Cols {
				X.Cols[j] = c
				if c.Codes != nil {
					X.Cols[j].Codes = append(slices.Clone(c.Codes[:200]), -1, 99, 3, 7)
				} else {
					X.Cols[j].Num = append(slices.Clone(c.Num[:200]), math.NaN(), 0, math.Inf(1), math.Inf(-1))
				}
			}
			// Rows with a value exactly at a split's threshold (which goes
			// left), the others' values kept.
			for _, tr := range m.Trees {
				for _, n := range tr.Nodes {
					if n.IsLeaf() || n.Categories != nil || X.Rows >= 260 {
						continue
					}
					for j := range X.Cols {
						c := &X.Cols[j]
						if c.Codes != nil {
							c.Codes = append(c.Codes, c.Codes[X.Rows%200])
						} else if j == n.Feature {
							c.Num = append(c.Num, float64(n.Threshold))
						} else {
							c.Num = append(c.Num, c.Num[X.Rows%200])
						}
					}
					X.Rows++
				}
			}
			learntest.CheckOneRowMatchesBatch(t, m, X)
		})
	}
}
