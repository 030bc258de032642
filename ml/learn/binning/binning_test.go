package binning

import (
	"math"
	"math/rand/v2"
	"testing"

	"modelsmith/ml/learn"
)

func TestNumericBins(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name    string
		values  func(i int) float64
		maxBin  int
		wantMax int // value bins
	}{
		{"few distinct values keep one bin each", func(i int) float64 { return float64(i % 7) }, 255, 7},
		{"continuous values use max_bin", func(i int) float64 { return rng.NormFloat64() }, 255, 255},
		{"small max_bin", func(i int) float64 { return rng.Float64() }, 16, 16},
		{"values that differ beyond float32", func(i int) float64 { return 1 + float64(i%3)*1e-12 }, 255, 1},
		{"heavy value plus a tail", func(i int) float64 {
			if i%2 == 0 {
				return 0
			}
			return float64(i)
		}, 32, 32},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 5000
			x := make([]float64, n)
			for i := range x {
				x[i] = tc.values(i)
			}
			x[3] = math.NaN()
			X := &learn.Features{Rows: n, Cols: []learn.Feature{{Name: "x", Num: x}}}
			m, err := Build(X, tc.maxBin, 0, 1)
			if err != nil {
				t.Fatal(err)
			}
			c := &m.Cols[0]
			if vb := c.NumBins - 1; vb > tc.wantMax || vb < 1 || (tc.wantMax <= 7 && vb != tc.wantMax) {
				t.Errorf("%d value bins, want at most %d", vb, tc.wantMax)
			}
			for i := 1; i < len(c.Thresholds); i++ {
				if !(c.Thresholds[i-1] < c.Thresholds[i]) {
					t.Fatalf("thresholds not increasing at %d: %v", i, c.Thresholds[i-1:i+1])
				}
			}
			for i, v := range x {
				b := c.Bins[i]
				if math.IsNaN(v) {
					if b != c.MissingBin() {
						t.Fatalf("NaN in bin %d", b)
					}
					continue
				}
				f := float32(v)
				if int(b) < len(c.Thresholds) && !(f <= c.Thresholds[b]) || b > 0 && !(f > c.Thresholds[b-1]) {
					t.Fatalf("row %d: %v in bin %d, thresholds %v", i, v, b, c.Thresholds)
				}
			}
			if m2 := m.Apply(X); string(m2.Cols[0].Bins) != string(c.Bins) {
				t.Error("Apply bins the training data differently")
			}
		})
	}
}

func TestCategoricalBins(t *testing.T) {
	n := 20000
	codes := make([]int32, n)
	for i := range codes {
		codes[i] = int32(i % 400)
		if i%400 >= 300 && i%2 == 0 {
			codes[i] = int32(i % 50) // levels 0..49 are the most frequent
		}
	}
	codes[0] = -1
	X := &learn.Features{Rows: n, Cols: []learn.Feature{{Name: "c", Codes: codes, Levels: 400}}}
	m, err := Build(X, 255, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := &m.Cols[0]
	if c.NumBins != 256 || c.BinOfCode(-1) != 255 || c.BinOfCode(400) != 255 {
		t.Fatalf("NumBins %d, missing bins %d %d", c.NumBins, c.BinOfCode(-1), c.BinOfCode(400))
	}
	if c.BinOfCode(0) == 254 || c.BinOfCode(399) != 254 {
		t.Errorf("frequent level 0 in bin %d, rare 399 in %d; want own bin and other (254)", c.BinOfCode(0), c.BinOfCode(399))
	}
	codesOf := c.BinCodes()
	if len(codesOf[254]) != 400-254 {
		t.Errorf("other bin holds %d levels, want %d", len(codesOf[254]), 400-254)
	}
	small := &learn.Features{Rows: 2, Cols: []learn.Feature{{Name: "c", Codes: []int32{1, 1}, Levels: 3}}}
	ms, _ := Build(small, 255, 0, 1)
	if ms.Cols[0].NumBins != 4 || ms.Cols[0].BinOfCode(2) != 2 {
		t.Errorf("3 levels: %+v", ms.Cols[0])
	}
}

func TestSampledCutsAreDeterministic(t *testing.T) {
	n := 50000
	x := make([]float64, n)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range x {
		x[i] = rng.ExpFloat64()
	}
	X := &learn.Features{Rows: n, Cols: []learn.Feature{{Name: "x", Num: x}}}
	a, _ := Build(X, 64, 1000, 9)
	b, _ := Build(X, 64, 1000, 9)
	if string(a.Cols[0].Bins) != string(b.Cols[0].Bins) {
		t.Error("same seed, different bins")
	}
	if _, err := Build(X, 300, 0, 0); err == nil {
		t.Error("max_bin 300 accepted")
	}
	bad := &learn.Features{Rows: 3, Cols: []learn.Feature{{Name: "x", Num: []float64{1}}}}
	if _, err := Build(bad, 255, 0, 0); err == nil {
		t.Error("short column accepted")
	}
}
