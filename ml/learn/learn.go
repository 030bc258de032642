// Package learn is the contract between Modelsmith's learning algorithms and
// the rest of the app: the feature matrix a learner trains on, the Learner and
// Predictor interfaces every family (gbdt, forest, linear, knn, bayes, nn)
// implements, training options and progress, and hyperparameter specs that the
// CLI and GUI validate against.
//
// Families live in sub-packages (ml/learn/gbdt, ...) and import this package;
// this package imports none of them, and nothing of storage, app or Fyne.
package learn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Feature is one input column after preprocessing. Exactly one of Num and
// Codes is set.
//
// Num: a numeric feature, NaN for a missing value.
// Codes: a categorical feature with codes 0..Levels-1, -1 for missing (or for
// a level unseen at training time, which learners treat as missing).
type Feature struct {
	Name   string
	Num    []float64
	Codes  []int32
	Levels int
}

// IsCategorical reports whether f holds codes.
func (f *Feature) IsCategorical() bool { return f.Codes != nil }

// Features is a column-major feature matrix. All columns have Rows values.
type Features struct {
	Rows int
	Cols []Feature
}

// Dataset is what a learner trains on. Y holds the regression target, or for
// classification the class index 0..Classes-1 as a float64. Classes is 0 for
// regression, 2 for binary, K for multiclass. W (optional) weights the rows.
type Dataset struct {
	X       *Features
	Y       []float64
	W       []float64
	Classes int
}

// Validate checks shapes and labels; learners call it first.
func (d Dataset) Validate() error {
	if d.X == nil || len(d.X.Cols) == 0 {
		return errors.New("learn: no features")
	}
	n := d.X.Rows
	if n == 0 {
		return errors.New("learn: no rows")
	}
	if len(d.Y) != n {
		return fmt.Errorf("learn: %d targets for %d rows", len(d.Y), n)
	}
	if d.W != nil && len(d.W) != n {
		return fmt.Errorf("learn: %d weights for %d rows", len(d.W), n)
	}
	for j := range d.X.Cols {
		c := &d.X.Cols[j]
		if (c.Num == nil) == (c.Codes == nil) {
			return fmt.Errorf("learn: feature %q must be numeric or categorical", c.Name)
		}
		if len(c.Num)+len(c.Codes) != n {
			return fmt.Errorf("learn: feature %q has %d values for %d rows", c.Name, len(c.Num)+len(c.Codes), n)
		}
	}
	if d.Classes == 1 || d.Classes < 0 {
		return fmt.Errorf("learn: %d classes: classification needs at least 2", d.Classes)
	}
	for i, y := range d.Y {
		if math.IsNaN(y) || math.IsInf(y, 0) {
			return fmt.Errorf("learn: target of row %d is missing or infinite", i+1)
		}
		if d.Classes > 0 && (y < 0 || y >= float64(d.Classes) || y != math.Trunc(y)) {
			return fmt.Errorf("learn: target of row %d is %v, not a class index below %d", i+1, y, d.Classes)
		}
	}
	return nil
}

// Iteration is one step of training (a tree, an epoch, an L-BFGS iteration):
// the numbers a learning curve plots. Loss is the training objective
// (logloss for classification, squared error / 2 or RMSE for regression, as
// Metric says), NaN on steps where a learner skipped computing it because it
// is costly (gbdt computes it every few rounds); ValidLoss is NaN when there
// is no validation set.
type Iteration struct {
	Step      int
	Total     int // planned steps; 0 if unknown
	Metric    string
	Loss      float64
	ValidLoss float64
}

// Options are the settings every learner honours.
type Options struct {
	// Seed makes training deterministic: the same data, params and seed give
	// an identical model, whatever the number of cores.
	Seed uint64
	// Valid, if set, is used for early stopping and validation curves.
	Valid *Dataset
	// Progress, if set, is called after every iteration, on the training
	// goroutine; it must be quick.
	Progress func(Iteration)
	// Threads bounds parallelism; 0 means all cores.
	Threads int
}

// Learner trains a model. Fit returns ctx.Err() (wrapped) within about a
// second of ctx being cancelled, checking between iterations.
type Learner interface {
	Fit(ctx context.Context, train Dataset, opts Options) (Predictor, error)
}

// Predictor is a trained model.
type Predictor interface {
	// Outputs is the number of values per row: 1 for regression, Classes for
	// classification (class probabilities, summing to 1; binary too).
	Outputs() int
	// Predict writes Outputs() values per row of X, row-major, into out
	// (len(out) == X.Rows*Outputs()). It must not allocate per row and must be
	// safe for concurrent use.
	Predict(X *Features, out []float64)
	// Family names the package that can decode the model ("gbdt", ...).
	Family() string
	// MarshalBinary encodes the model; the family's Decode reverses it.
	MarshalBinary() ([]byte, error)
}

// ErrParam marks an invalid hyperparameter name or value.
var ErrParam = errors.New("invalid hyperparameter")

// Param describes one hyperparameter. Kind is "int", "float", "bool",
// "choice" (then Choices lists the values, and may list common values of a
// "text" parameter too) or "text" (any non-empty text, checked by the
// family's New, which returns an error wrapping ErrParam). Min and Max bound numbers
// (inclusive), ignored when equal.
type Param struct {
	Name    string
	Kind    string
	Default string
	Min     float64
	Max     float64
	Choices []string
	Help    string
}

// Spec describes one algorithm family: its name, its hyperparameters, how to
// build a learner from values given as text (the CLI's --set key=value), and
// how to decode its models.
type Spec struct {
	Name   string
	Help   string
	Params []Param
	// New builds a learner; values holds only names from Params, already
	// checked by Values (defaults filled in).
	New func(values map[string]string) (Learner, error)
	// Decode reverses Predictor.MarshalBinary; it must never panic on corrupt
	// input.
	Decode func(b []byte) (Predictor, error)
}

// Values checks the given hyperparameters against the spec and returns them
// with defaults filled in. Unknown names and values out of range are errors
// (wrapping ErrParam) that list what is valid.
func (s Spec) Values(given map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(s.Params))
	byName := map[string]Param{}
	for _, p := range s.Params {
		byName[p.Name] = p
		out[p.Name] = p.Default
	}
	names := make([]string, 0, len(given))
	for k := range given {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := given[k]
		p, ok := byName[k]
		if !ok {
			return nil, fmt.Errorf("%w: %s has no hyperparameter %q; valid: %s", ErrParam, s.Name, k, s.paramNames())
		}
		if err := p.check(v); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrParam, s.Name, err)
		}
		out[k] = v
	}
	return out, nil
}

func (s Spec) paramNames() string {
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Describe is the parameter's valid values in words: "int in [1, 1000]".
func (p Param) Describe() string {
	switch p.Kind {
	case "choice":
		return "one of " + strings.Join(p.Choices, ", ")
	case "bool":
		return "true or false"
	case "text":
		if len(p.Choices) > 0 {
			return "text such as " + strings.Join(p.Choices, " or ")
		}
		return "text"
	}
	if p.Min != p.Max {
		return fmt.Sprintf("%s in [%g, %g]", p.Kind, p.Min, p.Max)
	}
	return p.Kind
}

func (p Param) check(v string) error {
	bad := func() error { return fmt.Errorf("%s=%q: want %s", p.Name, v, p.Describe()) }
	switch p.Kind {
	case "choice":
		for _, c := range p.Choices {
			if v == c {
				return nil
			}
		}
		return bad()
	case "bool":
		if _, err := strconv.ParseBool(v); err != nil {
			return bad()
		}
		return nil
	case "text":
		if strings.TrimSpace(v) == "" {
			return bad()
		}
		return nil
	case "int":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || p.Min != p.Max && (float64(n) < p.Min || float64(n) > p.Max) {
			return bad()
		}
		return nil
	case "float":
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || p.Min != p.Max && (x < p.Min || x > p.Max) {
			return bad()
		}
		return nil
	}
	return fmt.Errorf("%s: unknown parameter kind %q", p.Name, p.Kind)
}

// Int, Float and Bool read a checked value; they panic on a name the spec
// does not have, which is a programming error in the family's New.
func Int(values map[string]string, name string) int {
	n, err := strconv.Atoi(mustValue(values, name))
	if err != nil {
		panic("learn: " + name + ": " + err.Error())
	}
	return n
}

func Float(values map[string]string, name string) float64 {
	x, err := strconv.ParseFloat(mustValue(values, name), 64)
	if err != nil {
		panic("learn: " + name + ": " + err.Error())
	}
	return x
}

func Bool(values map[string]string, name string) bool {
	b, err := strconv.ParseBool(mustValue(values, name))
	if err != nil {
		panic("learn: " + name + ": " + err.Error())
	}
	return b
}

func mustValue(values map[string]string, name string) string {
	v, ok := values[name]
	if !ok {
		panic("learn: no value for " + name)
	}
	return v
}
