// Package gbdt is Modelsmith's histogram gradient boosting learner (the
// LightGBM / XGBoost-hist technique): features binned once by
// ml/learn/binning, trees grown leaf-wise from per-node gradient histograms
// with histogram subtraction, learnt missing-value directions, native
// categorical splits, L2 regularisation, row and column subsampling and early
// stopping; objectives logloss, softmax and L2.
//
// Models are exported as plain trees (Model, Tree, Node) whose thresholds are
// float32 and compared as float32(x) <= threshold, so that an ONNX
// TreeEnsemble built from them predicts exactly as Predict does.
//
// The package depends on ml/learn and ml/learn/binning only; it must not
// import storage, app, views or Fyne.
package gbdt

import (
	"fmt"

	"modelsmith/ml/learn"
)

// Params are the hyperparameters, named as XGBoost and LightGBM users know
// them.
type Params struct {
	NEstimators     int     // boosting rounds
	LearningRate    float64 // shrinkage applied to every leaf
	NumLeaves       int     // leaves per tree (leaf-wise growth stops there)
	MaxDepth        int     // <= 0: unlimited
	MaxBin          int     // value bins per numeric feature, 2..255
	MinChildSamples int     // rows in each child of a split
	MinChildWeight  float64 // hessian sum in each child of a split
	Subsample       float64 // fraction of rows drawn for each tree
	ColsampleByTree float64 // fraction of features drawn for each tree
	// RegLambda is the L2 penalty on leaf values. It defaults to 1, as in
	// XGBoost, rather than LightGBM's 0: with logloss a nearly pure leaf has
	// a tiny hessian, and the penalty keeps its value bounded.
	RegLambda           float64
	EarlyStoppingRounds int    // 0: off; needs Options.Valid
	Objective           string // auto, logloss, softmax, l2
	// TimeLimit, when above 0, ends boosting after that many seconds with
	// the rounds grown so far (a model, not an error): AutoML gives every
	// fit its share of the budget. The model then depends on the machine's
	// speed.
	TimeLimit float64
}

// DefaultParams are Spec's defaults.
func DefaultParams() Params {
	return Params{
		NEstimators:     100,
		LearningRate:    0.1,
		NumLeaves:       31,
		MaxDepth:        -1,
		MaxBin:          255,
		MinChildSamples: 20,
		MinChildWeight:  1e-3,
		Subsample:       1,
		ColsampleByTree: 1,
		RegLambda:       1,
		Objective:       "auto",
	}
}

// Spec describes the family for the CLI, the GUI and AutoML.
var Spec = learn.Spec{
	Name: "gbdt",
	Help: "Histogram gradient boosted trees (LightGBM/XGBoost-hist style): leaf-wise growth, native categorical splits, learnt missing-value directions.",
	Params: []learn.Param{
		{Name: "n_estimators", Kind: "int", Default: "100", Min: 1, Max: 100000, Help: "Boosting rounds (trees per class)."},
		{Name: "learning_rate", Kind: "float", Default: "0.1", Min: 1e-6, Max: 1, Help: "Shrinkage applied to each tree."},
		{Name: "num_leaves", Kind: "int", Default: "31", Min: 2, Max: 4096, Help: "Maximum leaves per tree."},
		{Name: "max_depth", Kind: "int", Default: "-1", Min: -1, Max: 64, Help: "Maximum tree depth; -1 or 0 means unlimited."},
		{Name: "max_bin", Kind: "int", Default: "255", Min: 2, Max: 255, Help: "Histogram bins per numeric feature."},
		{Name: "min_child_samples", Kind: "int", Default: "20", Min: 1, Max: 1e9, Help: "Minimum rows in a leaf."},
		{Name: "min_child_weight", Kind: "float", Default: "0.001", Min: 0, Max: 1e9, Help: "Minimum hessian sum in a leaf."},
		{Name: "subsample", Kind: "float", Default: "1", Min: 1e-6, Max: 1, Help: "Fraction of rows sampled for each tree."},
		{Name: "colsample_bytree", Kind: "float", Default: "1", Min: 1e-6, Max: 1, Help: "Fraction of features sampled for each tree."},
		{Name: "reg_lambda", Kind: "float", Default: "1", Min: 0, Max: 1e9, Help: "L2 penalty on leaf values (XGBoost's default 1)."},
		{Name: "early_stopping_rounds", Kind: "int", Default: "0", Min: 0, Max: 100000, Help: "Stop when the validation loss has not improved for this many rounds; 0 is off."},
		{Name: "objective", Kind: "choice", Default: "auto", Choices: []string{"auto", "logloss", "softmax", "l2"}, Help: "Loss: auto picks logloss, softmax or l2 from the task."},
		{Name: "time_limit", Kind: "float", Default: "0", Min: 0, Max: 1e7, Help: "Seconds after which boosting stops, keeping the rounds grown so far; 0 is no limit (and a deterministic model)."},
	},
	New:    newFromValues,
	Decode: func(b []byte) (learn.Predictor, error) { return Decode(b) },
}

func newFromValues(values map[string]string) (learn.Learner, error) {
	d := DefaultParams()
	v := map[string]string{"n_estimators": "100", "learning_rate": "0.1", "num_leaves": "31", "max_depth": "-1",
		"max_bin": "255", "min_child_samples": "20", "min_child_weight": "0.001", "subsample": "1",
		"colsample_bytree": "1", "reg_lambda": "1", "early_stopping_rounds": "0", "objective": d.Objective,
		"time_limit": "0"}
	// Spec.New receives checked values with defaults filled in; the map above
	// only covers callers that pass a partial map directly.
	for k, x := range values {
		v[k] = x
	}
	p := Params{
		NEstimators:         learn.Int(v, "n_estimators"),
		LearningRate:        learn.Float(v, "learning_rate"),
		NumLeaves:           learn.Int(v, "num_leaves"),
		MaxDepth:            learn.Int(v, "max_depth"),
		MaxBin:              learn.Int(v, "max_bin"),
		MinChildSamples:     learn.Int(v, "min_child_samples"),
		MinChildWeight:      learn.Float(v, "min_child_weight"),
		Subsample:           learn.Float(v, "subsample"),
		ColsampleByTree:     learn.Float(v, "colsample_bytree"),
		RegLambda:           learn.Float(v, "reg_lambda"),
		EarlyStoppingRounds: learn.Int(v, "early_stopping_rounds"),
		Objective:           v["objective"],
		TimeLimit:           learn.Float(v, "time_limit"),
	}
	return New(p)
}

// Learner fits gradient boosted trees; it implements learn.Learner.
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
		return fmt.Errorf("gbdt: %w: %s=%v", learn.ErrParam, name, v)
	}
	switch {
	case p.NEstimators < 1:
		return bad("n_estimators", p.NEstimators)
	case !(p.LearningRate > 0):
		return bad("learning_rate", p.LearningRate)
	case p.NumLeaves < 2:
		return bad("num_leaves", p.NumLeaves)
	case p.MaxDepth > 64:
		return bad("max_depth", p.MaxDepth)
	case p.MaxBin < 2 || p.MaxBin > 255:
		return bad("max_bin", p.MaxBin)
	case p.MinChildSamples < 1:
		return bad("min_child_samples", p.MinChildSamples)
	case !(p.MinChildWeight >= 0):
		return bad("min_child_weight", p.MinChildWeight)
	case !(p.Subsample > 0 && p.Subsample <= 1):
		return bad("subsample", p.Subsample)
	case !(p.ColsampleByTree > 0 && p.ColsampleByTree <= 1):
		return bad("colsample_bytree", p.ColsampleByTree)
	case !(p.RegLambda >= 0):
		return bad("reg_lambda", p.RegLambda)
	case p.EarlyStoppingRounds < 0:
		return bad("early_stopping_rounds", p.EarlyStoppingRounds)
	case !(p.TimeLimit >= 0):
		return bad("time_limit", p.TimeLimit)
	}
	switch p.Objective {
	case "", "auto", "logloss", "softmax", "l2":
	default:
		return bad("objective", p.Objective)
	}
	return nil
}
