// Package automl searches for the best model for a table and a target under
// a wall-clock budget (or a trial count): it detects the task, picks the
// metric, validates by k-fold cross-validation (stratified for
// classification; 5 folds up to 10,000 rows, 3 above) on small data and by a
// 20 % holdout on large data (over 100,000 rows or 1.5 million cells, a text
// column counting as 200 cells), and tries learner families from ml/learn
// the way FLAML and AutoGluon do:
//
//  1. the cheap default of every family (linear, naive Bayes, gbdt, extra
//     trees, random forest, k-NN, MLP), so that every family is measured
//     early; boosting starts with big leaves on large data;
//  2. a short portfolio of configurations known to do well on many
//     datasets (deeper or shallower boosting, slower learning rates,
//     stronger or weaker regularisation);
//  3. cost-frugal local search (FLAML's CFO): from the best configuration of
//     a promising family, a random step in the normalised hyperparameter
//     space, then the opposite step, with the step shrinking after failures;
//     the family is mostly the best one, sometimes the second or third.
//
// Boosting and MLP trials stop early on their validation fold. Every
// finished trial keeps its out-of-fold (or holdout) predictions; at the end a
// greedy ensemble selection with replacement (Caruana et al. 2004) over them
// builds a weighted ensemble, kept only when it beats the best single trial
// on the same predictions. The winner (single or ensemble, as a
// model.Pipeline) is refitted on all rows when the budget allows
// (Result.Refitted), growing the boosting rounds or trees its folds grew.
//
// Budget: a trial starts only when its estimated cost (from the family's
// earlier trials, or a prior relative to linear) fits in the time left less
// a reserve for the refit; gbdt and forest fits get a time_limit and return
// what they grew by then; other trials are stopped at their share of the
// budget (Status "pruned"); a refit that would overrun is skipped and the
// best trial's own model (trained on its first fold or the holdout's
// training rows) is kept. With Trials > 0 and Budget == 0 no decision
// depends on time and the same Seed gives the same trials and model.
//
// Text columns become TF-IDF features inside the Prep (ml/prep): up to 5000
// terms for linear learners (fewer on many rows: features are dense), 300
// for trees; on text-only data naive Bayes is multinomial.
//
// MODELSMITH_AUTOML_DEBUG=1 in the environment prints the phase times of a
// search to stderr. scripts/automl_quality.sh measures the search against
// the peers on ../shared/datasets.
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

// trialCmp orders trials best first by trialBetter: -1 when a ranks
// before b, 1 when after, 0 when neither is better.
func (s *search) trialCmp(a, b Trial) int {
	switch {
	case s.trialBetter(a, b):
		return -1
	case s.trialBetter(b, a):
		return 1
	}
	return 0
}

func wrapCtx(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("automl: search stopped: %w", err)
	}
	return err
}
