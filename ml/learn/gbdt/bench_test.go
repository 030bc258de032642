package gbdt

import (
	"context"
	"syscall"
	"testing"
	"time"

	"modelsmith/ml/learn"
)

// The flights benchmarks mirror scripts/xgb_flights.py (XGBoost hist,
// lossguide, 31 leaves, 255 bins, eta 0.1, 100 rounds) on the same files:
//
//	go test ./ml/learn/gbdt -run '^$' -bench Flights -benchtime 1x -cpu 2
//	/usr/bin/python3 scripts/xgb_flights.py
func loadFlights(b *testing.B) tableSplit {
	b.Helper()
	return loadSplit(b, "flights_delay", "train.csv.gz", "test.csv.gz", "delayed", true)
}

func flightsParams() Params {
	p := DefaultParams()
	p.NEstimators, p.NumLeaves, p.MaxBin, p.LearningRate = 100, 31, 255, 0.1
	return p
}

func BenchmarkFitFlights(b *testing.B) {
	s := loadFlights(b)
	var m *Model
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		m = mustFit(b, context.Background(), flightsParams(), s.train, learn.Options{Seed: 1})
	}
	b.StopTimer()
	// CPU seconds: on a shared machine wall time says more about the
	// neighbours than about the code.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
	out := predict(m, s.test.X)
	b.ReportMetric(auc(s.test.Y, positiveColumn(out, 2)), "test-AUC")
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxrss-MB")
	}
}

func BenchmarkPredictFlights(b *testing.B) {
	s := loadFlights(b)
	m := mustFit(b, context.Background(), flightsParams(), s.train, learn.Options{Seed: 1})
	out := make([]float64, s.test.X.Rows*m.Outputs())
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		m.Predict(s.test.X, out)
	}
	b.StopTimer()
	b.ReportMetric(float64(s.test.X.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(s.test.X.Rows)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
