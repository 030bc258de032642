// Package metrics scores predictions against targets: the classification
// metrics (accuracy, balanced accuracy, F1, ROC AUC, PR AUC, log loss), the
// regression metrics (RMSE, MAE, R²), and the data behind evaluation charts
// (confusion matrix, ROC and precision–recall curve points, calibration
// bins). A small registry (Metric, Default, Score) lets AutoML and the app
// pick and compute a metric by name.
//
// Numbers follow scikit-learn's definitions, and the tests pin them to values
// scikit-learn computed, so a score seen in Modelsmith can be reproduced in a
// notebook.
//
// Everything here is a pure function on slices. The package must not import
// other Modelsmith packages (in particular storage, app, views) nor Fyne, so
// every layer can use it.
//
// Conventions: classification targets are class indices y[i] in 0..K-1;
// model outputs are probabilities, row-major n×K (binary too: K = 2 and class
// 1 is the positive class), and K is taken from their shape (len(proba)/len(y)); the predicted class of a row is the first column
// with the highest probability. Weights, where accepted, may be nil (every
// row weighs 1); otherwise they must be non-negative with a positive sum.
// Invalid input (empty, mismatched lengths, labels out of range, NaN) is an
// error rather than a NaN score.
package metrics

import (
	"errors"
	"fmt"
	"math"
)

// ErrInput marks input a metric cannot be computed on: empty, mismatched
// shapes, labels out of range, non-finite values, or a single class where
// the metric needs both.
var ErrInput = errors.New("metrics: invalid input")

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInput}, args...)...)
}

// checkClass validates classification input and returns the number of rows
// and of classes; the classes are the columns of proba, so a class absent
// from y still counts.
func checkClass(y []int, proba []float64, w []float64) (n, classes int, err error) {
	n = len(y)
	if n == 0 {
		return 0, 0, inputErr("no rows")
	}
	classes = len(proba) / n
	if len(proba) != n*classes {
		return 0, 0, inputErr("%d probabilities for %d rows: not a whole number of columns", len(proba), n)
	}
	if classes < 2 {
		return 0, 0, inputErr("%d probability columns: classification needs at least 2", classes)
	}
	for i, c := range y {
		if c < 0 || c >= classes {
			return 0, 0, inputErr("label of row %d is %d, not a class index below %d", i+1, c, classes)
		}
	}
	for i, p := range proba {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return 0, 0, inputErr("probability %d of row %d is %v", i%classes, i/classes+1, p)
		}
	}
	if err := checkWeights(w, n); err != nil {
		return 0, 0, err
	}
	return n, classes, nil
}

func checkWeights(w []float64, n int) error {
	if w == nil {
		return nil
	}
	if len(w) != n {
		return inputErr("%d weights for %d rows", len(w), n)
	}
	sum := 0.0
	for i, x := range w {
		if !(x >= 0) || math.IsInf(x, 0) {
			return inputErr("weight of row %d is %v; weights must be finite and non-negative", i+1, x)
		}
		sum += x
	}
	if sum <= 0 {
		return inputErr("weights sum to zero")
	}
	return nil
}

// weight is w[i], or 1 when w is nil.
func weight(w []float64, i int) float64 {
	if w == nil {
		return 1
	}
	return w[i]
}

// argmax is the first index of the largest value, as numpy's argmax, so
// tied probabilities resolve the same way in Go and in a notebook.
func argmax(row []float64) int {
	best := 0
	for k := 1; k < len(row); k++ {
		if row[k] > row[best] {
			best = k
		}
	}
	return best
}

// Predicted returns the predicted class of each row of proba (n×classes):
// the first column with the highest probability.
func Predicted(proba []float64, classes int) []int {
	if classes <= 0 {
		return nil
	}
	n := len(proba) / classes
	pred := make([]int, n)
	for i := range pred {
		pred[i] = argmax(proba[i*classes : (i+1)*classes])
	}
	return pred
}
