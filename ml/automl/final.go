package automl

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"modelsmith/ml/learn"
	"modelsmith/ml/model"
	"modelsmith/ml/prep"
)

// result builds the Result of the trials so far, with the best trial's
// first-fold model as Best.
func (s *search) result() *Result {
	res := &Result{Task: s.p.task, Metric: s.p.metric.Name, Greater: s.p.metric.HigherIsBetter,
		Validation: s.p.validation, Score: math.NaN(), Classes: s.p.labels}
	res.Notes = append(append(res.Notes, s.p.notes...), s.notes...)
	res.Trials = slices.Clone(s.trials)
	slices.SortStableFunc(res.Trials, func(a, b Trial) int {
		switch {
		case s.isBetter(a.Score, b.Score):
			return -1
		case s.isBetter(b.Score, a.Score):
			return 1
		}
		return a.Index - b.Index
	})
	if s.best >= 0 {
		bt := s.trials[s.best]
		res.Score = bt.Score
		if s.bestModel != nil {
			res.Best = s.bestModel
			res.Best.Meta = s.meta(bt, false)
		}
	}
	return res
}

// meta describes a single-trial pipeline.
func (s *search) meta(t Trial, refitted bool) map[string]string {
	params, _ := json.Marshal(t.Params)
	return map[string]string{
		"algorithm": t.Algorithm, "params": string(params), "seed": strconv.FormatUint(s.cfg.Seed, 10),
		"automl_trial": strconv.Itoa(t.Index), "refitted": strconv.FormatBool(refitted),
		"validation": s.p.validation,
	}
}

// finish builds the final model: the best trial refitted on all rows when
// the budget allows, else its first-fold model.
func (s *search) finish(ctx context.Context, res *Result) error {
	if s.best < 0 {
		return fmt.Errorf("automl: no trial succeeded (%d tried)%s", len(s.trials), firstError(s.trials))
	}
	if s.cfg.NoRefit {
		if res.Best == nil {
			res.Notes = append(res.Notes, "the best trial's model was not kept; it was refitted")
		} else {
			return nil
		}
	}
	bt := s.trials[s.best]
	rctx := ctx
	if !s.end.IsZero() {
		var cancel context.CancelFunc
		rctx, cancel = context.WithDeadline(ctx, s.end)
		defer cancel()
	}
	pipe, err := s.refit(rctx, bt)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if res.Best == nil {
			return fmt.Errorf("automl: refit %s: %w", bt.Algorithm, err)
		}
		res.Notes = append(res.Notes, fmt.Sprintf("refitting on all rows did not finish (%v): the model is the best trial's, trained on its first fold", err))
		return nil
	}
	pipe.Meta = s.meta(bt, true)
	res.Best, res.Refitted = pipe, true
	return nil
}

// refit fits a trial's configuration on every row.
func (s *search) refit(ctx context.Context, t Trial) (*model.Pipeline, error) {
	fam := familyOf(t)
	if fam == nil {
		return nil, fmt.Errorf("automl: unknown algorithm %q", t.Algorithm)
	}
	values := t.Params
	if t.RefitParams != nil {
		values = t.RefitParams
	}
	learner, err := fam.spec.New(values)
	if err != nil {
		return nil, err
	}
	pr, X, err := prep.Fit(ctx, s.p.frame, s.p.features, s.p.y, s.p.classes, fam.prep.config(), s.cfg.Seed)
	if err != nil {
		return nil, err
	}
	pred, err := learner.Fit(ctx, learn.Dataset{X: X, Y: s.p.y, Classes: s.p.classes},
		learn.Options{Seed: s.cfg.Seed + uint64(t.Index), Threads: s.cfg.Threads})
	if err != nil {
		return nil, err
	}
	return &model.Pipeline{Inputs: s.p.inputs, Target: s.p.target, Task: s.p.task, Classes: s.p.labels,
		Prep: pr, Predictor: pred}, nil
}

func firstError(trials []Trial) string {
	for _, t := range trials {
		if t.Error != "" {
			return ": " + t.Algorithm + ": " + t.Error
		}
	}
	return ""
}

var _ = time.Second
