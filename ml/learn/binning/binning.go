// Package binning turns a learn.Features matrix into small integer bins, the
// representation histogram tree learners (ml/learn/gbdt, ml/learn/forest)
// train on: one []uint8 per feature, at most 255 value bins plus one missing
// bin.
//
// Numeric features get quantile bins whose upper thresholds are float32
// values: a value x falls in bin b when float32(x) <= Thresholds[b] (and not
// in an earlier bin), which is exactly how onnxruntime's TreeEnsemble
// compares inputs, so a tree learnt on bins and exported with these
// thresholds predicts the same in ONNX. Categorical features keep one bin per
// level; beyond 254 levels the rarest fold into one "other" bin. The last bin
// of every feature holds the missing values (NaN, code -1, unknown codes).
//
// The package depends on ml/learn only; it must not import storage, app,
// views or Fyne.
package binning

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"modelsmith/ml/learn"
)

// DefaultSampleRows is how many rows Build samples for cut points when given
// sampleRows <= 0: quantiles of 200,000 rows are within a fraction of a bin of
// the full data's, and sorting them is quick.
const DefaultSampleRows = 200_000

// Matrix is a binned feature matrix, column-major.
type Matrix struct {
	Rows int
	Cols []Column
}

// Column is one binned feature. Bins has one entry per row. The bins of a
// numeric feature are 0..NumBins-2 for values (in increasing order) and
// NumBins-1 for missing; those of a categorical feature are one per kept
// level, possibly an "other" bin, then the missing bin.
type Column struct {
	Name        string
	Categorical bool
	Bins        []uint8
	// NumBins counts every bin, the missing bin included (1..256).
	NumBins int
	// Thresholds (numeric) has NumBins-2 entries, strictly increasing: value
	// bin b holds the x with Thresholds[b-1] < float32(x) <= Thresholds[b];
	// the last value bin is unbounded above.
	Thresholds []float32
	// Levels (categorical) is the number of levels the codes index; CodeBin
	// maps each code to its bin.
	Levels  int
	CodeBin []uint8
}

// MissingBin is the bin of missing values: always the last one.
func (c *Column) MissingBin() uint8 { return uint8(c.NumBins - 1) }

// BinOf is the bin of a numeric value.
func (c *Column) BinOf(x float64) uint8 {
	if math.IsNaN(x) {
		return c.MissingBin()
	}
	return uint8(searchF32(c.Thresholds, float32(x)))
}

// BinOfCode is the bin of a categorical code; -1 and codes the column does
// not know are missing.
func (c *Column) BinOfCode(code int32) uint8 {
	if code < 0 || int(code) >= len(c.CodeBin) {
		return c.MissingBin()
	}
	return c.CodeBin[code]
}

// BinCodes lists, for each bin of a categorical column, the codes it holds
// (the missing bin holds none): what a tree needs to turn a set of bins into
// a set of categories.
func (c *Column) BinCodes() [][]int32 {
	out := make([][]int32, c.NumBins)
	for code, b := range c.CodeBin {
		out[b] = append(out[b], int32(code))
	}
	return out
}

// searchF32 returns the number of thresholds below v: the bin of v.
func searchF32(thr []float32, v float32) int {
	lo, hi := 0, len(thr)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if v <= thr[m] {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// Build bins X with at most maxBin value bins per numeric feature (2..255;
// 0 means 255). Cut points come from a deterministic sample of sampleRows rows
// (0 means DefaultSampleRows) drawn with seed, so the same data and seed give
// the same bins. Features are binned in parallel.
func Build(X *learn.Features, maxBin int, sampleRows int, seed uint64) (*Matrix, error) {
	if X == nil || len(X.Cols) == 0 || X.Rows <= 0 {
		return nil, errors.New("binning: no data")
	}
	if maxBin == 0 {
		maxBin = 255
	}
	if maxBin < 2 || maxBin > 255 {
		return nil, fmt.Errorf("binning: max_bin %d is not in [2, 255]", maxBin)
	}
	if sampleRows <= 0 {
		sampleRows = DefaultSampleRows
	}
	for j := range X.Cols {
		c := &X.Cols[j]
		if (c.Num == nil) == (c.Codes == nil) || len(c.Num)+len(c.Codes) != X.Rows {
			return nil, fmt.Errorf("binning: feature %q: not %d numeric values or codes", c.Name, X.Rows)
		}
	}
	var sample []int32
	if X.Rows > sampleRows {
		sample = sampleRowsOf(X.Rows, sampleRows, seed)
	}
	m := &Matrix{Rows: X.Rows, Cols: make([]Column, len(X.Cols))}
	forEach(len(X.Cols), func(j int) {
		f := &X.Cols[j]
		c := &m.Cols[j]
		c.Name = f.Name
		if f.Codes != nil {
			c.Categorical = true
			c.Levels = max(f.Levels, 0)
			c.CodeBin, c.NumBins = categoricalBins(f.Codes, c.Levels)
		} else {
			c.Thresholds = numericCuts(f.Num, sample, maxBin)
			c.NumBins = len(c.Thresholds) + 2
		}
		c.Bins = make([]uint8, X.Rows)
		c.fill(f)
	})
	return m, nil
}

// Apply bins new data (validation, test) with m's cut points and level map.
// A feature of X that is missing or of the wrong kind or length is binned as
// all missing.
func (m *Matrix) Apply(X *learn.Features) *Matrix {
	out := &Matrix{Rows: X.Rows, Cols: make([]Column, len(m.Cols))}
	forEach(len(m.Cols), func(j int) {
		c := m.Cols[j]
		c.Bins = make([]uint8, X.Rows)
		if j < len(X.Cols) {
			c.fill(&X.Cols[j])
		} else {
			fillMissing(&c)
		}
		out.Cols[j] = c
	})
	return out
}

func fillMissing(c *Column) {
	mb := c.MissingBin()
	for i := range c.Bins {
		c.Bins[i] = mb
	}
}

// fill writes the bins of f; f of the wrong kind or length is all missing.
func (c *Column) fill(f *learn.Feature) {
	n := len(c.Bins)
	switch {
	case c.Categorical && len(f.Codes) == n:
		for i, code := range f.Codes {
			c.Bins[i] = c.BinOfCode(code)
		}
	case !c.Categorical && len(f.Num) == n:
		mb := c.MissingBin()
		thr := c.Thresholds
		for i, x := range f.Num {
			if x != x {
				c.Bins[i] = mb
				continue
			}
			c.Bins[i] = uint8(searchF32(thr, float32(x)))
		}
	default:
		fillMissing(c)
	}
}

// sampleRowsOf draws about k of n rows, in increasing order, by Bernoulli
// sampling: one pass and no O(n) memory.
func sampleRowsOf(n, k int, seed uint64) []int32 {
	rng := rand.New(rand.NewPCG(seed, 0x62696e6e696e67))
	p := float64(k) / float64(n)
	out := make([]int32, 0, k+k/8)
	for i := 0; i < n; i++ {
		if rng.Float64() < p {
			out = append(out, int32(i))
		}
	}
	return out
}

// numericCuts returns the thresholds of at most maxBin value bins: the
// distinct float32 values when few, else cut points between equal-count
// groups of distinct values, recomputing the target count after each cut so
// that heavy values do not starve later bins.
func numericCuts(x []float64, sample []int32, maxBin int) []float32 {
	var vals []float32
	if sample != nil {
		vals = make([]float32, 0, len(sample))
		for _, r := range sample {
			if v := x[r]; v == v {
				vals = append(vals, float32(v))
			}
		}
	} else {
		vals = make([]float32, 0, len(x))
		for _, v := range x {
			if v == v {
				vals = append(vals, float32(v))
			}
		}
	}
	if len(vals) == 0 {
		return nil
	}
	slices.Sort(vals)
	// Distinct values and their counts.
	dv := vals[:0:0]
	var cnt []int
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			dv = append(dv, v)
			cnt = append(cnt, 1)
		} else {
			cnt[len(cnt)-1]++
		}
	}
	var cuts []float32
	if len(dv) <= maxBin {
		for i := 0; i+1 < len(dv); i++ {
			cuts = append(cuts, between(dv[i], dv[i+1]))
		}
		return cuts
	}
	remaining := len(vals)
	bins := maxBin
	acc := 0
	for i := 0; i+1 < len(dv) && bins > 1; i++ {
		acc += cnt[i]
		target := float64(remaining) / float64(bins)
		// Cut here if this group is full, or if adding the next value would
		// overshoot the target by more than stopping short does.
		if float64(acc) >= target || float64(acc+cnt[i+1])-target > target-float64(acc) && acc > 0 {
			cuts = append(cuts, between(dv[i], dv[i+1]))
			remaining -= acc
			bins--
			acc = 0
		}
	}
	return cuts
}

// between returns a float32 t with a <= t < b: the midpoint when float32 can
// hold one strictly below b, else a. Midpoints leave room for values unseen
// in the sample.
func between(a, b float32) float32 {
	m := float32((float64(a) + float64(b)) / 2)
	if m >= b || m < a {
		return a
	}
	return m
}

// categoricalBins maps codes to bins: one per level when there are at most
// 255 levels, else the 254 most frequent (ties to the lower code) keep a bin
// each and the rest share bin 254. The missing bin comes last.
func categoricalBins(codes []int32, levels int) ([]uint8, int) {
	codeBin := make([]uint8, levels)
	if levels <= 255 {
		for c := range codeBin {
			codeBin[c] = uint8(c)
		}
		return codeBin, levels + 1
	}
	count := make([]int, levels)
	for _, c := range codes {
		if c >= 0 && int(c) < levels {
			count[c]++
		}
	}
	order := make([]int, levels)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return count[b] - count[a] })
	for c := range codeBin {
		codeBin[c] = 254
	}
	kept := order[:254]
	slices.Sort(kept)
	for b, c := range kept {
		codeBin[c] = uint8(b)
	}
	return codeBin, 256
}

// forEach runs f(0..n-1) on up to GOMAXPROCS goroutines.
func forEach(n int, f func(int)) {
	workers := min(n, maxProcs())
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

func maxProcs() int { return runtime.GOMAXPROCS(0) }
