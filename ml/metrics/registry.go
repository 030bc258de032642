package metrics

import (
	"fmt"
	"math"
	"strings"
)

// The tasks a metric applies to.
const (
	Binary     = "binary"
	Multiclass = "multiclass"
	Regression = "regression"
)

// Metric describes a metric that Score can compute by name. The same name
// can exist for several tasks ("accuracy" for binary and multiclass); each
// pair is its own entry, because the definition may differ (binary F1 scores
// class 1, multiclass F1 is a macro average).
type Metric struct {
	Name           string // stable identifier: "roc_auc", "rmse", ...
	Label          string // for people: "ROC AUC", "RMSE"
	Task           string // Binary, Multiclass or Regression
	HigherIsBetter bool

	// class computes a classification metric; reg a regression one.
	class func(y []int, proba, w []float64) (float64, error)
	reg   func(y, pred, w []float64) (float64, error)
}

// Better reports whether score a is strictly better than score b.
func (m Metric) Better(a, b float64) bool {
	if m.HigherIsBetter {
		return a > b
	}
	return a < b
}

var registry = func() []Metric {
	var ms []Metric
	for _, task := range []string{Binary, Multiclass} {
		f1 := "F1"
		if task == Multiclass {
			f1 = "F1 (macro)"
		}
		ms = append(ms,
			Metric{Name: "roc_auc", Label: "ROC AUC", Task: task, HigherIsBetter: true, class: ROCAUC},
			Metric{Name: "accuracy", Label: "Accuracy", Task: task, HigherIsBetter: true, class: Accuracy},
			Metric{Name: "balanced_accuracy", Label: "Balanced accuracy", Task: task, HigherIsBetter: true, class: BalancedAccuracy},
			Metric{Name: "f1", Label: f1, Task: task, HigherIsBetter: true, class: F1},
			Metric{Name: "pr_auc", Label: "PR AUC (average precision)", Task: task, HigherIsBetter: true, class: PRAUC},
			Metric{Name: "log_loss", Label: "Log loss", Task: task, class: LogLoss},
		)
	}
	ms = append(ms,
		Metric{Name: "r2", Label: "R²", Task: Regression, HigherIsBetter: true, reg: R2},
		Metric{Name: "rmse", Label: "RMSE", Task: Regression, reg: RMSE},
		Metric{Name: "mae", Label: "MAE", Task: Regression, reg: MAE},
	)
	return ms
}()

// Metrics lists the metrics for a task, the default first.
func Metrics(task string) []Metric {
	var out []Metric
	for _, m := range registry {
		if m.Task == task {
			if m.Name == Default(task) {
				out = append([]Metric{m}, out...)
			} else {
				out = append(out, m)
			}
		}
	}
	return out
}

// Default is the metric AutoML optimises unless told otherwise: ROC AUC for
// binary (threshold-free, insensitive to class balance), accuracy for
// multiclass, R² for regression; "" for an unknown task.
func Default(task string) string {
	switch task {
	case Binary:
		return "roc_auc"
	case Multiclass:
		return "accuracy"
	case Regression:
		return "r2"
	}
	return ""
}

// TaskOf names the task for a class count as learn.Dataset uses it: 0 for
// regression, 2 for binary, more for multiclass.
func TaskOf(classes int) (string, error) {
	switch {
	case classes == 0:
		return Regression, nil
	case classes == 2:
		return Binary, nil
	case classes > 2:
		return Multiclass, nil
	}
	return "", fmt.Errorf("metrics: %d classes: want 0 (regression) or at least 2", classes)
}

// Lookup finds a metric by name for a task. An unknown name is an error
// listing the valid ones.
func Lookup(name, task string) (Metric, error) {
	ms := Metrics(task)
	if len(ms) == 0 {
		return Metric{}, fmt.Errorf("metrics: unknown task %q; valid: %s, %s, %s", task, Binary, Multiclass, Regression)
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		if m.Name == name {
			return m, nil
		}
		names[i] = m.Name
	}
	return Metric{}, fmt.Errorf("metrics: unknown %s metric %q; valid: %s", task, name, strings.Join(names, ", "))
}

// Score computes the named metric of a predictor's output. classes is 0 for
// regression (out holds one prediction per row) or the number of classes
// (out holds n×classes probabilities, row-major, and y the class indices as
// float64), as in learn.Dataset and learn.Predictor.
func Score(name string, y []float64, out []float64, classes int) (float64, error) {
	task, err := TaskOf(classes)
	if err != nil {
		return 0, err
	}
	m, err := Lookup(name, task)
	if err != nil {
		return 0, err
	}
	return m.Score(y, out, classes)
}

// Score computes m; see the package function Score for the arguments.
func (m Metric) Score(y []float64, out []float64, classes int) (float64, error) {
	if m.reg != nil {
		if classes != 0 {
			return 0, fmt.Errorf("metrics: %s is a regression metric, but %d classes were given", m.Name, classes)
		}
		return m.reg(y, out, nil)
	}
	if classes < 2 {
		return 0, fmt.Errorf("metrics: %s is a classification metric, but %d classes were given", m.Name, classes)
	}
	labels := make([]int, len(y))
	for i, v := range y {
		if !(v >= 0 && v < float64(classes)) || v != math.Trunc(v) {
			return 0, inputErr("target of row %d is %v, not a class index below %d", i+1, v, classes)
		}
		labels[i] = int(v)
	}
	if len(out) != len(y)*classes {
		return 0, inputErr("%d outputs for %d rows × %d classes", len(out), len(y), classes)
	}
	return m.class(labels, out, nil)
}
