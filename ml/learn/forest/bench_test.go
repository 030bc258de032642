package forest

import (
	"context"
	"testing"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/learntest"
)

// BenchmarkFitAdult mirrors the scikit-learn baseline (RandomForest, 300
// trees, n_jobs=2; ../shared/bench/README.md: 5.99 s, AUC 0.9098, 235 MB
// pickled). Compare as a ratio on the same machine, in the same minute:
//
//	go test ./ml/learn/forest -run '^$' -bench FitAdult -benchtime 1x -cpu 2
//	/usr/bin/python3 ../shared/bench/peers.py run --data ../shared/datasets --names adult --models rf --out /tmp/rf.jsonl
func BenchmarkFitAdult(b *testing.B) {
	s := loadSplit(b, "adult", "train.csv", "test.csv", "income", true)
	var m *Model
	b.ReportAllocs()
	for b.Loop() {
		m = mustFit(b, context.Background(), DefaultParams(), s.train, learn.Options{Seed: 1})
	}
	out := predict(m, s.test.X)
	b.ReportMetric(auc(s.test.Y, positiveColumn(out, 2)), "test-AUC")
	b.ReportMetric(float64(m.Size())/1e6, "model-MB")
}

func BenchmarkPredictAdult(b *testing.B) {
	s := loadSplit(b, "adult", "train.csv", "test.csv", "income", true)
	m := mustFit(b, context.Background(), DefaultParams(), s.train, learn.Options{Seed: 1})
	out := make([]float64, s.test.X.Rows*m.Outputs())
	b.ReportAllocs()
	for b.Loop() {
		m.Predict(s.test.X, out)
	}
	b.ReportMetric(float64(s.test.X.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPredictRowAdult is one served request's model cost: a single adult
// row through the default forest (100 fully grown trees).
//
//	go test ./ml/learn/forest -run '^$' -bench PredictRow
func BenchmarkPredictRowAdult(b *testing.B) {
	s := loadSplit(b, "adult", "train.csv", "test.csv", "income", true)
	m := mustFit(b, context.Background(), DefaultParams(), s.train, learn.Options{Seed: 1})
	learntest.BenchOneRow(b, m, s.test.X)
}
