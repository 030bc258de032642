package forest

import (
	"context"
	"testing"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/learntest"
)

var datasets = learntest.Datasets()

// tableSplit is one dataset's train and test parts (see learntest.Split).
type tableSplit struct {
	train, test learn.Dataset
	classes     []string
}

func loadSplit(tb testing.TB, name, trainFile, testFile, target string, classify bool) tableSplit {
	tb.Helper()
	s := learntest.LoadSplit(tb, name, trainFile, testFile, target, classify)
	return tableSplit{s.Train, s.Test, s.Classes}
}

func auc(y, score []float64) float64 { return learntest.ScoreAUC(y, score) }

func r2(y, pred []float64) float64 { return learntest.R2(pred, y) }

func argmaxAccuracy(y, prob []float64, k int) float64 { return learntest.Accuracy(prob, k, y) }

func positiveColumn(prob []float64, k int) []float64 { return learntest.PositiveColumn(prob, k) }

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
