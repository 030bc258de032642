package nn

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
)

// datasets is the shared folder of real data sets, seen from this package.
const datasets = "../../../../shared/datasets"

// load reads a data set's train and test splits as the network wants them,
// doing by hand what ml/prep does in the app: numeric columns become
// features with missing values replaced by the training mean, categorical
// ones are one-hot encoded on the training split's levels, and class labels
// are indexed in sorted order so both splits agree.
func load(t testing.TB, name string) (train, test learn.Dataset) {
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
	classes := slices.Sorted(slices.Values(meta.Classes))
	read := func(file string) *data.Frame {
		f, err := data.ReadFile(context.Background(), filepath.Join(dir, file), data.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	tf, sf := read("train.csv"), read("test.csv")
	train = learn.Dataset{X: &learn.Features{Rows: tf.Rows()}, Classes: len(classes)}
	test = learn.Dataset{X: &learn.Features{Rows: sf.Rows()}, Classes: len(classes)}
	for j, tc := range tf.Columns {
		sc := sf.Columns[j]
		if sc.Name != tc.Name {
			t.Fatalf("column %d is %q in train.csv, %q in test.csv", j, tc.Name, sc.Name)
		}
		switch {
		case tc.Name == meta.Target && len(classes) > 0:
			train.Y, test.Y = labels(t, tc, classes), labels(t, sc, classes)
		case tc.Name == meta.Target:
			train.Y, test.Y = tc.Num, sc.Num
		case tc.Kind == data.Numeric:
			var sum float64
			var n int
			for _, x := range tc.Num {
				if !math.IsNaN(x) {
					sum, n = sum+x, n+1
				}
			}
			mean := sum / float64(max(n, 1))
			train.X.Cols = append(train.X.Cols, learn.Feature{Name: tc.Name, Num: impute(tc.Num, mean)})
			test.X.Cols = append(test.X.Cols, learn.Feature{Name: tc.Name, Num: impute(sc.Num, mean)})
		case tc.Kind == data.Categorical:
			for _, level := range slices.Sorted(slices.Values(tc.Levels)) {
				train.X.Cols = append(train.X.Cols, learn.Feature{Name: tc.Name + "=" + level, Num: oneHot(tc, level)})
				test.X.Cols = append(test.X.Cols, learn.Feature{Name: tc.Name + "=" + level, Num: oneHot(sc, level)})
			}
		}
	}
	return train, test
}

func labels(t testing.TB, c *data.Column, classes []string) []float64 {
	y := make([]float64, len(c.Codes))
	for i, code := range c.Codes {
		k := slices.Index(classes, c.Levels[code])
		if k < 0 {
			t.Fatalf("unknown class %q", c.Levels[code])
		}
		y[i] = float64(k)
	}
	return y
}

func impute(v []float64, mean float64) []float64 {
	out := slices.Clone(v)
	for i, x := range out {
		if math.IsNaN(x) {
			out[i] = mean
		}
	}
	return out
}

func oneHot(c *data.Column, level string) []float64 {
	out := make([]float64, len(c.Codes))
	for i, code := range c.Codes {
		if code >= 0 && c.Levels[code] == level {
			out[i] = 1
		}
	}
	return out
}

func predict(p learn.Predictor, X *learn.Features) []float64 {
	out := make([]float64, X.Rows*p.Outputs())
	p.Predict(X, out)
	return out
}

func classIndex(y []float64) []int {
	out := make([]int, len(y))
	for i, v := range y {
		out[i] = int(v)
	}
	return out
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

// head keeps d's first n rows (the splits are already shuffled).
func head(d learn.Dataset, n int) learn.Dataset {
	n = min(n, d.X.Rows)
	out := learn.Dataset{X: &learn.Features{Rows: n}, Y: d.Y[:n], Classes: d.Classes}
	for _, c := range d.X.Cols {
		c.Num = c.Num[:n]
		out.X.Cols = append(out.X.Cols, c)
	}
	if d.W != nil {
		out.W = d.W[:n]
	}
	return out
}
