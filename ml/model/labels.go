package model

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"modelsmith/ml/data"
)

// maxInferredClasses is the most distinct whole numbers a numeric target may
// have for InferTask to call it a classification target.
const maxInferredClasses = 20

// InferTask proposes a task for a target column: Binary or Multiclass for a
// categorical or text column, or a numeric one holding at most 20 distinct
// whole numbers; Regression otherwise. It proposes; the user may override.
func InferTask(col *data.Column) string {
	if col == nil {
		return Regression
	}
	switch col.Kind {
	case data.Categorical, data.Text:
		if len(usedLevels(col)) <= 2 {
			return Binary
		}
		return Multiclass
	case data.Numeric:
		distinct := map[float64]bool{}
		for _, v := range col.Num {
			if math.IsNaN(v) {
				continue
			}
			if v != math.Trunc(v) || math.IsInf(v, 0) {
				return Regression
			}
			distinct[v] = true
			if len(distinct) > maxInferredClasses {
				return Regression
			}
		}
		if len(distinct) <= 2 {
			return Binary
		}
		return Multiclass
	}
	return Regression
}

// Labels turns a target column into the values a learner trains on.
//
// Regression needs a numeric column; y holds its values. Classification
// (Binary, Multiclass) takes a categorical or text column, or a numeric one
// of whole numbers; y holds class indices into classes, the labels sorted —
// numerically when every label is a number ("2" before "10"), else as text.
// Binary needs exactly two classes and Multiclass more than two.
//
// A row without a target is an error naming how many rows and the first
// (1-based): Labels does not drop rows, because the caller must drop the same
// rows from the features; filter them first (data.Column.IsMissing).
func Labels(col *data.Column, task string) (y []float64, classes []string, err error) {
	if col == nil {
		return nil, nil, errors.New("model: no target column")
	}
	missing, first := 0, 0
	for i := range col.Len() {
		if col.IsMissing(i) || col.Kind == data.Numeric && math.IsInf(col.Num[i], 0) {
			if missing == 0 {
				first = i + 1
			}
			missing++
		}
	}
	if missing > 0 {
		return nil, nil, fmt.Errorf("model: target %q is missing in %d rows (first: row %d); drop those rows before training", col.Name, missing, first)
	}
	switch task {
	case Regression:
		if col.Kind != data.Numeric {
			return nil, nil, fmt.Errorf("model: target %q is %v: regression needs a numeric target", col.Name, col.Kind)
		}
		return slices.Clone(col.Num), nil, nil
	case Binary, Multiclass:
	default:
		return nil, nil, fmt.Errorf("model: unknown task %q (want binary, multiclass or regression)", task)
	}
	switch col.Kind {
	case data.Categorical, data.Text:
		y, classes = textLabels(col)
	case data.Numeric:
		if y, classes, err = numericLabels(col); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("model: target %q is %v: classification needs a categorical or whole-number target", col.Name, col.Kind)
	}
	switch {
	case len(classes) == 1:
		return nil, nil, fmt.Errorf("model: target %q has only one class (%q)", col.Name, classes[0])
	case len(classes) == 0:
		return nil, nil, fmt.Errorf("model: target %q has no values", col.Name)
	case task == Binary && len(classes) != 2:
		return nil, nil, fmt.Errorf("model: target %q has %d classes: binary classification needs exactly 2 (use multiclass)", col.Name, len(classes))
	case task == Multiclass && len(classes) == 2:
		return nil, nil, fmt.Errorf("model: target %q has 2 classes: use binary classification", col.Name)
	}
	return y, classes, nil
}

func usedLevels(col *data.Column) []int {
	seen := make([]bool, len(col.Levels))
	var out []int
	for _, c := range col.Codes {
		if c >= 0 && int(c) < len(seen) && !seen[c] {
			seen[c] = true
			out = append(out, int(c))
		}
	}
	return out
}

func textLabels(col *data.Column) ([]float64, []string) {
	used := usedLevels(col)
	byText := map[string]int{} // a level listed twice is one class
	for _, c := range used {
		byText[col.Levels[c]] = 0
	}
	classes := make([]string, 0, len(byText))
	for l := range byText {
		classes = append(classes, l)
	}
	sortLabels(classes)
	for i, l := range classes {
		byText[l] = i
	}
	code := make([]float64, len(col.Levels))
	for _, c := range used {
		code[c] = float64(byText[col.Levels[c]])
	}
	y := make([]float64, len(col.Codes))
	for i, c := range col.Codes {
		y[i] = code[c]
	}
	return y, classes
}

// sortLabels sorts numerically when every label is a number, else as text.
func sortLabels(labels []string) {
	nums := make(map[string]float64, len(labels))
	for _, l := range labels {
		v, err := strconv.ParseFloat(l, 64)
		if err != nil || math.IsNaN(v) {
			slices.Sort(labels)
			return
		}
		nums[l] = v
	}
	slices.SortFunc(labels, func(a, b string) int {
		if c := cmp.Compare(nums[a], nums[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
}

func numericLabels(col *data.Column) ([]float64, []string, error) {
	var values []float64
	seen := map[float64]bool{}
	for i, v := range col.Num {
		if v != math.Trunc(v) {
			return nil, nil, fmt.Errorf("model: target %q has %v in row %d: classification needs whole numbers or categories (use regression?)", col.Name, v, i+1)
		}
		if !seen[v] {
			seen[v] = true
			values = append(values, v)
		}
	}
	slices.Sort(values)
	index := make(map[float64]int, len(values))
	classes := make([]string, len(values))
	for i, v := range values {
		index[v] = i
		classes[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	y := make([]float64, len(col.Num))
	for i, v := range col.Num {
		y[i] = float64(index[v])
	}
	return y, classes, nil
}
