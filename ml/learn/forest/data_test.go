package forest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
)

const datasets = "../../../../shared/datasets"

// tableSplit is one dataset's train and test parts, with categorical codes and
// class indices of the test part mapped onto the training part's levels.
type tableSplit struct {
	train   learn.Dataset
	test    learn.Dataset
	classes []string
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

// loadSplit reads <name>/train and test; classification when classify.
func loadSplit(tb testing.TB, name, trainFile, testFile, target string, classify bool) tableSplit {
	tb.Helper()
	tr := readFrame(tb, filepath.Join(datasets, name, trainFile))
	te := readFrame(tb, filepath.Join(datasets, name, testFile))
	var s tableSplit
	var trainLevels map[string][]string
	s.train, s.classes, trainLevels = frameDataset(tb, tr, target, classify, nil, nil)
	s.test, _, _ = frameDataset(tb, te, target, classify, s.classes, trainLevels)
	return s
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
			lv := c.Levels
			codes := c.Codes
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

// auc is the ROC AUC of scores for labels 0/1, ties counted half.
func auc(y, score []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case score[a] < score[b]:
			return -1
		case score[a] > score[b]:
			return 1
		}
		return 0
	})
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			if y[idx[k]] == 1 {
				rankSum += mid
				pos++
			} else {
				neg++
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

func r2(y, pred []float64) float64 {
	mean := 0.0
	for _, v := range y {
		mean += v
	}
	mean /= float64(len(y))
	var ss, st float64
	for i, v := range y {
		ss += (v - pred[i]) * (v - pred[i])
		st += (v - mean) * (v - mean)
	}
	return 1 - ss/st
}

func argmaxAccuracy(y, prob []float64, k int) float64 {
	ok := 0
	for i, v := range y {
		row := prob[i*k : (i+1)*k]
		best := 0
		for c := range row {
			if row[c] > row[best] {
				best = c
			}
		}
		if best == int(v) {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

func positiveColumn(prob []float64, k int) []float64 {
	out := make([]float64, len(prob)/k)
	for i := range out {
		out[i] = prob[i*k+k-1]
	}
	return out
}

func mustFit(tb testing.TB, ctx context.Context, p Params, d learn.Dataset, opts learn.Options) *Model {
	tb.Helper()
	l, err := New(p)
	if err != nil {
		tb.Fatal(err)
	}
	pr, err := l.Fit(ctx, d, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return pr.(*Model)
}

func predict(m *Model, X *learn.Features) []float64 {
	out := make([]float64, X.Rows*m.Outputs())
	m.Predict(X, out)
	return out
}
