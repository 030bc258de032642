// Package learntest holds what the learner families' tests share: loading
// the public datasets in ../shared/datasets as learn.Datasets, predicting,
// and scoring with ml/metrics. Only _test.go files import it.
package learntest

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/metrics"
)

// Datasets is the shared folder of real datasets (../shared/datasets beside
// the repository), found from this file's location so that any package's
// tests can use it.
func Datasets() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared", "datasets")
}

// LoadNumeric reads a dataset's train and test splits: every numeric column
// but the target becomes a feature; class labels are indexed in meta.json's
// order so both splits agree. It skips the test when the data are absent.
func LoadNumeric(t *testing.T, name string) (train, test learn.Dataset) {
	t.Helper()
	dir := filepath.Join(Datasets(), name)
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

// Predict runs p on X and returns its outputs.
func Predict(p learn.Predictor, X *learn.Features) []float64 {
	out := make([]float64, X.Rows*p.Outputs())
	p.Predict(X, out)
	return out
}

func classIndex(y []float64) []int {
	yi := make([]int, len(y))
	for i, v := range y {
		yi[i] = int(v)
	}
	return yi
}

// Accuracy of the most probable class; prob has k values per row.
func Accuracy(prob []float64, k int, y []float64) float64 {
	_ = k // the row width is len(prob)/len(y)
	v, err := metrics.Accuracy(classIndex(y), prob, nil)
	if err != nil {
		return math.NaN()
	}
	return v
}

// AUC is the ROC AUC of class 1's probability (column 1 of two).
func AUC(prob []float64, y []float64) float64 {
	v, err := metrics.ROCAUC(classIndex(y), prob, nil)
	if err != nil {
		return math.NaN()
	}
	return v
}

// R2 is the coefficient of determination.
func R2(pred, y []float64) float64 {
	v, err := metrics.R2(y, pred, nil)
	if err != nil {
		return math.NaN()
	}
	return v
}

// CheckProbabilities fails unless every row of prob is a distribution.
func CheckProbabilities(t *testing.T, prob []float64, k int) {
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
