package nn

import (
	"context"
	"testing"
	"time"

	"modelsmith/ml/learn"
	"modelsmith/ml/metrics"
)

func fit(t testing.TB, set map[string]string, d learn.Dataset, opts learn.Options) learn.Predictor {
	t.Helper()
	l, err := Spec.New(set)
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.Fit(context.Background(), d, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScores checks the network on real data against what scikit-learn's
// models reach on the same splits. Run: go test ./ml/learn/nn -run TestScores -v
func TestScores(t *testing.T) {
	tests := []struct {
		name, data string
		set        map[string]string
		metric     string
		min        float64
	}{
		{"iris", "iris", nil, "accuracy", 0.9},
		{"breast cancer", "breast_cancer", nil, "auc", 0.99},
		{"diabetes", "diabetes", nil, "r2", 0.35},
		{"california housing", "california_housing", nil, "r2", 0.63},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, test := load(t, tc.data)
			start := time.Now()
			var epochs int
			p := fit(t, tc.set, train, learn.Options{Seed: 1, Progress: func(it learn.Iteration) { epochs = it.Step }})
			out := predict(p, test.X)
			var got float64
			var err error
			switch tc.metric {
			case "accuracy":
				checkProbabilities(t, out, train.Classes)
				got, err = metrics.Accuracy(classIndex(test.Y), out, nil)
			case "auc":
				checkProbabilities(t, out, 2)
				got, err = metrics.ROCAUC(classIndex(test.Y), out, nil)
			case "r2":
				got, err = metrics.R2(test.Y, out, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s %s = %.4f after %d epochs in %v", tc.data, tc.metric, got, epochs, time.Since(start).Round(time.Millisecond))
			if got < tc.min {
				t.Errorf("%s = %.4f, want ≥ %.2f", tc.metric, got, tc.min)
			}
		})
	}
}
