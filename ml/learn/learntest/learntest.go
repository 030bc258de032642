// Package learntest holds what the learner families' tests share: loading
// the public datasets in ../shared/datasets as learn.Datasets, predicting,
// and scoring with ml/metrics; and building small columns by hand, which
// the prep, model and onnx tests share too. Only _test.go files import it.
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

// Split is a dataset's train and test parts, with the test part's
// categorical codes and class indices mapped onto the training part's levels
// by name.
type Split struct {
	Train, Test learn.Dataset
	Classes     []string
}

// LoadSplit reads <name>/<trainFile> and <name>/<testFile>: numeric and
// datetime columns become numeric features, categorical ones keep their codes
// (native categorical features); the target gives class indices (sorted
// labels) when classify, else regression values. It skips the test when the
// data are absent.
func LoadSplit(tb testing.TB, name, trainFile, testFile, target string, classify bool) Split {
	tb.Helper()
	tr := readFrame(tb, filepath.Join(Datasets(), name, trainFile))
	te := readFrame(tb, filepath.Join(Datasets(), name, testFile))
	var s Split
	var levels map[string][]string
	s.Train, s.Classes, levels = frameDataset(tb, tr, target, classify, nil, nil)
	s.Test, _, _ = frameDataset(tb, te, target, classify, s.Classes, levels)
	return s
}

func readFrame(tb testing.TB, path string) *data.Frame {
	tb.Helper()
	if _, err := os.Stat(path); err != nil {
		tb.Skipf("dataset not available: %v", err)
	}
	f, err := data.ReadFile(context.Background(), path, data.ReadOptions{})
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return f
}

// frameDataset converts a frame; with classes and levels given (the test
// part), class names and categorical levels are mapped onto them by name.
func frameDataset(tb testing.TB, f *data.Frame, target string, classify bool, classes []string, levels map[string][]string) (learn.Dataset, []string, map[string][]string) {
	tb.Helper()
	n := f.Rows()
	d := learn.Dataset{X: &learn.Features{Rows: n}}
	outLevels := map[string][]string{}
	for _, c := range f.Columns {
		if c.Name == target {
			continue
		}
		switch c.Kind {
		case data.Numeric, data.Datetime:
			d.X.Cols = append(d.X.Cols, learn.Feature{Name: c.Name, Num: c.Num})
		default:
			lv, codes := c.Levels, c.Codes
			if levels != nil {
				lv = levels[c.Name]
				codes = remap(c.Codes, c.Levels, lv)
			}
			outLevels[c.Name] = lv
			d.X.Cols = append(d.X.Cols, learn.Feature{Name: c.Name, Codes: codes, Levels: len(lv)})
		}
	}
	y := f.Column(target)
	if y == nil {
		tb.Fatalf("no target column %q", target)
	}
	d.Y = make([]float64, n)
	if !classify {
		copy(d.Y, y.Num)
		return d, nil, outLevels
	}
	names := make([]string, n)
	for i := range names {
		names[i] = y.Format(i)
	}
	if classes == nil {
		classes = slices.Clone(names)
		slices.Sort(classes)
		classes = slices.Compact(classes)
	}
	for i, nm := range names {
		k := slices.Index(classes, nm)
		if k < 0 {
			tb.Fatalf("class %q not in training classes %v", nm, classes)
		}
		d.Y[i] = float64(k)
	}
	d.Classes = len(classes)
	return d, classes, outLevels
}

func remap(codes []int32, from, to []string) []int32 {
	m := make([]int32, len(from))
	for i, l := range from {
		m[i] = int32(slices.Index(to, l))
	}
	out := make([]int32, len(codes))
	for i, c := range codes {
		out[i] = -1
		if c >= 0 {
			out[i] = m[c]
		}
	}
	return out
}

// ScoreAUC is the ROC AUC of one score per row for labels 0/1.
func ScoreAUC(y, score []float64) float64 {
	prob := make([]float64, 2*len(score))
	for i, s := range score {
		prob[2*i], prob[2*i+1] = -s, s // only the order of column 1 matters
	}
	v, err := metrics.ROCAUC(classIndex(y), prob, nil)
	if err != nil {
		return math.NaN()
	}
	return v
}

// PositiveColumn is the last class's column of k probabilities per row.
func PositiveColumn(prob []float64, k int) []float64 {
	out := make([]float64, len(prob)/k)
	for i := range out {
		out[i] = prob[i*k+k-1]
	}
	return out
}

// CodedColumn builds a column of a coded kind (categorical or text) from its
// cells, as a reader would: levels in the order they first appear, "" is
// missing.
func CodedColumn(name string, kind data.Kind, cells ...string) *data.Column {
	c := &data.Column{Name: name, Kind: kind}
	idx := map[string]int32{}
	for _, s := range cells {
		if s == "" {
			c.Codes = append(c.Codes, -1)
			continue
		}
		k, ok := idx[s]
		if !ok {
			k = int32(len(c.Levels))
			idx[s] = k
			c.Levels = append(c.Levels, s)
		}
		c.Codes = append(c.Codes, k)
	}
	return c
}

// OneRow is row i of X as a one-row feature matrix, as a served request
// gives a predictor.
func OneRow(X *learn.Features, i int) *learn.Features {
	r := &learn.Features{Rows: 1, Cols: make([]learn.Feature, len(X.Cols))}
	for j, c := range X.Cols {
		r.Cols[j] = c
		if c.Codes != nil {
			r.Cols[j].Codes = c.Codes[i : i+1 : i+1]
		} else {
			r.Cols[j].Num = c.Num[i : i+1 : i+1]
		}
	}
	return r
}

// CheckOneRowMatchesBatch fails t unless every row of X predicted alone (a
// served request) gives exactly the bits it gets in the batch.
func CheckOneRowMatchesBatch(t *testing.T, p learn.Predictor, X *learn.Features) {
	t.Helper()
	batch := Predict(p, X)
	k := p.Outputs()
	for i := range X.Rows {
		one := Predict(p, OneRow(X, i))
		for j := range k {
			if one[j] != batch[i*k+j] {
				t.Fatalf("row %d output %d: %v alone, %v in a batch", i, j, one[j], batch[i*k+j])
			}
		}
	}
}

// BenchOneRow times p.Predict on single rows of X (its first 64 in turn), as
// a served request calls it.
func BenchOneRow(b *testing.B, p learn.Predictor, X *learn.Features) {
	rows := make([]*learn.Features, min(64, X.Rows))
	for i := range rows {
		rows[i] = OneRow(X, i)
	}
	out := make([]float64, p.Outputs())
	p.Predict(rows[0], out) // a predictor may build its one-row form on first use
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		p.Predict(rows[i%len(rows)], out)
		i++
	}
}
