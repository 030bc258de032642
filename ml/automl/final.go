package automl

import (
	"cmp"
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
		return cmp.Or(s.trialCmp(a, b), a.Index-b.Index)
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

// finish builds the final model: the greedy ensemble of the trials when it
// beats the best single trial on the validation rows and its members can be
// refitted on all rows in the time left, else the best trial refitted on all
// rows when the budget allows, else the best trial's first-fold model.
func (s *search) finish(ctx context.Context, res *Result) error {
	if s.best < 0 {
		return fmt.Errorf("automl: no trial succeeded (%d tried)%s", len(s.trials), firstError(s.trials))
	}
	if s.cfg.NoRefit {
		if res.Best != nil {
			return nil
		}
		res.Notes = append(res.Notes, "the best trial's model was not kept; it was refitted")
	}
	rctx := ctx
	if !s.end.IsZero() {
		var cancel context.CancelFunc
		rctx, cancel = context.WithDeadline(ctx, s.end)
		defer cancel()
	}
	s.splits = nil // the folds' features are not needed any more
	preps := map[prepKind]*fullPrep{}
	var sel selection
	ensemble := false
	// Trials whose refit alone would take more than half the time left
	// cannot be members.
	excluded := map[int]bool{}
	if !s.end.IsZero() {
		left := time.Until(s.end).Seconds()
		for i, t := range s.trials {
			if i != s.best && refitMargin*s.refitSeconds(t) > left/2 {
				excluded[i] = true
			}
		}
	}
	if !s.cfg.NoRefit {
		sel, ensemble = s.selectEnsemble(excluded)
		s.debugf("ensemble selection: %v %v", ensemble, sel)
	}
	// The best single trial is refitted first, so that a model on all rows
	// exists whatever happens to the ensemble's other members.
	bt := s.trials[s.best]
	if res.Best != nil && !s.fitsRefit([]int{s.best}) {
		res.Notes = append(res.Notes, fmt.Sprintf("no time left to refit on all rows: the model is the best trial's, trained on %d rows", s.p.trainRows))
		return nil
	}
	single, err := s.refit(rctx, bt, preps)
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
	single.Meta = s.meta(bt, true)
	res.Best, res.Refitted = single, true
	if !ensemble {
		return nil
	}
	// An ensemble whose refit would overrun the budget is chosen again
	// without its costliest member, a few times at most.
	for attempt := 0; ; attempt++ {
		var rest []int
		costliest := -1
		for _, ti := range sel.trials {
			if ti != s.best {
				rest = append(rest, ti)
				if costliest < 0 || s.trials[ti].FitSeconds > s.trials[costliest].FitSeconds {
					costliest = ti
				}
			}
		}
		if s.fitsRefit(rest) {
			break
		}
		excluded[costliest] = true
		if attempt == 4 {
			ensemble = false
		} else {
			sel, ensemble = s.selectEnsemble(excluded)
		}
		if !ensemble {
			res.Notes = append(res.Notes, "refitting an ensemble would overrun the budget: the best single model is used")
			return nil
		}
	}
	if err := s.refitEnsemble(rctx, sel, single, preps, res); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res.Notes = append(res.Notes, fmt.Sprintf("the ensemble could not be refitted (%v): the best single model is used", err))
	}
	return nil
}

// fitsRefit says whether refitting the trials on all rows is expected to end
// within the budget.
func (s *search) fitsRefit(trials []int) bool {
	if s.end.IsZero() {
		return true
	}
	est := 0.0
	for _, i := range trials {
		est += s.refitSeconds(s.trials[i])
	}
	return refitMargin*est <= time.Until(s.end).Seconds()
}

// refitSeconds estimates a refit on all rows from the trial's fits.
func (s *search) refitSeconds(t Trial) float64 {
	perFold := t.FitSeconds / float64(s.p.splits())
	return perFold * refitGrowth * float64(len(s.p.y)) / float64(max(s.p.trainRows, 1))
}

// refitEnsemble refits every member but the best trial (already refitted as
// single) on all rows and makes the ensemble the Result's Best.
func (s *search) refitEnsemble(ctx context.Context, sel selection, single *model.Pipeline, preps map[prepKind]*fullPrep, res *Result) error {
	ens := &model.Pipeline{Inputs: s.p.inputs, Target: s.p.target, Task: s.p.task, Classes: s.p.labels}
	var members []Member
	type memberMeta struct {
		Trial     int               `json:"trial"`
		Algorithm string            `json:"algorithm"`
		Params    map[string]string `json:"params"`
		Weight    float64           `json:"weight"`
	}
	var desc []memberMeta
	for m, ti := range sel.trials {
		t := s.trials[ti]
		pipe := single
		if ti != s.best {
			var err error
			if pipe, err = s.refit(ctx, t, preps); err != nil {
				return err
			}
			pipe.Meta = s.meta(t, true)
		}
		ens.Members = append(ens.Members, model.Member{Weight: sel.weights[m], Pipeline: pipe})
		members = append(members, Member{Trial: t.Index, Weight: sel.weights[m]})
		desc = append(desc, memberMeta{t.Index, t.Algorithm, t.Params, sel.weights[m]})
	}
	mj, _ := json.Marshal(desc)
	ens.Meta = map[string]string{"algorithm": "ensemble", "members": string(mj),
		"seed": strconv.FormatUint(s.cfg.Seed, 10), "refitted": "true", "validation": s.p.validation}
	res.Best, res.Ensemble, res.Score, res.Refitted = ens, members, sel.score, true
	return nil
}

// fullPrep is a Prep fitted on all rows with the features it made.
type fullPrep struct {
	prep *prep.Prep
	x    *learn.Features
}

// refit fits a trial's configuration on every row; preps caches the Preps
// fitted on all rows.
func (s *search) refit(ctx context.Context, t Trial, preps map[prepKind]*fullPrep) (*model.Pipeline, error) {
	fam := familyOf(t)
	if fam == nil {
		return nil, fmt.Errorf("automl: unknown algorithm %q", t.Algorithm)
	}
	values := t.Params
	if t.RefitParams != nil {
		values = t.RefitParams
	}
	if d, ok := ctx.Deadline(); ok && fam.timeLimited() {
		// A refit that cannot finish in time still gives a model.
		values = copyMap(values)
		values["time_limit"] = strconv.FormatFloat(max(0.9*time.Until(d).Seconds(), 0.05), 'f', 2, 64)
	}
	learner, err := fam.spec.New(values)
	if err != nil {
		return nil, err
	}
	s.debugf("refit trial %d (%s)", t.Index, t.Algorithm)
	defer s.debugf("refit trial %d done", t.Index)
	pp := preps[fam.prep]
	if pp == nil {
		pr, X, err := prep.Fit(ctx, s.p.frame, s.p.features, s.p.y, s.p.classes, fam.prep.config(s.p), s.cfg.Seed)
		if err != nil {
			return nil, err
		}
		pp = &fullPrep{pr, X}
		preps[fam.prep] = pp
	}
	pr, X := pp.prep, pp.x
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
