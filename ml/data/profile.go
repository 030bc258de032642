package data

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Profile summarises one column for display and for drift references. It is
// safe to encode as JSON: statistics that are undefined (or not finite) are
// left out rather than written as NaN or Inf.
type Profile struct {
	Type string `json:"type"` // Kind.String()
	// Hint is advice about the column: "empty" (no values), "constant" (one
	// distinct value), "possibly categorical" (a numeric column of few distinct
	// integers), "identifier" (text or categories, every value distinct).
	Hint     string `json:"hint,omitempty"`
	Count    int    `json:"count"`    // rows, missing ones included
	Missing  int    `json:"missing"`  // rows without a value
	Distinct int    `json:"distinct"` // distinct non-missing values
	// Min, Max, Mean and Std (population) are over the finite values of a
	// numeric or datetime column (datetimes in Unix seconds).
	Min       *float64     `json:"min,omitempty"`
	Max       *float64     `json:"max,omitempty"`
	Mean      *float64     `json:"mean,omitempty"`
	Std       *float64     `json:"std,omitempty"`
	Histogram *Histogram   `json:"histogram,omitempty"`
	Top       []LevelCount `json:"top,omitempty"` // categorical and text: most frequent first
}

// Histogram has HistogramBins equal-width bins from the minimum to the maximum;
// bin i counts values in [Edges[i], Edges[i+1]), the last bin includes its
// right edge. A constant column gets one unit-wide range centred on its value.
type Histogram struct {
	Edges  [HistogramBins + 1]float64 `json:"edges"`
	Counts [HistogramBins]int         `json:"counts"`
}

// LevelCount is one value of a categorical or text column and its row count.
type LevelCount struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// HistogramBins is the number of histogram bins; TopLevels the length of Top.
const (
	HistogramBins = 20
	TopLevels     = 20
)

// Thresholds of the "possibly categorical" hint: a numeric column of integers
// with at most possiblyCategoricalMax distinct values, or at most
// possiblyCategoricalCap values that are at most 1 % of its rows.
const (
	possiblyCategoricalMax = 20
	possiblyCategoricalCap = 50
)

// ProfileColumn computes c's profile. It is the single place where column
// hints are decided; the reader does not store any.
func ProfileColumn(c *Column) Profile {
	p := Profile{Type: c.Kind.String(), Count: c.Len()}
	switch c.Kind {
	case Categorical, Text:
		profileLevels(c, &p)
	default:
		profileNumbers(c, &p)
	}
	return p
}

func profileLevels(c *Column, p *Profile) {
	counts := make([]int, len(c.Levels))
	for _, k := range c.Codes {
		if k < 0 || int(k) >= len(counts) {
			p.Missing++
			continue
		}
		counts[k]++
	}
	var top []LevelCount
	for k, n := range counts {
		if n > 0 {
			p.Distinct++
			top = append(top, LevelCount{Value: c.Levels[k], Count: n})
		}
	}
	slices.SortFunc(top, func(a, b LevelCount) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return strings.Compare(a.Value, b.Value)
	})
	if len(top) > TopLevels {
		top = slices.Clip(top[:TopLevels])
	}
	p.Top = top
	present := p.Count - p.Missing
	switch {
	case present == 0:
		p.Hint = "empty"
	case p.Distinct == 1:
		p.Hint = "constant"
	case p.Distinct == present && present > 1:
		p.Hint = "identifier"
	}
}

func profileNumbers(c *Column, p *Profile) {
	vals := make([]float64, 0, len(c.Num))
	allInt := true
	var n int
	var mean, m2 float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range c.Num {
		if math.IsNaN(v) {
			p.Missing++
			continue
		}
		vals = append(vals, v)
		if math.IsInf(v, 0) {
			allInt = false
			continue
		}
		if allInt && v != math.Trunc(v) {
			allInt = false
		}
		// Welford's update: one pass, and no catastrophic cancellation.
		n++
		d := v - mean
		mean += d / float64(n)
		m2 += d * (v - mean)
		lo, hi = min(lo, v), max(hi, v)
	}
	slices.Sort(vals)
	for i, v := range vals {
		if i == 0 || v != vals[i-1] {
			p.Distinct++
		}
	}
	present := len(vals)
	switch {
	case present == 0:
		p.Hint = "empty"
	case p.Distinct == 1:
		p.Hint = "constant"
	case c.Kind == Numeric && allInt && (p.Distinct <= possiblyCategoricalMax ||
		p.Distinct <= possiblyCategoricalCap && p.Distinct*100 <= present):
		p.Hint = "possibly categorical"
	}
	if n == 0 {
		return
	}
	p.Min, p.Max = finite(lo), finite(hi)
	p.Mean, p.Std = finite(mean), finite(math.Sqrt(m2/float64(n)))
	p.Histogram = histogram(c.Num, lo, hi)
}

// histogram bins the finite values of vals between lo and hi (both finite).
// The arithmetic divides before subtracting so that a range spanning most of
// float64 does not overflow to Inf.
func histogram(vals []float64, lo, hi float64) *Histogram {
	h := &Histogram{}
	width := hi/HistogramBins - lo/HistogramBins
	if width == 0 || math.IsInf(width, 0) || math.IsNaN(width) {
		lo, hi = lo-0.5, hi+0.5
		width = hi/HistogramBins - lo/HistogramBins
	}
	for i := range h.Edges {
		h.Edges[i] = min(lo+float64(i)*width, hi)
	}
	h.Edges[HistogramBins] = hi
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		f := (v/HistogramBins - lo/HistogramBins) / width * HistogramBins
		i := 0 // also where a NaN f (a zero width at extreme magnitudes) lands
		if f >= HistogramBins-1 {
			i = HistogramBins - 1
		} else if f > 0 {
			i = int(f)
		}
		h.Counts[i]++
	}
	for _, e := range h.Edges {
		if math.IsInf(e, 0) || math.IsNaN(e) {
			return nil
		}
	}
	return h
}

// finite returns a pointer to v, or nil when v is NaN or infinite (which JSON
// cannot represent).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
