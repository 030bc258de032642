package metrics

import (
	"math"
	"slices"
)

// Accuracy is the (weighted) fraction of rows whose predicted class is the
// true class.
func Accuracy(y []int, proba []float64, w []float64) (float64, error) {
	n, k, err := checkClass(y, proba, w)
	if err != nil {
		return 0, err
	}
	var hit, total float64
	for i := range n {
		wi := weight(w, i)
		if argmax(proba[i*k:(i+1)*k]) == y[i] {
			hit += wi
		}
		total += wi
	}
	return hit / total, nil
}

// ConfusionMatrix counts rows by true class (row) and predicted class
// (column); it is K×K, K being the number of probability columns.
func ConfusionMatrix(y []int, proba []float64) ([][]int, error) {
	n, k, err := checkClass(y, proba, nil)
	if err != nil {
		return nil, err
	}
	cells := make([]int, k*k)
	for i := range n {
		cells[y[i]*k+argmax(proba[i*k:(i+1)*k])]++
	}
	m := make([][]int, k)
	for r := range m {
		m[r] = cells[r*k : (r+1)*k : (r+1)*k]
	}
	return m, nil
}

// weightedConfusion is the confusion matrix with weighted counts.
func weightedConfusion(y []int, proba []float64, k int, w []float64) []float64 {
	c := make([]float64, k*k)
	for i, t := range y {
		c[t*k+argmax(proba[i*k:(i+1)*k])] += weight(w, i)
	}
	return c
}

// BalancedAccuracy is the mean recall over the classes present in y, so a
// model that always predicts the majority class scores 1/K however skewed
// the classes are. Like scikit-learn, classes with no true rows are left out
// of the mean rather than counted as zero.
func BalancedAccuracy(y []int, proba []float64, w []float64) (float64, error) {
	_, k, err := checkClass(y, proba, w)
	if err != nil {
		return 0, err
	}
	c := weightedConfusion(y, proba, k, w)
	var sum float64
	present := 0
	for t := range k {
		row := 0.0
		for p := range k {
			row += c[t*k+p]
		}
		if row > 0 {
			sum += c[t*k+t] / row
			present++
		}
	}
	if present == 0 {
		// Every row has zero weight; checkWeights rules it out, but a
		// division by zero must not slip through as NaN.
		return 0, inputErr("no weighted rows")
	}
	return sum / float64(present), nil
}

// F1 is the harmonic mean of precision and recall. For two classes it is the
// F1 of the positive class 1; for more it is the macro average over the
// classes present in y or in the predictions (scikit-learn's
// average="macro"). A class whose F1 is undefined (no true and no predicted
// rows) scores 0, as scikit-learn's default zero_division does.
func F1(y []int, proba []float64, w []float64) (float64, error) {
	_, k, err := checkClass(y, proba, w)
	if err != nil {
		return 0, err
	}
	c := weightedConfusion(y, proba, k, w)
	f1 := func(class int) float64 {
		tp := c[class*k+class]
		var fp, fn float64
		for o := range k {
			if o != class {
				fp += c[o*k+class]
				fn += c[class*k+o]
			}
		}
		if d := 2*tp + fp + fn; d > 0 {
			return 2 * tp / d
		}
		return 0
	}
	if k == 2 {
		return f1(1), nil
	}
	// Which classes occur is decided by counts, not weights: a row of weight
	// zero still makes its label "present" in scikit-learn.
	occurs := make([]bool, k)
	for i, t := range y {
		occurs[t] = true
		occurs[argmax(proba[i*k:(i+1)*k])] = true
	}
	var sum float64
	m := 0
	for class := range k {
		if occurs[class] {
			sum += f1(class)
			m++
		}
	}
	return sum / float64(m), nil
}

// LogLoss is the (weighted) mean negative log probability of the true class.
// As in scikit-learn, probabilities are clipped to [1e-15, 1-1e-15] and each
// row renormalised, so a confident wrong answer costs about 34.5 rather than
// +Inf.
func LogLoss(y []int, proba []float64, w []float64) (float64, error) {
	n, k, err := checkClass(y, proba, w)
	if err != nil {
		return 0, err
	}
	const eps = 1e-15
	var loss, total float64
	for i := range n {
		row := proba[i*k : (i+1)*k]
		var sum float64
		for _, p := range row {
			sum += clip(p, eps, 1-eps)
		}
		p := clip(row[y[i]], eps, 1-eps) / sum
		wi := weight(w, i)
		loss -= wi * math.Log(p)
		total += wi
	}
	return loss / total, nil
}

func clip(x, lo, hi float64) float64 { return min(max(x, lo), hi) }

// column copies class c's probabilities out of the row-major matrix.
func column(proba []float64, k, c int) []float64 {
	n := len(proba) / k
	s := make([]float64, n)
	for i := range s {
		s[i] = proba[i*k+c]
	}
	return s
}

// ROCAUC is the area under the ROC curve. For two classes it scores class
// 1's probability, exactly (tied scores form one step, as in scikit-learn's
// roc_auc_score). For more it is the one-vs-rest macro average of every
// class's AUC (scikit-learn's multi_class="ovr", average="macro").
//
// AUC is undefined when a class has no rows, or (binary) when only one class
// is present: that is an ErrInput, not NaN.
func ROCAUC(y []int, proba []float64, w []float64) (float64, error) {
	_, k, err := checkClass(y, proba, w)
	if err != nil {
		return 0, err
	}
	if k == 2 {
		return binaryAUC(y, column(proba, k, 1), 1, w)
	}
	return macroOVR(y, proba, k, w, binaryAUC)
}

// PRAUC is the area under the precision–recall curve summarised as average
// precision, Σ (Rₙ − Rₙ₋₁)·Pₙ over decreasing thresholds, as scikit-learn's
// average_precision_score (no interpolation, which would be optimistic). For
// two classes it scores class 1; for more it is the one-vs-rest macro
// average. Needs at least one positive row per scored class.
func PRAUC(y []int, proba []float64, w []float64) (float64, error) {
	_, k, err := checkClass(y, proba, w)
	if err != nil {
		return 0, err
	}
	if k == 2 {
		return binaryAP(y, column(proba, k, 1), 1, w)
	}
	return macroOVR(y, proba, k, w, binaryAP)
}

// ClassROCAUC is the AUC of class's probability against every other class:
// one term of ROCAUC's one-vs-rest average.
func ClassROCAUC(y []int, proba []float64, class int, w []float64) (float64, error) {
	return classScore(y, proba, class, w, binaryAUC)
}

// ClassAP is the average precision of class's probability against every
// other class: one term of PRAUC's one-vs-rest average.
func ClassAP(y []int, proba []float64, class int, w []float64) (float64, error) {
	return classScore(y, proba, class, w, binaryAP)
}

func classScore(y []int, proba []float64, class int, w []float64, f binaryScore) (float64, error) {
	_, k, err := checkClass(y, proba, w)
	if err != nil {
		return 0, err
	}
	if class < 0 || class >= k {
		return 0, inputErr("class %d is not below %d", class, k)
	}
	return f(y, column(proba, k, class), class, w)
}

type binaryScore func(y []int, score []float64, pos int, w []float64) (float64, error)

func macroOVR(y []int, proba []float64, k int, w []float64, f binaryScore) (float64, error) {
	var sum float64
	for c := range k {
		s, err := f(y, column(proba, k, c), c, w)
		if err != nil {
			return 0, err
		}
		sum += s
	}
	return sum / float64(k), nil
}

// counts is the cumulative (weighted) false and true positives when rows
// with score ≥ thr[j] are called positive, one entry per distinct score in
// decreasing order: scikit-learn's _binary_clf_curve.
type counts struct {
	thr, fp, tp []float64
}

func clfCurve(y []int, score []float64, pos int, w []float64) counts {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	// Stable, so the result does not depend on the sort's whims; ties are
	// grouped below anyway.
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case score[a] > score[b]:
			return -1
		case score[a] < score[b]:
			return 1
		}
		return 0
	})
	var c counts
	var fp, tp float64
	for j, i := range idx {
		if y[i] == pos {
			tp += weight(w, i)
		} else {
			fp += weight(w, i)
		}
		if j == len(idx)-1 || score[idx[j+1]] != score[i] {
			c.thr = append(c.thr, score[i])
			c.fp = append(c.fp, fp)
			c.tp = append(c.tp, tp)
		}
	}
	return c
}

func (c counts) totals() (neg, pos float64) {
	last := len(c.tp) - 1
	return c.fp[last], c.tp[last]
}

func binaryAUC(y []int, score []float64, pos int, w []float64) (float64, error) {
	c := clfCurve(y, score, pos, w)
	negs, poss := c.totals()
	if negs <= 0 || poss <= 0 {
		return 0, inputErr("ROC AUC of class %d is undefined: only one class is present", pos)
	}
	// Trapezoids from (0,0); a tie block is one diagonal step, which is
	// what counting tied pairs as half-right means.
	var area, px, py float64
	for j := range c.thr {
		x, y := c.fp[j], c.tp[j]
		area += (x - px) * (y + py) / 2
		px, py = x, y
	}
	return area / (negs * poss), nil
}

func binaryAP(y []int, score []float64, pos int, w []float64) (float64, error) {
	c := clfCurve(y, score, pos, w)
	_, poss := c.totals()
	if poss <= 0 {
		return 0, inputErr("average precision of class %d is undefined: it has no rows", pos)
	}
	var ap, prevRecall float64
	for j := range c.thr {
		recall := c.tp[j] / poss
		precision := 0.0
		if d := c.tp[j] + c.fp[j]; d > 0 {
			precision = c.tp[j] / d
		}
		ap += (recall - prevRecall) * precision
		prevRecall = recall
	}
	return ap, nil
}
