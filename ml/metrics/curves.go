package metrics

import (
	"math"
	"sort"
)

// MaxCurvePoints bounds the points ROCCurve and PRCurve return: enough for a
// smooth chart, few enough to draw and store cheaply whatever the row count.
const MaxCurvePoints = 200

// ROCPoint is one point of a ROC curve: calling rows with score ≥ Threshold
// positive gives these false and true positive rates.
type ROCPoint struct {
	Threshold float64
	FPR, TPR  float64
}

// PRPoint is one point of a precision–recall curve at a threshold.
type PRPoint struct {
	Threshold         float64
	Precision, Recall float64
}

// ROCCurve returns the ROC curve of class (1 for binary; any class for a
// one-vs-rest curve) by decreasing threshold, from (0,0) at threshold +Inf
// to (1,1) at the lowest score. Curves with more than MaxCurvePoints points
// are thinned evenly by index; the two endpoints are always kept.
func ROCCurve(y []int, proba []float64, class int, w []float64) ([]ROCPoint, error) {
	c, err := classCurve(y, proba, class, w)
	if err != nil {
		return nil, err
	}
	negs, poss := c.totals()
	if negs <= 0 || poss <= 0 {
		return nil, inputErr("ROC curve of class %d is undefined: only one class is present", class)
	}
	pts := make([]ROCPoint, 0, len(c.thr)+1)
	pts = append(pts, ROCPoint{Threshold: math.Inf(1)})
	for j, t := range c.thr {
		pts = append(pts, ROCPoint{Threshold: t, FPR: c.fp[j] / negs, TPR: c.tp[j] / poss})
	}
	return thin(pts, MaxCurvePoints), nil
}

// PRCurve returns the precision–recall curve of class by decreasing
// threshold, starting at recall 0, precision 1 (threshold +Inf) as
// scikit-learn's precision_recall_curve does, and thinned like ROCCurve.
func PRCurve(y []int, proba []float64, class int, w []float64) ([]PRPoint, error) {
	c, err := classCurve(y, proba, class, w)
	if err != nil {
		return nil, err
	}
	_, poss := c.totals()
	if poss <= 0 {
		return nil, inputErr("precision–recall curve of class %d is undefined: it has no rows", class)
	}
	pts := make([]PRPoint, 0, len(c.thr)+1)
	pts = append(pts, PRPoint{Threshold: math.Inf(1), Precision: 1})
	for j, t := range c.thr {
		p := 0.0
		if d := c.tp[j] + c.fp[j]; d > 0 {
			p = c.tp[j] / d
		}
		pts = append(pts, PRPoint{Threshold: t, Precision: p, Recall: c.tp[j] / poss})
	}
	return thin(pts, MaxCurvePoints), nil
}

func classCurve(y []int, proba []float64, class int, w []float64) (counts, error) {
	_, k, err := checkClass(y, proba, w)
	if err != nil {
		return counts{}, err
	}
	if class < 0 || class >= k {
		return counts{}, inputErr("class %d is not below %d", class, k)
	}
	return clfCurve(y, column(proba, k, class), class, w), nil
}

// thin keeps at most m points spread evenly by index, always the first and
// the last, so the curve's ends (0,0) and (1,1) survive.
func thin[P any](pts []P, m int) []P {
	n := len(pts)
	if n <= m {
		return pts
	}
	out := make([]P, m)
	for i := range m {
		// Integer arithmetic: i*(n-1)/(m-1) is exact, so index 0 and n-1
		// are hit exactly and no index repeats (n > m).
		out[i] = pts[i*(n-1)/(m-1)]
	}
	return out
}

// Bin is one bin of a reliability diagram: rows whose predicted probability
// lies in (Lo, Hi] (the first bin includes 0), their mean predicted
// probability, and the fraction of them truly of the class.
type Bin struct {
	Lo, Hi        float64
	MeanPredicted float64
	Observed      float64
	Count         int
}

// CalibrationBins splits [0, 1] into bins equal-width bins of class's
// predicted probability and returns the non-empty ones in increasing order,
// as scikit-learn's calibration_curve(strategy="uniform"). A calibrated
// model's bins lie on the diagonal MeanPredicted == Observed.
func CalibrationBins(y []int, proba []float64, class int, bins int) ([]Bin, error) {
	n, k, err := checkClass(y, proba, nil)
	if err != nil {
		return nil, err
	}
	if class < 0 || class >= k {
		return nil, inputErr("class %d is not below %d", class, k)
	}
	if bins < 1 {
		return nil, inputErr("%d calibration bins: need at least 1", bins)
	}
	// Edges as numpy's linspace(0, 1, bins+1) computes them, so a
	// probability on an edge lands in the same bin as in scikit-learn.
	step := 1 / float64(bins)
	edge := func(b int) float64 {
		if b == bins {
			return 1
		}
		return float64(b) * step
	}
	sumP := make([]float64, bins)
	hits := make([]float64, bins)
	cnt := make([]int, bins)
	for i := range n {
		p := proba[i*k+class]
		if p < 0 || p > 1 {
			return nil, inputErr("probability of class %d in row %d is %v, outside [0, 1]", class, i+1, p)
		}
		// First inner edge ≥ p: bins are (lo, hi] as searchsorted(side="left").
		b := sort.Search(bins-1, func(j int) bool { return edge(j+1) >= p })
		sumP[b] += p
		cnt[b]++
		if y[i] == class {
			hits[b]++
		}
	}
	var out []Bin
	for b := range bins {
		if cnt[b] == 0 {
			continue
		}
		out = append(out, Bin{
			Lo: edge(b), Hi: edge(b + 1),
			MeanPredicted: sumP[b] / float64(cnt[b]),
			Observed:      hits[b] / float64(cnt[b]),
			Count:         cnt[b],
		})
	}
	return out, nil
}
