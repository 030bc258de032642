package app

import (
	"modelsmith/ml/metrics"
)

// maxGuessedClasses is how many distinct integers a numeric target may have
// and still be guessed a class label (as ml/model's inference does).
const maxGuessedClasses = 50

// GuessTask guesses a target's task from its column profile, without reading
// the data: two values make a binary task, categories or text more a
// multiclass one, a numeric column of few distinct integers a multiclass one
// too, any other number a regression. Train and AutoML infer the task from
// the values themselves when given none; forms show this guess and let the
// user override it.
func GuessTask(c ColumnInfo) string {
	p := c.Profile
	switch c.Type {
	case "categorical", "text":
		if p.Distinct <= 2 {
			return metrics.Binary
		}
		return metrics.Multiclass
	case "numeric":
		switch {
		case p.Distinct <= 2:
			return metrics.Binary
		case p.Hint == "possibly categorical" && p.Distinct <= maxGuessedClasses:
			return metrics.Multiclass
		}
	}
	return metrics.Regression
}

// GuessTarget is the column a dataset most likely predicts: the one whose
// role is target, else the last column that is not ignored or an id.
func GuessTarget(cols []ColumnInfo) string {
	for _, c := range cols {
		if c.Role == "target" {
			return c.Name
		}
	}
	for i := len(cols) - 1; i >= 0; i-- {
		if cols[i].Role != "ignore" && cols[i].Role != "id" {
			return cols[i].Name
		}
	}
	return ""
}

// TaskMetrics names the metrics of a task, the default (what AutoML
// optimises unless told otherwise) first.
func TaskMetrics(task string) []string {
	var out []string
	for _, m := range metrics.Metrics(task) {
		out = append(out, m.Name)
	}
	return out
}

// CheckParams checks hyperparameters as Train will, before any data is read:
// names, ranges and the family's own checks (nn's layer list). Forms call it
// as the user types.
func CheckParams(algorithm string, params map[string]string) error {
	algo, err := lookupAlgorithm(algorithm)
	if err != nil {
		return err
	}
	values, err := algo.spec.Values(params)
	if err != nil {
		return usageError{err}
	}
	if _, err := algo.spec.New(values); err != nil {
		return usageError{err}
	}
	return nil
}
