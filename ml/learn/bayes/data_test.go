package bayes

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
)

// datasets is the shared folder of real data sets, seen from this package.
const datasets = "../../../../shared/datasets"

// load reads a data set's train and test splits: every numeric column but the
// target becomes a feature; class labels are indexed in meta.json's order so
// both splits agree.
func load(t *testing.T, name string) (train, test learn.Dataset) {
	t.Helper()
	dir := filepath.Join(datasets, name)
	raw, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		t.Skipf("data set %s not available: %v", name, err)
	}
	var meta struct {
		Target  string   `json:"target"`
		Classes []string `json:"classes"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	read := func(file string) learn.Dataset {
		f, err := data.ReadFile(context.Background(), filepath.Join(dir, file), data.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d := learn.Dataset{X: &learn.Features{Rows: f.Rows()}, Classes: len(meta.Classes)}
		for _, c := range f.Columns {
			switch {
			case c.Name == meta.Target && d.Classes > 0:
				d.Y = make([]float64, f.Rows())
				for i, code := range c.Codes {
					k := slices.Index(meta.Classes, c.Levels[code])
					if k < 0 {
						t.Fatalf("%s: unknown class %q", file, c.Levels[code])
					}
					d.Y[i] = float64(k)
				}
			case c.Name == meta.Target:
				d.Y = c.Num
			case c.Kind == data.Numeric:
				d.X.Cols = append(d.X.Cols, learn.Feature{Name: c.Name, Num: c.Num})
			}
		}
		return d
	}
	return read("train.csv"), read("test.csv")
}

func predict(p learn.Predictor, X *learn.Features) []float64 {
	out := make([]float64, X.Rows*p.Outputs())
	p.Predict(X, out)
	return out
}

// accuracy of the most probable class.
func accuracy(prob []float64, k int, y []float64) float64 {
	var right int
	for i, yi := range y {
		row := prob[i*k : (i+1)*k]
		best := 0
		for c := range row {
			if row[c] > row[best] {
				best = c
			}
		}
		if best == int(yi) {
			right++
		}
	}
	return float64(right) / float64(len(y))
}

// auc is the ROC AUC of class 1's probability (column 1 of two), ties
// counting a half, by the rank-sum formula.
func auc(prob []float64, y []float64) float64 {
	n := len(y)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return prob[idx[a]*2+1] < prob[idx[b]*2+1] })
	var rankSum, pos float64
	for a := 0; a < n; {
		b := a
		for b < n && prob[idx[b]*2+1] == prob[idx[a]*2+1] {
			b++
		}
		mid := float64(a+b+1) / 2 // mean 1-based rank of the tie group
		for _, i := range idx[a:b] {
			if y[i] == 1 {
				rankSum += mid
				pos++
			}
		}
		a = b
	}
	neg := float64(n) - pos
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// r2 is the coefficient of determination.
func r2(pred, y []float64) float64 {
	var mean float64
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ssr, sst float64
	for i, v := range y {
		ssr += (v - pred[i]) * (v - pred[i])
		sst += (v - mean) * (v - mean)
	}
	return 1 - ssr/sst
}

// checkProbabilities fails unless every row of prob is a distribution.
func checkProbabilities(t *testing.T, prob []float64, k int) {
	t.Helper()
	for i := 0; i < len(prob); i += k {
		var s float64
		for _, v := range prob[i : i+k] {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("row %d: probability %v", i/k, v)
			}
			s += v
		}
		if math.Abs(s-1) > 1e-9 {
			t.Fatalf("row %d: probabilities sum to %v", i/k, s)
		}
	}
}
