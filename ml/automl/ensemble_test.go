package automl

import (
	"context"
	"math/rand/v2"
	"testing"

	"modelsmith/ml/data"
)

// searchWith makes a search over a synthetic regression problem whose
// trials have the given validation predictions.
func searchWith(t *testing.T, y []float64, preds ...[]float64) *search {
	t.Helper()
	x := make([]float64, len(y))
	for i := range x {
		x[i] = float64(i)
	}
	f := &data.Frame{Columns: []*data.Column{{Name: "x", Kind: data.Numeric, Num: x}, {Name: "y", Kind: data.Numeric, Num: y}}}
	p, err := newProblem(f, "y", Config{Trials: 1, Folds: 5})
	if err != nil {
		t.Fatal(err)
	}
	s := newSearch(p, Config{Trials: 1}, nil)
	for i, pr := range preds {
		tr := Trial{Index: i, Algorithm: "linear", Status: Succeeded, OOF: pr}
		tr.Metrics = s.scoreAll(pr)
		tr.Score = tr.Metrics["r2"]
		s.trials = append(s.trials, tr)
	}
	return s
}

func TestEnsembleSelectionNeverWorse(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 300
	y := make([]float64, n)
	noisy := func(scale float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = y[i] + scale*rng.NormFloat64()
		}
		return out
	}
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	t.Run("independent errors average out", func(t *testing.T) {
		s := searchWith(t, y, noisy(0.5), noisy(0.5), noisy(0.6), noisy(2))
		sel, ok := s.selectEnsemble(nil)
		if !ok || len(sel.trials) < 2 {
			t.Fatalf("no ensemble chosen: %+v", sel)
		}
		for _, tr := range s.trials {
			if sel.score < tr.Metrics["r2"] {
				t.Fatalf("ensemble r2 %v below trial %d's %v", sel.score, tr.Index, tr.Metrics["r2"])
			}
		}
		sum := 0.0
		for _, w := range sel.weights {
			sum += w
		}
		if sum < 1-1e-12 || sum > 1+1e-12 {
			t.Fatalf("weights sum to %v", sum)
		}
	})
	t.Run("a perfect model is not diluted", func(t *testing.T) {
		s := searchWith(t, y, noisy(1), append([]float64(nil), y...), noisy(1))
		if sel, ok := s.selectEnsemble(nil); ok {
			t.Fatalf("ensemble %+v chosen over a perfect model", sel)
		}
	})
}

func TestRunEnsembleBeatsBestSingleOnValidation(t *testing.T) {
	f := readSet(t, "diabetes", "train.csv")
	res, err := Run(context.Background(), f, "progression", Config{Trials: 10, Seed: 2, Families: fast}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Ensemble == nil {
		t.Skip("no ensemble chosen on this data")
	}
	for _, tr := range res.Trials {
		if v, ok := tr.Metrics["r2"]; ok && res.Score < v {
			t.Fatalf("ensemble validation r2 %v below trial %d's %v", res.Score, tr.Index, v)
		}
	}
	if res.Best.Meta["algorithm"] != "ensemble" || len(res.Best.Members) != len(res.Ensemble) {
		t.Fatalf("best %v with %d members for %d", res.Best.Meta, len(res.Best.Members), len(res.Ensemble))
	}
}
