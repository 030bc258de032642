package gbdt

import (
	"context"
	"testing"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/learntest"
)

// BenchmarkPredictRowAdult is one served request's model cost: a single adult
// row through 1,000 small trees (what AutoML's refitted models look like:
// learning rate 0.03, 10 leaves).
//
//	go test ./ml/learn/gbdt -run '^$' -bench PredictRow
func BenchmarkPredictRowAdult(b *testing.B) {
	s := loadSplit(b, "adult", "train.csv", "test.csv", "income", true)
	p := DefaultParams()
	p.NEstimators, p.NumLeaves, p.LearningRate = 1000, 10, 0.03
	m := mustFit(b, context.Background(), p, s.train, learn.Options{Seed: 1})
	learntest.BenchOneRow(b, m, s.test.X)
}
