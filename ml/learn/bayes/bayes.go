// Package bayes is Modelsmith's naive Bayes family for classification:
// Gaussian naive Bayes for continuous features and multinomial naive Bayes
// for non-negative counts (bag-of-words or TF-IDF features from ml/prep).
// They train in one pass, which makes them AutoML's cheapest baseline.
//
// It takes numeric features only: categorical features must be encoded and
// missing values imputed first (ml/prep does both); Fit names the feature at
// fault otherwise. Regression is refused. At prediction time a missing value
// (and, for multinomial, a negative one) is left out of the likelihood, which
// is what naive Bayes's independence assumption makes exact.
//
// It is a pure library: it must not import storage, app, views or Fyne.
package bayes

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/wire"
)

const family = "bayes"

var params = []learn.Param{
	{Name: "kind", Kind: "choice", Default: "gaussian", Choices: []string{"gaussian", "multinomial"},
		Help: "gaussian for continuous features; multinomial for non-negative counts such as word counts"},
	{Name: "var_smoothing", Kind: "float", Default: "1e-9", Min: 0, Max: 1,
		Help: "gaussian: share of the largest feature variance added to every variance, for stability (as scikit-learn)"},
	{Name: "alpha", Kind: "float", Default: "1", Min: 1e-10, Max: 1e4,
		Help: "multinomial: additive (Laplace) smoothing of the counts"},
}

// Spec describes the family for the CLI, the GUI and AutoML.
var Spec = learn.Spec{
	Name:   family,
	Help:   "Naive Bayes classifiers: Gaussian for continuous features, multinomial for counts. Classification only.",
	Params: params,
	New:    newLearner,
	Decode: func(b []byte) (learn.Predictor, error) { return Decode(b) },
}

func newLearner(values map[string]string) (learn.Learner, error) {
	v, err := learn.Spec{Name: family, Params: params}.Values(values)
	if err != nil {
		return nil, err
	}
	return &Learner{
		Multinomial:  v["kind"] == "multinomial",
		VarSmoothing: learn.Float(v, "var_smoothing"),
		Alpha:        learn.Float(v, "alpha"),
	}, nil
}

// Learner fits a naive Bayes classifier.
type Learner struct {
	Multinomial  bool    // false: Gaussian
	VarSmoothing float64 // Gaussian
	Alpha        float64 // multinomial
}

// ErrRegression is returned for a regression dataset.
var ErrRegression = errors.New("bayes: naive Bayes is for classification, not regression; choose another family")

// Model is a fitted naive Bayes classifier. It is immutable after Fit or
// Decode, so safe for concurrent use.
type Model struct {
	multinomial bool
	classes     int
	logPrior    []float64 // per class; −Inf for a class without training rows
	// Gaussian: mean and variance; multinomial: log P(feature | class) in a
	// and nothing in v. Both classes×features, row-major.
	a, v []float64
	// derived from v by prepare, for Predict: −½log(2πv) and 1/(2v)
	logNorm, halfInv []float64
}

// Fit trains in one pass over the data.
func (l *Learner) Fit(ctx context.Context, d learn.Dataset, opts learn.Options) (learn.Predictor, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("bayes: %w", err)
	}
	if d.Classes == 0 {
		return nil, ErrRegression
	}
	if !(l.VarSmoothing >= 0) || !(l.Alpha > 0) || math.IsInf(l.VarSmoothing+l.Alpha, 0) {
		return nil, fmt.Errorf("bayes: %w: var_smoothing=%v, alpha=%v: want var_smoothing ≥ 0 and alpha > 0", learn.ErrParam, l.VarSmoothing, l.Alpha)
	}
	cols, err := l.numericColumns(d.X)
	if err != nil {
		return nil, err
	}
	n, p, k := d.X.Rows, len(cols), d.Classes
	w := d.W
	if w == nil {
		w = make([]float64, n)
		for i := range w {
			w[i] = 1
		}
	}
	cw := make([]float64, k) // weight of each class
	var sw float64
	for i, x := range w {
		if !(x >= 0) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("bayes: weight of row %d is %v: weights must be finite and non-negative", i+1, x)
		}
		cw[int(d.Y[i])] += x
		sw += x
	}
	if sw <= 0 {
		return nil, errors.New("bayes: all row weights are zero")
	}
	m := &Model{multinomial: l.Multinomial, classes: k, logPrior: make([]float64, k), a: make([]float64, k*p)}
	for c := range k {
		m.logPrior[c] = math.Log(cw[c] / sw)
	}
	if l.Multinomial {
		err = m.fitMultinomial(ctx, cols, d.Y, w, l.Alpha)
	} else {
		err = m.fitGaussian(ctx, cols, d.Y, w, cw, sw, l.VarSmoothing)
	}
	if err != nil {
		return nil, err
	}
	m.prepare()
	if opts.Progress != nil || opts.Valid != nil {
		train, err := m.logloss(&d)
		if err != nil {
			return nil, err
		}
		valid := math.NaN()
		if opts.Valid != nil {
			if valid, err = m.logloss(opts.Valid); err != nil {
				return nil, fmt.Errorf("bayes: validation set: %w", err)
			}
		}
		if opts.Progress != nil {
			opts.Progress(learn.Iteration{Step: 1, Total: 1, Metric: "logloss", Loss: train, ValidLoss: valid})
		}
	}
	return m, nil
}

// numericColumns returns X's columns, refusing what the model cannot use, so
// the user hears which feature to fix.
func (l *Learner) numericColumns(X *learn.Features) ([][]float64, error) {
	cols := make([][]float64, len(X.Cols))
	for j := range X.Cols {
		c := &X.Cols[j]
		if c.IsCategorical() {
			return nil, fmt.Errorf("bayes: feature %q is categorical; encode it first", c.Name)
		}
		for i, x := range c.Num {
			switch {
			case math.IsNaN(x):
				return nil, fmt.Errorf("bayes: feature %q has missing values; impute first", c.Name)
			case math.IsInf(x, 0):
				return nil, fmt.Errorf("bayes: feature %q is infinite in row %d", c.Name, i+1)
			case l.Multinomial && x < 0:
				return nil, fmt.Errorf("bayes: feature %q has negative values (%v in row %d); multinomial naive Bayes needs counts", c.Name, x, i+1)
			}
		}
		cols[j] = c.Num
	}
	return cols, nil
}

// fitGaussian estimates each class's weighted mean and variance per feature.
// As scikit-learn does, a share of the largest overall variance is added to
// all of them so that a feature constant within a class does not give an
// infinite density.
func (m *Model) fitGaussian(ctx context.Context, cols [][]float64, y, w, cw []float64, sw, smoothing float64) error {
	k, p := m.classes, len(cols)
	m.v = make([]float64, k*p)
	var maxVar float64
	sum := make([]float64, k)
	for j, col := range cols {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bayes: %w", err)
		}
		clear(sum)
		var all float64
		for i, x := range col {
			sum[int(y[i])] += w[i] * x
			all += w[i] * x
		}
		all /= sw
		for c := range k {
			if cw[c] > 0 {
				m.a[c*p+j] = sum[c] / cw[c]
			}
		}
		var allVar float64
		for i, x := range col {
			c := int(y[i])
			t := x - m.a[c*p+j]
			m.v[c*p+j] += w[i] * t * t
			allVar += w[i] * (x - all) * (x - all)
		}
		maxVar = math.Max(maxVar, allVar/sw)
		for c := range k {
			if cw[c] > 0 {
				m.v[c*p+j] /= cw[c]
			}
		}
	}
	// The floor keeps densities finite when smoothing is 0 or every feature is
	// constant.
	eps := math.Max(smoothing*maxVar, math.Max(1e-12*maxVar, 1e-300))
	for c := range k {
		for j := range p {
			if cw[c] == 0 {
				m.v[c*p+j] = 1 // a class never seen: its prior is 0 anyway
			} else {
				m.v[c*p+j] += eps
			}
		}
	}
	return nil
}

// fitMultinomial estimates log P(feature | class) from smoothed counts.
func (m *Model) fitMultinomial(ctx context.Context, cols [][]float64, y, w []float64, alpha float64) error {
	k, p := m.classes, len(cols)
	total := make([]float64, k)
	for j, col := range cols {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bayes: %w", err)
		}
		for i, x := range col {
			c := int(y[i])
			m.a[c*p+j] += w[i] * x
		}
		for c := range k {
			total[c] += m.a[c*p+j]
		}
	}
	for c := range k {
		den := math.Log(total[c] + alpha*float64(p))
		for j := range p {
			m.a[c*p+j] = math.Log(m.a[c*p+j]+alpha) - den
		}
	}
	return nil
}

// prepare derives what Predict needs from the Gaussian variances.
func (m *Model) prepare() {
	if m.multinomial {
		return
	}
	m.logNorm = make([]float64, len(m.v))
	m.halfInv = make([]float64, len(m.v))
	for i, v := range m.v {
		m.logNorm[i] = -0.5 * math.Log(2*math.Pi*v)
		m.halfInv[i] = 0.5 / v
	}
}

func (m *Model) logloss(d *learn.Dataset) (float64, error) {
	if err := d.Validate(); err != nil {
		return 0, err
	}
	if len(d.X.Cols) != len(m.a)/m.classes || d.Classes != m.classes {
		return 0, fmt.Errorf("%d features and %d classes; training had %d and %d", len(d.X.Cols), d.Classes, len(m.a)/m.classes, m.classes)
	}
	out := make([]float64, d.X.Rows*m.classes)
	m.Predict(d.X, out)
	var loss, sw float64
	for i, y := range d.Y {
		wi := 1.0
		if d.W != nil {
			wi = d.W[i]
		}
		loss -= wi * math.Log(math.Max(out[i*m.classes+int(y)], 1e-15))
		sw += wi
	}
	return loss / sw, nil
}

// Outputs is the number of classes.
func (m *Model) Outputs() int { return m.classes }

// Family is "bayes".
func (m *Model) Family() string { return family }

// Predict writes the class probabilities of each row. Missing values (NaN, or
// a categorical column where a numeric one was trained) and, for multinomial,
// negative values are left out. It panics if X has a different number of
// features than the training data or out has the wrong length: both are
// programming errors that the pipeline's schema check rules out.
func (m *Model) Predict(X *learn.Features, out []float64) {
	k := m.classes
	p := len(m.a) / k
	if len(X.Cols) != p || len(out) != X.Rows*k {
		panic("bayes: Predict: got " + strconv.Itoa(len(X.Cols)) + " features and " + strconv.Itoa(len(out)) +
			" outputs for " + strconv.Itoa(X.Rows) + " rows; want " + strconv.Itoa(p) + " features and " + strconv.Itoa(k) + " per row")
	}
	for i := range X.Rows {
		copy(out[i*k:(i+1)*k], m.logPrior)
	}
	// Log joint probabilities accumulate column by column, reading each
	// column sequentially.
	for j := range p {
		col := X.Cols[j].Num
		if len(col) != X.Rows {
			continue
		}
		for i, x := range col {
			if math.IsNaN(x) || m.multinomial && x < 0 {
				continue
			}
			o := out[i*k : (i+1)*k]
			for c := range k {
				cj := c*p + j
				if m.multinomial {
					if x != 0 {
						o[c] += x * m.a[cj]
					}
				} else {
					t := x - m.a[cj]
					o[c] += m.logNorm[cj] - t*t*m.halfInv[cj]
				}
			}
		}
	}
	for i := range X.Rows {
		softmax(out[i*k : (i+1)*k])
	}
}

// softmax turns log joint probabilities into probabilities in place. A row
// no class can explain (every log joint −Inf, from an extreme value) gets
// equal probabilities rather than NaN.
func softmax(s []float64) {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = math.Max(mx, v)
	}
	if math.IsInf(mx, 0) || math.IsNaN(mx) {
		for i := range s {
			s[i] = 1 / float64(len(s))
		}
		return
	}
	var sum float64
	for i, v := range s {
		s[i] = math.Exp(v - mx)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
}

const (
	magic   = "MSNB"
	version = 1
)

// MarshalBinary encodes the model: a magic, a version, then the fields.
func (m *Model) MarshalBinary() ([]byte, error) {
	e := wire.Encoder{B: append(make([]byte, 0, 64+8*(len(m.a)+len(m.v)+len(m.logPrior))), magic...)}
	e.U64(version)
	kind := uint64(0)
	if m.multinomial {
		kind = 1
	}
	e.U64(kind)
	e.Floats(m.logPrior)
	e.Floats(m.a)
	e.Floats(m.v)
	return e.B, nil
}

// Decode reverses MarshalBinary. It returns an error, never panics, on bytes
// that are not a model it can use.
func Decode(b []byte) (*Model, error) {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, errors.New("bayes: decode: not a naive Bayes model")
	}
	d := wire.NewDecoder(b[len(magic):], "bayes")
	if v := d.U64(); d.Err == nil && v != version {
		return nil, fmt.Errorf("bayes: decode: model format version %d; this build reads version %d", v, version)
	}
	kind := d.U64()
	m := &Model{logPrior: d.Floats(), a: d.Floats(), v: d.Floats()}
	if d.Err != nil {
		return nil, d.Err
	}
	if len(d.B) != 0 {
		return nil, fmt.Errorf("bayes: decode: %d bytes after the model", len(d.B))
	}
	m.multinomial, m.classes = kind == 1, len(m.logPrior)
	if kind > 1 || m.classes < 2 || len(m.a) == 0 || len(m.a)%m.classes != 0 ||
		m.multinomial && len(m.v) != 0 || !m.multinomial && len(m.v) != len(m.a) {
		return nil, errors.New("bayes: decode: inconsistent shapes")
	}
	seen := false
	for _, x := range m.logPrior {
		if math.IsNaN(x) || x > 0 {
			return nil, errors.New("bayes: decode: bad class prior")
		}
		seen = seen || !math.IsInf(x, -1)
	}
	if !seen {
		return nil, errors.New("bayes: decode: no class has a prior")
	}
	for _, x := range m.a {
		if math.IsNaN(x) || math.IsInf(x, 0) || m.multinomial && x > 0 {
			return nil, errors.New("bayes: decode: bad parameter")
		}
	}
	for _, x := range m.v {
		if !(x > 0) || math.IsInf(x, 0) {
			return nil, errors.New("bayes: decode: bad variance")
		}
	}
	m.prepare()
	return m, nil
}
