// Package linear is Modelsmith's family of linear models: logistic regression
// (binary) and softmax regression (multiclass) fitted by L-BFGS with an L2
// penalty (or by proximal gradient with an L1 penalty), and ridge (closed
// form) and lasso (coordinate descent) regression.
//
// The models take numeric features only: categorical features must be encoded
// and missing values imputed first (ml/prep does both); Fit says which feature
// is at fault otherwise. Features are standardised inside the model (the mean
// and standard deviation of each training column are stored with it), so the
// penalty treats every feature alike and the model can be given raw numeric
// columns as well as ones ml/prep has already scaled. At prediction time a
// missing value counts as the training mean, so it adds nothing to the score.
//
// It is a pure library: it must not import storage, app, views or Fyne.
package linear

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/wire"
)

// family is the name models are decoded by.
const family = "linear"

var params = []learn.Param{
	{Name: "C", Kind: "float", Default: "1", Min: 1e-6, Max: 1e6,
		Help: "inverse penalty strength for classification: the loss is C·Σ logloss + penalty (as scikit-learn's LogisticRegression)"},
	{Name: "alpha", Kind: "float", Default: "1", Min: 0, Max: 1e6,
		Help: "penalty strength for regression: ridge minimises ‖y−Xw‖² + alpha‖w‖², lasso (1/2n)‖y−Xw‖² + alpha‖w‖₁"},
	{Name: "penalty", Kind: "choice", Default: "l2", Choices: []string{"l2", "l1"},
		Help: "l2 (logistic/softmax by L-BFGS, ridge) or l1 (sparse: proximal gradient, lasso)"},
	{Name: "max_iter", Kind: "int", Default: "200", Min: 1, Max: 100000,
		Help: "most optimiser iterations (L-BFGS iterations or coordinate-descent sweeps)"},
	{Name: "tol", Kind: "float", Default: "0.0001", Min: 0, Max: 1,
		Help: "stop when the gradient (L-BFGS) or the largest coefficient change (l1) falls below this"},
}

// Spec describes the family for the CLI, the GUI and AutoML.
var Spec = learn.Spec{
	Name:   family,
	Help:   "Linear models on standardised numeric features: logistic/softmax regression for classification, ridge or lasso for regression.",
	Params: params,
	New:    newLearner,
	Decode: func(b []byte) (learn.Predictor, error) { return Decode(b) },
}

func newLearner(values map[string]string) (learn.Learner, error) {
	// Values again, so that a caller giving a partial map gets defaults rather
	// than a panic from learn.Float.
	v, err := learn.Spec{Name: family, Params: params}.Values(values)
	if err != nil {
		return nil, err
	}
	return &Learner{
		C:       learn.Float(v, "C"),
		Alpha:   learn.Float(v, "alpha"),
		Penalty: v["penalty"],
		MaxIter: learn.Int(v, "max_iter"),
		Tol:     learn.Float(v, "tol"),
	}, nil
}

// Learner fits a linear model. The zero value is not useful; use Spec.New or
// fill every field (the defaults are in Spec.Params).
type Learner struct {
	C       float64 // classification: inverse penalty strength
	Alpha   float64 // regression: penalty strength
	Penalty string  // "l2" or "l1"
	MaxIter int
	Tol     float64
}

// Model is a fitted linear model. It is immutable, so safe for concurrent use.
type Model struct {
	classes int       // 0 for regression
	mean    []float64 // per feature, of the training data
	scale   []float64 // per feature; 1 for a constant column
	// coef holds k rows of len(mean) weights on standardised features: k is 1
	// for regression and binary classification, classes otherwise.
	coef      []float64
	intercept []float64 // k values
}

// Fit trains on d. It is deterministic: the result does not depend on
// opts.Threads (partial sums are always merged in the same order).
func (l *Learner) Fit(ctx context.Context, d learn.Dataset, opts learn.Options) (learn.Predictor, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	cols, err := numericColumns(d.X)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("linear: %w", err)
	}
	w := d.W
	if w == nil {
		w = make([]float64, d.X.Rows)
		for i := range w {
			w[i] = 1
		}
	}
	var sw float64
	for i, x := range w {
		if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("linear: weight of row %d is %v: weights must be finite and non-negative", i+1, x)
		}
		sw += x
	}
	if sw <= 0 {
		return nil, fmt.Errorf("linear: all row weights are zero")
	}
	m := &Model{classes: d.Classes}
	m.mean, m.scale = standardise(cols, w, sw)
	z := make([][]float64, len(cols))
	for j, c := range cols {
		z[j] = make([]float64, len(c))
		for i, x := range c {
			z[j][i] = (x - m.mean[j]) / m.scale[j]
		}
	}
	var valid *validSet
	if opts.Valid != nil {
		if valid, err = m.prepareValid(opts.Valid); err != nil {
			return nil, err
		}
	}
	p := &problem{
		z: z, y: d.Y, w: w, sw: sw, classes: d.Classes,
		threads: opts.Threads, valid: valid, progress: opts.Progress, maxIter: l.MaxIter, tol: l.Tol,
	}
	switch {
	case d.Classes == 0 && l.Penalty == "l1":
		err = p.lasso(ctx, m, l.Alpha)
	case d.Classes == 0:
		err = p.ridge(ctx, m, l.Alpha)
	case l.Penalty == "l1":
		err = p.classifyL1(ctx, m, l.C)
	default:
		err = p.classifyL2(ctx, m, l.C)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (l *Learner) check() error {
	switch {
	case !(l.C > 0) || math.IsInf(l.C, 0):
		return fmt.Errorf("linear: %w: C=%v: want a positive number", learn.ErrParam, l.C)
	case !(l.Alpha >= 0) || math.IsInf(l.Alpha, 0):
		return fmt.Errorf("linear: %w: alpha=%v: want a number ≥ 0", learn.ErrParam, l.Alpha)
	case l.Penalty != "l1" && l.Penalty != "l2":
		return fmt.Errorf("linear: %w: penalty=%q: want l1 or l2", learn.ErrParam, l.Penalty)
	case l.MaxIter < 1:
		return fmt.Errorf("linear: %w: max_iter=%d: want at least 1", learn.ErrParam, l.MaxIter)
	case !(l.Tol >= 0):
		return fmt.Errorf("linear: %w: tol=%v: want a number ≥ 0", learn.ErrParam, l.Tol)
	}
	return nil
}

// numericColumns returns X's columns, refusing what the model cannot use, so
// the user hears which feature to fix rather than getting NaN predictions.
func numericColumns(X *learn.Features) ([][]float64, error) {
	cols := make([][]float64, len(X.Cols))
	for j := range X.Cols {
		c := &X.Cols[j]
		if c.IsCategorical() {
			return nil, fmt.Errorf("linear: feature %q is categorical; encode it first", c.Name)
		}
		for i, x := range c.Num {
			if math.IsNaN(x) {
				return nil, fmt.Errorf("linear: feature %q has missing values; impute first", c.Name)
			}
			if math.IsInf(x, 0) {
				return nil, fmt.Errorf("linear: feature %q is infinite in row %d", c.Name, i+1)
			}
		}
		cols[j] = c.Num
	}
	return cols, nil
}

// standardise returns the weighted mean and (population) standard deviation
// of each column; a constant column gets scale 1 so it standardises to zeros.
func standardise(cols [][]float64, w []float64, sw float64) (mean, scale []float64) {
	mean = make([]float64, len(cols))
	scale = make([]float64, len(cols))
	for j, c := range cols {
		var s float64
		for i, x := range c {
			s += w[i] * x
		}
		mu := s / sw
		var v float64
		for i, x := range c {
			v += w[i] * (x - mu) * (x - mu)
		}
		sd := math.Sqrt(v / sw)
		if !(sd > 1e-12*math.Max(1, math.Abs(mu))) || math.IsInf(sd, 0) {
			sd = 1
		}
		mean[j], scale[j] = mu, sd
	}
	return mean, scale
}

// validSet is the validation data, standardised with the training statistics.
type validSet struct {
	z [][]float64
	y []float64
	w []float64
}

func (m *Model) prepareValid(v *learn.Dataset) (*validSet, error) {
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("linear: validation set: %w", err)
	}
	if len(v.X.Cols) != len(m.mean) {
		return nil, fmt.Errorf("linear: validation set has %d features, training %d", len(v.X.Cols), len(m.mean))
	}
	if v.Classes != m.classes {
		return nil, fmt.Errorf("linear: validation set has %d classes, training %d", v.Classes, m.classes)
	}
	cols, err := numericColumns(v.X)
	if err != nil {
		return nil, fmt.Errorf("validation set: %w", err)
	}
	vs := &validSet{z: make([][]float64, len(cols)), y: v.Y, w: v.W}
	for j, c := range cols {
		vs.z[j] = make([]float64, len(c))
		for i, x := range c {
			vs.z[j][i] = (x - m.mean[j]) / m.scale[j]
		}
	}
	return vs, nil
}

// Outputs is 1 for regression, the number of classes otherwise.
func (m *Model) Outputs() int {
	if m.classes == 0 {
		return 1
	}
	return m.classes
}

// Family is "linear".
func (m *Model) Family() string { return family }

// Predict writes one value per row (regression) or the class probabilities.
// A missing value (NaN, or a categorical column where a numeric one was
// trained) counts as the training mean. It panics if X has a different number
// of features than the training data or out has the wrong length: both are
// programming errors that the pipeline's schema check rules out.
func (m *Model) Predict(X *learn.Features, out []float64) {
	p, k, o := len(m.mean), len(m.intercept), m.Outputs()
	if len(X.Cols) != p || len(out) != X.Rows*o {
		panic("linear: Predict: got " + strconv.Itoa(len(X.Cols)) + " features and " + strconv.Itoa(len(out)) +
			" outputs for " + strconv.Itoa(X.Rows) + " rows; want " + strconv.Itoa(p) + " features and " + strconv.Itoa(o) + " per row")
	}
	// Scores go into out's slots (for binary, the positive class's slot) and
	// are accumulated column by column, which reads each column sequentially.
	off := o - k
	for i := range X.Rows {
		for c := range k {
			out[i*o+off+c] = m.intercept[c]
		}
	}
	for j := range p {
		col := X.Cols[j].Num
		if len(col) != X.Rows {
			continue // categorical or absent: missing everywhere
		}
		mu, s := m.mean[j], m.scale[j]
		for i, x := range col {
			if math.IsNaN(x) {
				continue
			}
			zv := (x - mu) / s
			for c := range k {
				out[i*o+off+c] += m.coef[c*p+j] * zv
			}
		}
	}
	switch {
	case m.classes == 2:
		for i := range X.Rows {
			q := sigmoid(out[i*2+1])
			out[i*2], out[i*2+1] = 1-q, q
		}
	case m.classes > 2:
		for i := range X.Rows {
			softmax(out[i*o : (i+1)*o])
		}
	}
}

func sigmoid(s float64) float64 {
	if s >= 0 {
		return 1 / (1 + math.Exp(-s))
	}
	e := math.Exp(s)
	return e / (1 + e)
}

// softmax turns scores into probabilities in place and returns log Σ exp.
func softmax(s []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = math.Max(mx, v)
	}
	var sum float64
	for i, v := range s {
		s[i] = math.Exp(v - mx)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
	return mx + math.Log(sum)
}

// softplus is log(1+e^x) without overflow.
func softplus(x float64) float64 {
	return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

const (
	magic   = "MSLN"
	version = 1
)

// MarshalBinary encodes the model: a magic, a version, then the fields.
func (m *Model) MarshalBinary() ([]byte, error) {
	e := wire.Encoder{B: append(make([]byte, 0, 64+8*(len(m.coef)+3*len(m.mean))), magic...)}
	e.U64(version)
	e.U64(uint64(m.classes))
	e.Floats(m.mean)
	e.Floats(m.scale)
	e.Floats(m.coef)
	e.Floats(m.intercept)
	return e.B, nil
}

// Decode reverses MarshalBinary. It returns an error, never panics, on bytes
// that are not a model it can use.
func Decode(b []byte) (*Model, error) {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("linear: decode: not a linear model")
	}
	d := wire.NewDecoder(b[len(magic):], "linear")
	if v := d.U64(); d.Err == nil && v != version {
		return nil, fmt.Errorf("linear: decode: model format version %d; this build reads version %d", v, version)
	}
	classes := d.U64()
	m := &Model{mean: d.Floats(), scale: d.Floats(), coef: d.Floats(), intercept: d.Floats()}
	if d.Err != nil {
		return nil, d.Err
	}
	if len(d.B) != 0 {
		return nil, fmt.Errorf("linear: decode: %d bytes after the model", len(d.B))
	}
	if classes == 1 || classes > 1<<20 {
		return nil, fmt.Errorf("linear: decode: %d classes", classes)
	}
	m.classes = int(classes)
	p, k := len(m.mean), 1
	if m.classes > 2 {
		k = m.classes
	}
	if p == 0 || len(m.scale) != p || len(m.intercept) != k || len(m.coef) != k*p {
		return nil, fmt.Errorf("linear: decode: inconsistent shapes")
	}
	for _, v := range [][]float64{m.mean, m.scale, m.coef, m.intercept} {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("linear: decode: non-finite parameter")
			}
		}
	}
	for _, s := range m.scale {
		if !(s > 0) {
			return nil, fmt.Errorf("linear: decode: non-positive scale")
		}
	}
	return m, nil
}
