package metrics

import "math"

func checkReg(y, pred, w []float64) error {
	if len(y) == 0 {
		return inputErr("no rows")
	}
	if len(pred) != len(y) {
		return inputErr("%d predictions for %d rows", len(pred), len(y))
	}
	for i := range y {
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return inputErr("target of row %d is %v", i+1, y[i])
		}
		if math.IsNaN(pred[i]) || math.IsInf(pred[i], 0) {
			return inputErr("prediction of row %d is %v", i+1, pred[i])
		}
	}
	return checkWeights(w, len(y))
}

// RMSE is the square root of the (weighted) mean squared error.
func RMSE(y, pred, w []float64) (float64, error) {
	if err := checkReg(y, pred, w); err != nil {
		return 0, err
	}
	var s, total float64
	for i := range y {
		d := y[i] - pred[i]
		s += weight(w, i) * d * d
		total += weight(w, i)
	}
	return math.Sqrt(s / total), nil
}

// MAE is the (weighted) mean absolute error.
func MAE(y, pred, w []float64) (float64, error) {
	if err := checkReg(y, pred, w); err != nil {
		return 0, err
	}
	var s, total float64
	for i := range y {
		s += weight(w, i) * math.Abs(y[i]-pred[i])
		total += weight(w, i)
	}
	return s / total, nil
}

// R2 is the coefficient of determination, 1 − SSres/SStot: 1 is perfect, 0
// is no better than predicting the (weighted) mean, and it can be negative.
// A constant target makes it 1 for perfect predictions and 0 otherwise, as
// scikit-learn's r2_score (force_finite) does, instead of NaN or -Inf. It
// needs at least two rows.
func R2(y, pred, w []float64) (float64, error) {
	if err := checkReg(y, pred, w); err != nil {
		return 0, err
	}
	if len(y) < 2 {
		return 0, inputErr("R² needs at least 2 rows, got %d", len(y))
	}
	var mean, total float64
	for i := range y {
		mean += weight(w, i) * y[i]
		total += weight(w, i)
	}
	mean /= total
	var res, tot float64
	for i := range y {
		d, e := y[i]-pred[i], y[i]-mean
		res += weight(w, i) * d * d
		tot += weight(w, i) * e * e
	}
	switch {
	case tot != 0:
		return 1 - res/tot, nil
	case res == 0:
		return 1, nil
	}
	return 0, nil
}

// Residuals returns y[i] − pred[i] for each row, in a new slice.
func Residuals(y, pred []float64) ([]float64, error) {
	if err := checkReg(y, pred, nil); err != nil {
		return nil, err
	}
	r := make([]float64, len(y))
	for i := range y {
		r[i] = y[i] - pred[i]
	}
	return r, nil
}
