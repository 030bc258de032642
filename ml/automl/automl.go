// Package automl searches for the best model for a table and a target under
// a wall-clock budget (or a trial count): it detects the task, picks the
// metric, validates by k-fold cross-validation (stratified for
// classification) on small data and by a holdout on large data, and tries
// learner families from ml/learn the way FLAML and AutoGluon do:
//
//  1. the cheap default of every family (linear, gbdt, forest, extra trees,
//     naive Bayes, k-NN, MLP), so that every family is measured early;
//  2. a short portfolio of configurations known to do well on many
//     datasets (deeper or shallower boosting, slower learning rates);
//  3. cost-frugal local search (FLAML's CFO): from the best configuration of
//     a promising family, a random step in the normalised hyperparameter
//     space, then the opposite step, with the step shrinking after failures;
//     families are chosen by their best score, cheaper ones preferred.
//
// Boosting and MLP trials stop early on their validation fold. Every
// finished trial keeps its out-of-fold (or holdout) predictions; at the end a
// greedy ensemble selection with replacement (Caruana et al. 2004) over them
// builds a weighted ensemble, kept only when it beats the best single model
// on the same predictions. The winner is refitted on all rows when the
// budget allows (Result.Refitted).
//
// Trials never start when their estimated cost (from the family's earlier
// trials) would overrun the budget less the time reserved for the refit, and
// each fit runs under a deadline, so a search ends within a few percent of
// its budget. With Trials > 0 and Budget == 0 no decision depends on time
// and the same Seed gives the same trials and model.
//
// It imports ml/data, ml/prep, ml/model, ml/learn/... and ml/metrics; it must
// not import storage, app, views or Fyne.
package automl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/model"
)

// Config is what a search is asked to do.
type Config struct {
	Task     string        // "" = detect (model.InferTask; an integer target with few distinct values is classification)
	Metric   string        // "" = default for the task; ml/metrics names (roc_auc, accuracy, log_loss, r2, rmse, ...)
	Budget   time.Duration // wall-clock budget; must be > 0 unless Trials > 0
	Trials   int           // max trials; 0 = as many as the budget allows. With Trials>0 and Budget==0 the run is deterministic for a Seed
	Seed     uint64
	Families []string // nil = all: gbdt, forest, extratrees (forest with extra trees), linear, knn, bayes, nn
	Folds    int      // 0 = by data size (k-fold CV, stratified for classification, for small data; holdout for large)
	Threads  int      // 0 = all cores
	Prior    []Trial  // finished trials of an interrupted search (same data, Config and Seed): not re-run, used for search state and ensembling
	NoRefit  bool     // skip refitting the winner on all data
}

// Trial is one evaluated configuration.
type Trial struct {
	Index         int               // 0,1,2,... in the order trials were started
	Algorithm     string            // family name as in app/algorithms ("gbdt", "forest", ...)
	Params        map[string]string // the values given to learn.Spec.Values
	Score         float64           // validation score of Config.Metric (mean over folds); NaN if failed
	ScoreStd      float64
	Metrics       map[string]float64 // other validation metrics (on all out-of-fold predictions)
	FitSeconds    float64
	CPUSeconds    float64
	PredictMicros float64 // predict latency per row, µs, measured on a validation batch
	Status        string  // "succeeded", "failed", "pruned"
	Error         string
	OOF           []float64         // out-of-fold (or holdout) predictions, rows*outputs, in the validation row order; kept for ensembling and resume
	Curve         []learn.Iteration // learning curve of the trial (first fold), may be nil
	// RefitParams are the values to refit the trial on all rows with (gbdt:
	// the rounds early stopping found, without early stopping); nil means
	// Params. Persist it with the trial for resume.
	RefitParams map[string]string
}

// Trial statuses.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
	Pruned    = "pruned"
)

// Event reports one finished trial; it is delivered on the search
// goroutine, so handlers must be quick.
type Event struct {
	Trial           Trial
	Best            Trial // best so far
	Elapsed, Budget time.Duration
	Done, Planned   int // trials finished; Planned = Config.Trials or 0
}

// Member is one trial in the final ensemble.
type Member struct {
	Trial  int // Trial.Index
	Weight float64
}

// Result is what a search found.
type Result struct {
	Task, Metric string
	Greater      bool            // true if higher Metric is better
	Trials       []Trial         // every finished trial (Prior included), sorted best first
	Best         *model.Pipeline // final model: a single pipeline or an ensemble; Meta["algorithm"] says which
	Ensemble     []Member        // when Best is an ensemble, else nil
	Score        float64         // validation score of Best (ensemble score on OOF if ensemble)
	Refitted     bool            // Best was refitted on all training rows
	Validation   string          // e.g. "5-fold stratified CV" or "holdout 20%"
	Notes        []string
	// Classes are the class labels (index = class code), nil for regression.
	Classes []string
}

// ErrBadInput is wrapped by the errors of Validate and Run about input that
// cannot be searched (no budget, a constant target, too few rows...).
var ErrBadInput = errBadInput

// Validate checks cheaply that a search of f for target with cfg can start:
// a budget or trial count, the target column, a learnable target, enough
// rows for the folds, a feature that is not constant, known families.
func Validate(f *data.Frame, target string, cfg Config) error {
	_, err := newProblem(f, target, cfg)
	return err
}

// Run searches. onEvent (may be nil) is called after every finished trial.
// When ctx is cancelled the search stops between trials (the running fit
// stops within about a second) and Run returns the Result of the trials
// finished so far together with ctx's error, wrapped; Best is then the best
// trial's model from its first fold, not refitted.
func Run(ctx context.Context, f *data.Frame, target string, cfg Config, onEvent func(Event)) (*Result, error) {
	p, err := newProblem(f, target, cfg)
	if err != nil {
		return nil, err
	}
	s := newSearch(p, cfg, onEvent)
	return s.run(ctx)
}

// isBetter compares validation scores of the metric; NaN is never better.
func (s *search) isBetter(a, b float64) bool {
	if math.IsNaN(a) {
		return false
	}
	if math.IsNaN(b) {
		return true
	}
	return s.p.metric.Better(a, b)
}

// trialBetter ranks trials: by Score, and on equal Scores (accuracy moves in
// steps of one row) by the tie metric on the pooled validation predictions
// (log loss, or RMSE for regression), which rewards confident, calibrated
// models.
func (s *search) trialBetter(a, b Trial) bool {
	if s.isBetter(a.Score, b.Score) {
		return true
	}
	if a.Score != b.Score {
		return false
	}
	tie := s.tieMetric()
	ta, oka := a.Metrics[tie.Name]
	tb, okb := b.Metrics[tie.Name]
	return oka && okb && tie.Better(ta, tb)
}

func wrapCtx(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("automl: search stopped: %w", err)
	}
	return err
}
