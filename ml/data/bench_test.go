package data

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const datasetsDir = "../../../shared/datasets"

// heapPeak samples the heap's object bytes (live plus not yet swept) every
// millisecond until stop is called and returns the highest value seen. It uses
// runtime/metrics rather than runtime.ReadMemStats, which stops the world and
// would slow down what it measures. Sampling can miss a short spike, so this
// is a slight underestimate of the true peak.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// BenchmarkReadFlights reads the 800,000-row flights training file (gzip CSV),
// the reference workload compared with pandas.read_csv (scripts/pandas_read.py).
func BenchmarkReadFlights(b *testing.B) {
	path := filepath.Join(datasetsDir, "flights_delay", "train.csv.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skip("dataset not available:", err)
	}
	ctx := context.Background()
	// Peak memory is measured on one read from a collected heap: inside the
	// timing loop the previous iteration's frame is garbage not yet collected,
	// which would be counted against the next read.
	runtime.GC()
	base := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(base)
	stop := heapPeak()
	f, err := ReadFile(ctx, path, ReadOptions{})
	peak := stop()
	if err != nil {
		b.Fatal(err)
	}
	decoded := 0
	for _, c := range f.Columns {
		decoded += 8*len(c.Num) + 4*len(c.Codes)
	}
	f = nil
	rows := 0
	b.ReportAllocs()
	for b.Loop() {
		f, err := ReadFile(ctx, path, ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		rows = f.Rows()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(peak-min(peak, base[0].Value.Uint64()))/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(decoded)/(1<<20), "decoded-MiB")
}

// BenchmarkEncodeChunks encodes every column of the flights file in chunks of
// ChunkRows rows, as the workspace stores them.
func BenchmarkEncodeChunks(b *testing.B) {
	path := filepath.Join(datasetsDir, "flights_delay", "train.csv.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skip("dataset not available:", err)
	}
	f, err := ReadFile(context.Background(), path, ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var raw, enc int
	b.ReportAllocs()
	for b.Loop() {
		raw, enc = 0, 0
		for _, c := range f.Columns {
			for from := 0; from < c.Len(); from += ChunkRows {
				to := min(from+ChunkRows, c.Len())
				enc += len(EncodeChunk(c, from, to))
				if c.Kind == Numeric || c.Kind == Datetime {
					raw += 8 * (to - from)
				} else {
					raw += 4 * (to - from)
				}
			}
		}
	}
	b.SetBytes(int64(raw))
	b.ReportMetric(float64(raw)/float64(enc), "ratio")
}
