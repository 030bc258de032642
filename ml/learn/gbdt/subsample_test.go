package gbdt

import (
	"context"
	"math"
	"testing"

	"modelsmith/ml/learn"
)

// Row subsampling must not hurt a smooth fit: rows out of a round's sample
// still get that round's tree output (a bug once double-counted some rows
// and skipped others, because partitioning reorders the sampled rows).
func TestSubsampleKeepsFit(t *testing.T) {
	n := 2000
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = float64((i*7919)%n) / float64(n)
		y[i] = math.Sin(6 * x[i])
	}
	d := learn.Dataset{X: &learn.Features{Rows: n, Cols: []learn.Feature{{Name: "x", Num: x}}}, Y: y}
	r2 := func(sub float64) float64 {
		p := DefaultParams()
		p.NEstimators, p.LearningRate, p.Subsample = 100, 0.2, sub
		m := mustFit(t, context.Background(), p, d, learn.Options{Seed: 3})
		out := make([]float64, n)
		m.Predict(d.X, out)
		ss, st := 0.0, 0.0
		for i := range y {
			ss += (y[i] - out[i]) * (y[i] - out[i])
			st += y[i] * y[i]
		}
		return 1 - ss/st
	}
	full, half := r2(1), r2(0.5)
	if half < full-0.01 || half < 0.98 {
		t.Fatalf("R² with subsample 0.5: %.4f, without: %.4f", half, full)
	}
}

func TestTimeLimitKeepsRoundsSoFar(t *testing.T) {
	n := 500
	x := make([]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
		y[i] = float64(i % 7)
	}
	d := learn.Dataset{X: &learn.Features{Rows: n, Cols: []learn.Feature{{Name: "x", Num: x}}}, Y: y}
	p := DefaultParams()
	p.NEstimators, p.TimeLimit = 1000, 1e-9
	m := mustFit(t, context.Background(), p, d, learn.Options{Seed: 1})
	if len(m.Trees) != 1 {
		t.Fatalf("%d trees after a time limit of 1ns: want the first round only", len(m.Trees))
	}
	if _, err := New(Params{NEstimators: 1, LearningRate: 0.1, NumLeaves: 2, MaxBin: 2, MinChildSamples: 1, Subsample: 1, ColsampleByTree: 1, TimeLimit: -1}); err == nil {
		t.Fatal("a negative time limit was accepted")
	}
}
