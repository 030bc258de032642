// Package nn is Modelsmith's neural-network family: a multilayer perceptron
// (fully connected hidden layers with relu, tanh or sigmoid, dropout, a
// softmax output with cross-entropy for classification — binary as two
// classes — or a linear output with squared error on a standardised target
// for regression), trained by mini-batch Adam with an L2 penalty and early
// stopping on a validation set.
//
// It is the only package of Modelsmith that imports gorgonia, and only for
// training: the graph is built once per Fit, in float64 (so the learned
// weights are exactly what the Go forward pass uses at prediction time and
// runs are reproducible), and its construction together with the machine
// that runs it is isolated in one function, compile, which selects the
// device. Only "cpu" exists now; a CUDA build (gorgonia's cuda build tag)
// would add a device there and nothing else. A fitted Model holds plain
// []float64 weights and predicts without gorgonia, so models decode and
// predict in builds without it too.
//
// Inputs are numeric features only, without missing values: categorical
// features must be encoded and missing values imputed first (ml/prep does
// both); Fit names the feature at fault otherwise. Features are standardised
// inside the model anyway (the mean and standard deviation of each training
// column are stored with it). At prediction time a missing value counts as
// the training mean.
//
// Determinism: weights start from a Glorot-uniform draw, mini-batches from a
// shuffled order, dropout masks and the internal validation split all come
// from one generator seeded by learn.Options.Seed, and the graph runs on
// gorgonia's tape machine, whose float64 kernels sum in a fixed order, so the
// same data, parameters and seed give the same model bit for bit, whatever
// the number of cores. Options.Threads is not honoured: the tape machine
// runs one op at a time and gorgonia's kernels choose their own goroutines,
// each output element being summed by one of them in a fixed order, which is
// what keeps training deterministic without forcing it onto one thread.
//
// It is a pure library: it must not import storage, app, views or Fyne.
//
// The hidden parameter is a text parameter: any comma-separated list of layer
// sizes (at most 8 layers of at most 4096 units), checked by Spec.New.
package nn

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"modelsmith/ml/learn"
)

// family is the name models are decoded by.
const family = "nn"

// Limits on the architecture, so a typo cannot ask for terabytes.
const (
	maxLayers = 8
	maxWidth  = 4096
)

var params = []learn.Param{
	{Name: "hidden", Kind: "text", Default: "64,32",
		Choices: []string{"64,32", "128,64,32"},
		Help:    "sizes of the hidden layers, comma-separated from the input side (Spec.New accepts any such list, at most 8 layers of at most 4096 units)"},
	{Name: "activation", Kind: "choice", Default: "relu", Choices: []string{"relu", "tanh", "sigmoid"},
		Help: "activation of the hidden layers"},
	{Name: "dropout", Kind: "float", Default: "0.1", Min: 0, Max: 0.9,
		Help: "probability of dropping a hidden unit during training (none at prediction)"},
	{Name: "learning_rate", Kind: "float", Default: "0.001", Min: 1e-6, Max: 1,
		Help: "step size of the Adam optimiser"},
	{Name: "batch_size", Kind: "int", Default: "64", Min: 1, Max: 65536,
		Help: "rows per mini-batch"},
	{Name: "epochs", Kind: "int", Default: "200", Min: 1, Max: 1000000,
		Help: "most passes over the training rows"},
	{Name: "l2", Kind: "float", Default: "0.0001", Min: 0, Max: 10,
		Help: "L2 penalty added to every weight's gradient (weight decay)"},
	{Name: "early_stopping_rounds", Kind: "int", Default: "20", Min: 0, Max: 1000000,
		Help: "stop after this many epochs without a better validation loss and keep the best epoch's weights (0: never stop early); uses the validation set if given, else 10 % of the training rows"},
	{Name: "device", Kind: "choice", Default: "cpu", Choices: []string{"cpu"},
		Help: "where training runs"},
}

// Spec describes the family for the CLI, the GUI and AutoML.
var Spec = learn.Spec{
	Name:   family,
	Help:   "Multilayer perceptron (gorgonia, Adam, dropout, early stopping) on standardised numeric features.",
	Params: params,
	New:    newLearner,
	Decode: func(b []byte) (learn.Predictor, error) { return Decode(b) },
}

func newLearner(values map[string]string) (learn.Learner, error) {
	// hidden is checked here rather than by Values, which only knows the
	// listed choices; the rest gets Values again, so that a caller giving a
	// partial map gets defaults rather than a panic from learn.Float.
	rest := maps.Clone(values)
	hidden, given := rest["hidden"]
	delete(rest, "hidden")
	if !given {
		hidden = params[0].Default
	}
	v, err := learn.Spec{Name: family, Params: params}.Values(rest)
	if err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	sizes, err := ParseHidden(hidden)
	if err != nil {
		return nil, err
	}
	l := &Learner{
		Hidden:              sizes,
		Activation:          v["activation"],
		Dropout:             learn.Float(v, "dropout"),
		LearningRate:        learn.Float(v, "learning_rate"),
		BatchSize:           learn.Int(v, "batch_size"),
		Epochs:              learn.Int(v, "epochs"),
		L2:                  learn.Float(v, "l2"),
		EarlyStoppingRounds: learn.Int(v, "early_stopping_rounds"),
		Device:              v["device"],
	}
	return l, l.check()
}

// ParseHidden reads layer sizes written as "64,32" (spaces allowed).
func ParseHidden(s string) ([]int, error) {
	bad := func(why string) error {
		return fmt.Errorf("nn: %w: hidden=%q: %s; want comma-separated layer sizes such as 64,32 (at most %d layers of 1 to %d units)",
			learn.ErrParam, s, why, maxLayers, maxWidth)
	}
	if strings.TrimSpace(s) == "" {
		return nil, bad("no layers")
	}
	parts := strings.Split(s, ",")
	if len(parts) > maxLayers {
		return nil, bad(fmt.Sprintf("%d layers", len(parts)))
	}
	sizes := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return nil, bad(fmt.Sprintf("%q is not a whole number", strings.TrimSpace(p)))
		}
		if n < 1 || n > maxWidth {
			return nil, bad(fmt.Sprintf("layer %d has %d units", i+1, n))
		}
		sizes[i] = n
	}
	return sizes, nil
}

// Learner fits a multilayer perceptron. The zero value is not useful; use
// Spec.New or fill every field (the defaults are in Spec.Params).
type Learner struct {
	Hidden              []int  // hidden layer sizes, from the input side
	Activation          string // "relu", "tanh" or "sigmoid"
	Dropout             float64
	LearningRate        float64
	BatchSize           int
	Epochs              int
	L2                  float64
	EarlyStoppingRounds int    // 0: train every epoch
	Device              string // "cpu"
}

func (l *Learner) check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("nn: %w: %s", learn.ErrParam, fmt.Sprintf(format, a...))
	}
	if len(l.Hidden) == 0 || len(l.Hidden) > maxLayers {
		return bad("%d hidden layers: want 1 to %d", len(l.Hidden), maxLayers)
	}
	for i, h := range l.Hidden {
		if h < 1 || h > maxWidth {
			return bad("hidden layer %d has %d units: want 1 to %d", i+1, h, maxWidth)
		}
	}
	switch {
	case activationOf(l.Activation) < 0:
		return bad("activation=%q: want relu, tanh or sigmoid", l.Activation)
	case !(l.Dropout >= 0 && l.Dropout <= 0.9):
		return bad("dropout=%v: want a number in [0, 0.9]", l.Dropout)
	case !(l.LearningRate > 0 && l.LearningRate <= 1):
		return bad("learning_rate=%v: want a number in (0, 1]", l.LearningRate)
	case l.BatchSize < 1:
		return bad("batch_size=%d: want at least 1", l.BatchSize)
	case l.Epochs < 1:
		return bad("epochs=%d: want at least 1", l.Epochs)
	case !(l.L2 >= 0 && l.L2 <= 10):
		return bad("l2=%v: want a number in [0, 10]", l.L2)
	case l.EarlyStoppingRounds < 0:
		return bad("early_stopping_rounds=%d: want 0 or more", l.EarlyStoppingRounds)
	case l.Device != "cpu":
		return bad("device=%q: this build trains on cpu only", l.Device)
	}
	return nil
}

// Fit trains on d; see the package documentation for what it accepts and
// how it is deterministic.
func (l *Learner) Fit(ctx context.Context, d learn.Dataset, opts learn.Options) (learn.Predictor, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("nn: %w", err)
	}
	return l.fit(ctx, d, opts)
}
