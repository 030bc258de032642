// Package forest is Modelsmith's random forest and extra trees learner:
// bagged, fully grown decision trees on the binned feature matrix of
// ml/learn/binning (shared with gbdt), grown depth-first from per-node bin
// histograms, with native categorical splits, learnt missing-value
// directions and out-of-bag loss curves. Trees are grown in parallel, each
// from its own random stream derived from the seed and the tree index, so a
// model does not depend on the number of cores.
//
// Models are exported as plain trees (Model, Tree, Node) with float32
// thresholds compared as float32(x) <= threshold and float32 leaf values, so
// that an ONNX TreeEnsemble built from them decides every row as Predict
// does.
//
// The package depends on ml/learn and ml/learn/binning only; it must not
// import storage, app, views or Fyne.
package forest

import (
	"fmt"
	"math"
	"strconv"

	"modelsmith/ml/learn"
)

// Criteria.
const (
	Gini         = "gini"
	Entropy      = "entropy"
	SquaredError = "squared_error"
)

// Params are the hyperparameters, named as scikit-learn users know them.
type Params struct {
	NEstimators    int // trees
	MaxDepth       int // <= 0: unlimited
	MinSamplesLeaf int // distinct training rows in each leaf
	// MaxFeatures is how many features each split considers: "auto" (sqrt
	// for classification, all for regression, as scikit-learn >= 1.1),
	// "sqrt", "log2", "all", or a fraction in (0, 1] such as "0.5". As in
	// scikit-learn, a split keeps drawing features past this number while
	// those drawn are constant in the node.
	MaxFeatures string
	// Bootstrap trains each tree on a bootstrap sample (drawn rows weighted
	// by how often they were drawn) and enables the out-of-bag loss.
	Bootstrap bool
	// ExtraTrees draws one random threshold per feature (uniform over the
	// feature's bins present in the node, so over its quantiles rather than
	// its range as scikit-learn does) instead of searching for the best.
	// Unlike scikit-learn's ExtraTrees, bootstrap stays on unless turned off.
	ExtraTrees bool
	MaxBin     int    // value bins per numeric feature, 2..255
	Criterion  string // auto, gini, entropy (classification), squared_error (regression)
	// TimeLimit, when above 0, ends training after that many seconds with
	// the trees grown so far (at least one): AutoML gives every fit its
	// share of the budget. The model then depends on the machine's speed.
	TimeLimit float64
}

// DefaultParams are Spec's defaults: scikit-learn's RandomForest with 300
// trees, the baseline the project compares with.
func DefaultParams() Params {
	return Params{
		NEstimators:    300,
		MaxDepth:       -1,
		MinSamplesLeaf: 1,
		MaxFeatures:    "auto",
		Bootstrap:      true,
		MaxBin:         255,
		Criterion:      "auto",
	}
}

var maxFeatureChoices = []string{"auto", "sqrt", "log2", "all", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8", "0.9"}

// Spec describes the family for the CLI, the GUI and AutoML.
var Spec = learn.Spec{
	Name:   "forest",
	Help:   "Random forest / extra trees: bagged, fully grown trees on binned features with native categorical splits and learnt missing-value directions.",
	Params: specParams,
	New:    newFromValues,
	Decode: func(b []byte) (learn.Predictor, error) { return Decode(b) },
}

var specParams = []learn.Param{
	{Name: "n_estimators", Kind: "int", Default: "300", Min: 1, Max: 100000, Help: "Number of trees."},
	{Name: "max_depth", Kind: "int", Default: "-1", Min: -1, Max: 1000, Help: "Maximum tree depth; -1 or 0 means unlimited."},
	{Name: "min_samples_leaf", Kind: "int", Default: "1", Min: 1, Max: 1e9, Help: "Minimum distinct training rows in a leaf."},
	{Name: "max_features", Kind: "choice", Default: "auto", Choices: maxFeatureChoices, Help: "Features tried per split: auto is sqrt for classification and all for regression (scikit-learn >= 1.1); a number is a fraction of the features."},
	{Name: "bootstrap", Kind: "bool", Default: "true", Help: "Train each tree on a bootstrap sample; gives the out-of-bag loss."},
	{Name: "extra_trees", Kind: "bool", Default: "false", Help: "Extremely randomised trees: one random threshold per feature instead of the best."},
	{Name: "max_bin", Kind: "int", Default: "255", Min: 2, Max: 255, Help: "Histogram bins per numeric feature."},
	{Name: "criterion", Kind: "choice", Default: "auto", Choices: []string{"auto", Gini, Entropy, SquaredError}, Help: "Split quality: auto is gini for classification and squared_error for regression."},
	{Name: "time_limit", Kind: "float", Default: "0", Min: 0, Max: 1e7, Help: "Seconds after which training stops, keeping the trees grown so far; 0 is no limit (and a deterministic model)."},
}

func newFromValues(values map[string]string) (learn.Learner, error) {
	// Spec.New receives checked values with defaults filled in; the defaults
	// here cover callers that pass a partial map directly.
	v := map[string]string{}
	for _, p := range specParams {
		v[p.Name] = p.Default
	}
	for k, x := range values {
		v[k] = x
	}
	for _, name := range []string{"n_estimators", "max_depth", "min_samples_leaf", "max_bin"} {
		if _, err := strconv.Atoi(v[name]); err != nil {
			return nil, fmt.Errorf("forest: %w: %s=%q", learn.ErrParam, name, v[name])
		}
	}
	for _, name := range []string{"bootstrap", "extra_trees"} {
		if _, err := strconv.ParseBool(v[name]); err != nil {
			return nil, fmt.Errorf("forest: %w: %s=%q", learn.ErrParam, name, v[name])
		}
	}
	return New(Params{
		NEstimators:    learn.Int(v, "n_estimators"),
		MaxDepth:       learn.Int(v, "max_depth"),
		MinSamplesLeaf: learn.Int(v, "min_samples_leaf"),
		MaxFeatures:    v["max_features"],
		Bootstrap:      learn.Bool(v, "bootstrap"),
		ExtraTrees:     learn.Bool(v, "extra_trees"),
		MaxBin:         learn.Int(v, "max_bin"),
		Criterion:      v["criterion"],
		TimeLimit:      learn.Float(v, "time_limit"),
	})
}

// Learner fits a forest; it implements learn.Learner.
type Learner struct {
	p Params
}

// New checks p and returns a learner.
func New(p Params) (*Learner, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return &Learner{p: p}, nil
}

// Params returns the learner's hyperparameters.
func (l *Learner) Params() Params { return l.p }

func (p Params) check() error {
	bad := func(name string, v any) error {
		return fmt.Errorf("forest: %w: %s=%v", learn.ErrParam, name, v)
	}
	switch {
	case p.NEstimators < 1:
		return bad("n_estimators", p.NEstimators)
	case !(p.TimeLimit >= 0):
		return bad("time_limit", p.TimeLimit)
	case p.MinSamplesLeaf < 1:
		return bad("min_samples_leaf", p.MinSamplesLeaf)
	case p.MaxBin < 2 || p.MaxBin > 255:
		return bad("max_bin", p.MaxBin)
	}
	if _, err := featuresPerSplit(p.MaxFeatures, 1, false); err != nil {
		return err
	}
	switch p.Criterion {
	case "", "auto", Gini, Entropy, SquaredError:
	default:
		return bad("criterion", p.Criterion)
	}
	return nil
}

// featuresPerSplit turns max_features into a count for nf features.
func featuresPerSplit(s string, nf int, classify bool) (int, error) {
	switch s {
	case "", "auto":
		if classify {
			return max(1, int(math.Sqrt(float64(nf)))), nil
		}
		return nf, nil
	case "sqrt":
		return max(1, int(math.Sqrt(float64(nf)))), nil
	case "log2":
		return max(1, int(math.Log2(float64(nf)))), nil
	case "all":
		return nf, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0 && f <= 1) {
		return 0, fmt.Errorf("forest: %w: max_features=%q: want auto, sqrt, log2, all or a fraction in (0, 1]", learn.ErrParam, s)
	}
	return min(nf, max(1, int(f*float64(nf)))), nil
}

// criterionFor resolves "auto" and checks the criterion against the task.
func criterionFor(name string, classes int) (string, error) {
	switch name {
	case "", "auto":
		if classes > 0 {
			return Gini, nil
		}
		return SquaredError, nil
	case Gini, Entropy:
		if classes == 0 {
			return "", fmt.Errorf("forest: %w: criterion %s needs classes, the data is a regression", learn.ErrParam, name)
		}
	case SquaredError:
		if classes > 0 {
			return "", fmt.Errorf("forest: %w: criterion squared_error needs a numeric target, the data has %d classes", learn.ErrParam, classes)
		}
	default:
		return "", fmt.Errorf("forest: %w: criterion %q", learn.ErrParam, name)
	}
	return name, nil
}
