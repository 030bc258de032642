package automl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/forest"
	"modelsmith/ml/learn/gbdt"
	"modelsmith/ml/metrics"
	"modelsmith/ml/model"
	"modelsmith/ml/prep"
)

// Budget discipline.
const (
	// maxTrialShare caps one trial at this share of the budget: a trial
	// that would take longer is stopped (pruned) so the search can go on.
	// Learners with a time limit return what they grew by then; boosting,
	// the family that most often wins, gets more (limitedShare).
	maxTrialShare = 0.25
	limitedShare  = 0.4
	// Forests rarely win alone but help ensembles: they get less, and
	// stop with the trees grown by then.
	forestShare = 0.15
	// minTrialTime and minTrialShare (of the budget) are the least time
	// worth starting a time-limited trial with: binning and predicting
	// come on top of the learner's limit.
	minTrialTime  = time.Second
	minTrialShare = 0.05
	// maxRefitShare caps the time kept back for the final refit.
	maxRefitShare = 0.25
	// refitGrowth is how much longer a fit on all rows takes than a fit on
	// one fold's training rows, beyond the row ratio.
	refitGrowth = 1.2
	// refitMargin multiplies refit estimates: timings vary with the
	// machine's load.
	refitMargin = 1.5
	// finishMargin is kept back for ensemble selection and building the
	// result after the search.
	finishMargin = 300 * time.Millisecond
)

// split is the prepared data of one fold (or the holdout): the Prep fitted on
// its training rows and both sides transformed.
type split struct {
	prep  *prep.Prep
	train learn.Dataset
	valid learn.Dataset
	pos   []int // OOF position of every validation row
}

type search struct {
	p       *problem
	cfg     Config
	onEvent func(Event)
	rng     *rand.Rand

	start    time.Time
	deadline time.Time // end of the search proper (zero: no budget)
	end      time.Time // hard end of everything (zero: no budget)

	splits   map[prepKind][]*split
	trials   []Trial
	byIndex  map[int]*Trial
	seen     map[string]bool
	queue    []config
	state    map[string]*famState
	families []*family
	nextIdx  int

	best      int             // position in trials of the best, -1
	bestModel *model.Pipeline // the best trial's first-fold pipeline
	// secPerCost is the most seconds per unit of family cost measured.
	secPerCost map[string]float64
	notes      []string
}

// debug prints the phases of a search to stderr when the environment sets
// MODELSMITH_AUTOML_DEBUG, for measuring budget use.
var debug = os.Getenv("MODELSMITH_AUTOML_DEBUG") != ""

func (s *search) debugf(format string, a ...any) {
	if debug {
		fmt.Fprintf(os.Stderr, "automl %7.2fs: %s\n", time.Since(s.start).Seconds(), fmt.Sprintf(format, a...))
	}
}

func newSearch(p *problem, cfg Config, onEvent func(Event)) *search {
	s := &search{p: p, cfg: cfg, onEvent: onEvent, best: -1,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x5ea7c4)),
		splits: map[prepKind][]*split{}, byIndex: map[int]*Trial{}, seen: map[string]bool{},
		state: map[string]*famState{}, secPerCost: map[string]float64{}}
	names := cfg.Families
	if len(names) == 0 {
		names = Families
	}
	for _, name := range Families { // in Families' order, whatever the order given
		if slices.Contains(names, name) && families[name].usable(p) {
			s.families = append(s.families, families[name])
		}
	}
	for _, name := range names {
		if !families[name].usable(p) {
			s.notes = append(s.notes, fmt.Sprintf("%s skipped: not suited to %d rows of this task", name, len(p.y)))
		}
	}
	return s
}

func (s *search) run(ctx context.Context) (*Result, error) {
	s.start = time.Now()
	if s.cfg.Budget > 0 {
		s.end = s.start.Add(s.cfg.Budget)
		s.deadline = s.end.Add(-finishMargin)
	}
	s.measureWidth(ctx)
	s.buildQueue()
	s.resume()
	var stopErr error
	for {
		if err := ctx.Err(); err != nil {
			stopErr = err
			break
		}
		if s.cfg.Trials > 0 && len(s.trials) >= s.cfg.Trials {
			break
		}
		c, ok := s.next()
		if !ok {
			break
		}
		t, first, err := s.runTrial(ctx, c)
		if err != nil && ctx.Err() != nil {
			stopErr = ctx.Err()
			break
		}
		s.record(t, c, first, true)
	}
	s.debugf("search done: %d trials, refit reserve %v", len(s.trials), s.refitReserve())
	res := s.result()
	if stopErr != nil {
		res.Notes = append(res.Notes, "the search was stopped before its end: the model was not refitted")
		return res, wrapCtx(stopErr)
	}
	if err := s.finish(ctx, res); err != nil {
		return res, wrapCtx(err)
	}
	s.debugf("finished")
	return res, nil
}

// measureWidth prepares the linear families' features (their first trial
// would) so that their starting penalties can depend on the width.
func (s *search) measureWidth(ctx context.Context) {
	for _, fam := range s.families {
		if fam.prep != linearPrep {
			continue
		}
		if sp, err := s.prepared(ctx, linearPrep); err == nil && len(sp) > 0 {
			s.p.prepWidth = len(sp[0].train.X.Cols)
		}
		return
	}
}

// buildQueue lists the first trials: every family's cheap default, then the
// portfolios, each skipping duplicates.
func (s *search) buildQueue() {
	add := func(fam *family, given map[string]string, portfolio bool) {
		c, err := makeConfig(s.p, fam, given)
		if err != nil {
			s.notes = append(s.notes, fmt.Sprintf("%s: %v", fam.name, err))
			return
		}
		c.portfolio = portfolio
		s.queue = append(s.queue, c)
	}
	for _, fam := range s.families {
		add(fam, fam.start(s.p), false)
	}
	// Portfolio entries of all families, interleaved so that a short budget
	// still sees the most useful of each.
	port := map[string][]map[string]string{}
	longest := 0
	for _, fam := range s.families {
		port[fam.name] = fam.portfolio(s.p)
		longest = max(longest, len(port[fam.name]))
	}
	for i := range longest {
		for _, fam := range s.families {
			if i < len(port[fam.name]) {
				add(fam, port[fam.name][i], true)
			}
		}
	}
}

// resume takes the Prior trials as finished trials.
func (s *search) resume() {
	for _, t := range s.cfg.Prior {
		fam := familyOf(t)
		if fam == nil {
			s.notes = append(s.notes, fmt.Sprintf("prior trial %d: unknown algorithm %q, ignored", t.Index, t.Algorithm))
			continue
		}
		c := config{fam: fam, values: t.Params}
		if t.Status == Succeeded && len(t.OOF) != s.p.validRows*s.p.outputs() {
			s.notes = append(s.notes, fmt.Sprintf("prior trial %d has %d predictions, not %d: not used for ensembling", t.Index, len(t.OOF), s.p.validRows*s.p.outputs()))
			t.OOF = nil
		}
		s.nextIdx = max(s.nextIdx, t.Index+1)
		s.record(t, c, nil, false)
	}
}

// familyOf finds a trial's search family: "forest" with extra trees is
// extratrees.
func familyOf(t Trial) *family {
	if t.Algorithm == "forest" && t.Params["extra_trees"] == "true" {
		return families["extratrees"]
	}
	return families[t.Algorithm]
}

// next chooses the next configuration to run, or false when nothing more
// fits the budget.
func (s *search) next() (config, bool) {
	for len(s.queue) > 0 {
		c := s.queue[0]
		s.queue = s.queue[1:]
		if s.seen[c.key()] || c.portfolio && s.rank(c.fam) >= portfolioFamilies {
			continue
		}
		if s.fits(c) {
			return c, true
		}
	}
	// Local search: a few attempts, since a family may propose a
	// configuration that is too costly or already seen.
	for range 20 {
		fam := s.pickFamily()
		if fam == nil {
			return config{}, false
		}
		c, ok := s.state[fam.name].propose(s)
		if !ok || s.seen[c.key()] {
			continue
		}
		if s.fits(c) {
			return c, true
		}
		s.state[fam.name].rejected()
	}
	return config{}, false
}

// portfolioFamilies is how many of the best families run their portfolio.
const portfolioFamilies = 3

// rank is the family's place (0 = best) among the families with a successful
// trial, by their best trials; a family without one ranks last.
func (s *search) rank(fam *family) int {
	st := s.state[fam.name]
	if st == nil || !st.has {
		return len(s.families)
	}
	r := 0
	for _, o := range s.state {
		if o != st && o.has && s.trialBetter(o.bestTrial, st.bestTrial) {
			r++
		}
	}
	return r
}

// fits says whether c is expected to finish before the search's deadline,
// keeping time for the refit. Without a budget everything fits.
func (s *search) fits(c config) bool {
	if s.deadline.IsZero() {
		return true
	}
	left := time.Until(s.deadline) - s.refitReserve()
	if left <= 0 {
		return false
	}
	if c.fam.timeLimited() {
		return left >= max(minTrialTime, time.Duration(float64(s.cfg.Budget)*minTrialShare))
	}
	est := s.estimate(c)
	return est <= left.Seconds()
}

// estimate is the expected seconds of a trial, from the most seconds per
// unit of cost measured in the family; for a family not measured yet, its
// prior cost relative to linear's (or twice the longest trial so far).
func (s *search) estimate(c config) float64 {
	if spc, ok := s.secPerCost[c.fam.name]; ok {
		return spc * c.fam.cost(s.p, c.values)
	}
	if spc, ok := s.secPerCost["linear"]; ok {
		return spc * c.fam.relCost
	}
	longest := 0.0
	for _, t := range s.trials {
		longest = max(longest, t.FitSeconds)
	}
	return 2 * longest
}

// refitReserve is the time kept for refitting the final model on all rows:
// the refits of the best trials of the three best families (an ensemble's
// likely members), at most maxRefitShare of the budget.
func (s *search) refitReserve() time.Duration {
	if s.cfg.NoRefit || s.best < 0 || s.cfg.Budget <= 0 {
		return 0
	}
	var tops []Trial
	for _, st := range s.state {
		if st.has {
			tops = append(tops, st.bestTrial)
		}
	}
	slices.SortFunc(tops, func(a, b Trial) int {
		return cmp.Or(s.trialCmp(a, b), a.Index-b.Index)
	})
	est := 0.0
	for i, t := range tops {
		if i == 3 {
			break
		}
		est += s.refitSeconds(t)
	}
	est *= refitMargin
	return min(time.Duration(est*float64(time.Second)), time.Duration(float64(s.cfg.Budget)*maxRefitShare))
}

// trialDeadline bounds one trial of fam.
func (s *search) trialDeadline(fam *family) time.Time {
	if s.deadline.IsZero() {
		return time.Time{}
	}
	d := s.deadline.Add(-s.refitReserve())
	share := maxTrialShare
	switch {
	case fam.name == "gbdt":
		share = limitedShare
	case fam.timeLimited():
		share = forestShare
	}
	if limit := time.Now().Add(time.Duration(float64(s.cfg.Budget) * share)); limit.Before(d) {
		d = limit
	}
	return d
}

// prepared returns the splits of a preparation kind, fitting the Preps on
// first use.
func (s *search) prepared(ctx context.Context, kind prepKind) ([]*split, error) {
	if sp, ok := s.splits[kind]; ok {
		return sp, nil
	}
	var out []*split
	pos := 0
	for k := range s.p.splits() {
		trainRows, validRows := s.p.rowsOf(k)
		trainFrame := s.p.frame.Take(trainRows)
		ty := takeFloats(s.p.y, trainRows)
		pr, X, err := prep.Fit(ctx, trainFrame, s.p.features, ty, s.p.classes, kind.config(s.p), s.cfg.Seed)
		if err != nil {
			return nil, fmt.Errorf("automl: prepare fold %d: %w", k+1, err)
		}
		vx, err := pr.Transform(s.p.frame.Take(validRows))
		if err != nil {
			return nil, fmt.Errorf("automl: prepare fold %d: %w", k+1, err)
		}
		sp := &split{prep: pr, train: learn.Dataset{X: X, Y: ty, Classes: s.p.classes},
			valid: learn.Dataset{X: vx, Y: takeFloats(s.p.y, validRows), Classes: s.p.classes}}
		if s.p.folds > 0 {
			sp.pos = validRows
		} else {
			sp.pos = make([]int, len(validRows))
			for i := range sp.pos {
				sp.pos[i] = pos + i
			}
			pos += len(validRows)
		}
		out = append(out, sp)
	}
	s.splits[kind] = out
	return out, nil
}

// runTrial fits c on every split and scores it. The returned error is
// non-nil only when ctx stopped the trial (it is then not recorded).
func (s *search) runTrial(ctx context.Context, c config) (Trial, *model.Pipeline, error) {
	var first *model.Pipeline
	k := s.p.outputs()
	t := Trial{Index: s.nextIdx, Algorithm: c.fam.algorithm, Params: c.values, Score: math.NaN(), ScoreStd: math.NaN()}
	s.nextIdx++
	s.seen[c.key()] = true
	tctx := ctx
	if d := s.trialDeadline(c.fam); !d.IsZero() {
		var cancel context.CancelFunc
		tctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	started, cpu := time.Now(), processCPUSeconds()
	clock := func() {
		t.FitSeconds = since(started)
		t.CPUSeconds = processCPUSeconds() - cpu
	}
	fail := func(err error) (Trial, *model.Pipeline, error) {
		clock()
		if ctx.Err() != nil {
			return t, nil, err
		}
		t.Status, t.Error = Failed, err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			t.Status, t.Error = Pruned, "stopped: it would have overrun the time budget"
		}
		t.OOF = nil
		return t, nil, nil
	}
	sp, err := s.prepared(tctx, c.fam.prep)
	if err != nil {
		return fail(err)
	}
	// The preparation is shared by every trial of its kind: not this
	// trial's cost.
	started, cpu = time.Now(), processCPUSeconds()
	if d, ok := tctx.Deadline(); ok && c.fam.timeLimited() {
		// Each fit stops at its share of the trial's time with what it
		// has grown; a margin is left for predicting.
		per := 0.9 * time.Until(d).Seconds() / float64(len(sp))
		c.values = copyMap(c.values)
		c.values["time_limit"] = strconv.FormatFloat(max(per, 0.05), 'f', 2, 64)
		t.Params = c.values
	}
	t.OOF = make([]float64, s.p.validRows*k)
	var foldScores []float64
	var rounds, trees []int
	for fi, fold := range sp {
		values := c.values
		if d, ok := tctx.Deadline(); ok && c.fam.timeLimited() {
			// Binning, prediction and scoring are outside the learner's
			// limit: leave them a margin, recomputed fold by fold.
			values = copyMap(values)
			values["time_limit"] = strconv.FormatFloat(max(0.75*time.Until(d).Seconds()/float64(len(sp)-fi), 0.05), 'f', 2, 64)
		}
		learner, err := c.fam.spec.New(values)
		if err != nil {
			return fail(err)
		}
		opts := learn.Options{Seed: s.cfg.Seed + uint64(t.Index), Threads: s.cfg.Threads}
		if c.fam.earlyStop {
			opts.Valid = &fold.valid
		}
		if fi == 0 {
			opts.Progress = func(it learn.Iteration) { t.Curve = append(t.Curve, it) }
		}
		pred, err := learner.Fit(tctx, fold.train, opts)
		if err != nil {
			return fail(err)
		}
		switch m := pred.(type) {
		case *gbdt.Model:
			if len(m.BaseScore) > 0 {
				rounds = append(rounds, len(m.Trees)/len(m.BaseScore))
			}
		case *forest.Model:
			trees = append(trees, len(m.Trees))
		}
		nv := fold.valid.X.Rows
		out := make([]float64, nv*k)
		ps := time.Now()
		pred.Predict(fold.valid.X, out)
		if fi == 0 {
			t.PredictMicros = float64(time.Since(ps).Microseconds()) / float64(max(nv, 1))
		}
		for i, r := range fold.pos {
			copy(t.OOF[r*k:(r+1)*k], out[i*k:(i+1)*k])
		}
		// A fold may lack a class (ROC AUC is then undefined): it is left
		// out of the mean; the pooled predictions score the trial if every
		// fold is.
		if v, err := s.p.metric.Score(fold.valid.Y, out, s.p.classes); err == nil && !math.IsNaN(v) {
			foldScores = append(foldScores, v)
		}
		// Stop a trial early when the folds done say the rest will not end
		// in time.
		if d, ok := tctx.Deadline(); ok && fi+1 < len(sp) && !c.fam.timeLimited() {
			spent := time.Since(started)
			if started.Add(spent * time.Duration(len(sp)) / time.Duration(fi+1)).After(d) {
				return fail(context.DeadlineExceeded)
			}
		}
		if fi == 0 {
			// Kept only if the trial ends best; see record.
			first = &model.Pipeline{Inputs: s.p.inputs, Target: s.p.target, Task: s.p.task,
				Classes: s.p.labels, Prep: fold.prep, Predictor: pred}
		}
	}
	clock()
	t.Score, t.ScoreStd = meanStd(foldScores)
	t.Metrics = s.scoreAll(t.OOF)
	if len(foldScores) == 0 {
		pooled, ok := t.Metrics[s.p.metric.Name]
		if !ok {
			return fail(fmt.Errorf("%s cannot be computed on the validation rows", s.p.metric.Name))
		}
		t.Score, t.ScoreStd = pooled, math.NaN()
	}
	t.Status = Succeeded
	// The refit grows what the folds grew: boosting rounds found by early
	// stopping (more for more rows) or the trees a time limit allowed.
	if len(rounds) > 0 {
		grow := float64(len(s.p.y)) / float64(max(s.p.trainRows, 1))
		t.RefitParams = copyMap(c.values)
		t.RefitParams["n_estimators"] = strconv.Itoa(max(1, int(math.Round(mean(rounds)*grow))))
		t.RefitParams["early_stopping_rounds"] = "0"
		t.RefitParams["time_limit"] = "0"
	}
	if len(trees) > 0 && c.values["time_limit"] != "" {
		t.RefitParams = copyMap(c.values)
		t.RefitParams["n_estimators"] = strconv.Itoa(max(1, int(math.Round(mean(trees)))))
		t.RefitParams["time_limit"] = "0"
	}
	return t, first, nil
}

// scoreAll computes every metric of the task on pooled validation
// predictions (those that cannot be computed are left out).
func (s *search) scoreAll(oof []float64) map[string]float64 {
	y := takeFloats(s.p.y, s.validOrder())
	out := map[string]float64{}
	for _, m := range metrics.Metrics(s.p.task) {
		if v, err := m.Score(y, oof, s.p.classes); err == nil && !math.IsNaN(v) {
			out[m.Name] = v
		}
	}
	return out
}

func (s *search) validOrder() []int { return s.p.validOrder() }

// record adds a finished trial, updates the search state and reports it.
// Prior trials (report false) are not reported again.
func (s *search) record(t Trial, c config, first *model.Pipeline, report bool) {
	s.seen[c.key()] = true
	s.trials = append(s.trials, t)
	pos := len(s.trials) - 1
	s.byIndex[t.Index] = &s.trials[pos]
	if t.Status == Succeeded {
		if s.best < 0 || s.trialBetter(t, s.trials[s.best]) {
			s.best = pos
			s.bestModel = first
		}
		if cost := c.fam.cost(s.p, c.values); cost > 0 && t.FitSeconds > 0 {
			s.secPerCost[c.fam.name] = max(s.secPerCost[c.fam.name], t.FitSeconds/cost)
		}
	} else if t.Status == Pruned {
		// A pruned trial ran for at least its FitSeconds: count that.
		if cost := c.fam.cost(s.p, c.values); cost > 0 {
			s.secPerCost[c.fam.name] = max(s.secPerCost[c.fam.name], 1.5*t.FitSeconds/cost)
		}
	}
	st := s.state[c.fam.name]
	if st == nil {
		st = newFamState(s.p, c.fam)
		s.state[c.fam.name] = st
	}
	st.observe(s, c, t)
	if report && s.onEvent != nil {
		ev := Event{Trial: t, Elapsed: time.Since(s.start), Budget: s.cfg.Budget, Done: len(s.trials), Planned: s.cfg.Trials}
		if s.best >= 0 {
			ev.Best = s.trials[s.best]
		}
		s.onEvent(ev)
	}
}

func mean(v []int) float64 {
	sum := 0
	for _, x := range v {
		sum += x
	}
	return float64(sum) / float64(max(len(v), 1))
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	if len(v) == 1 {
		return mean, 0
	}
	ss := 0.0
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)-1))
}
