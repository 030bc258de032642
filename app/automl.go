package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"modelsmith/app/jobs"
	"modelsmith/ml/automl"
	"modelsmith/ml/data"
	"modelsmith/ml/explain"
	"modelsmith/ml/learn"
	"modelsmith/ml/metrics"
	"modelsmith/ml/model"
	"modelsmith/storage"
)

// AutoMLOptions describe an AutoML search.
type AutoMLOptions struct {
	// Data is a dataset reference or a file path; a file is imported first,
	// as Train does.
	Data   string `json:"data"`
	Target string `json:"target"`
	// Task is binary, multiclass or regression; "" infers it from the target.
	Task string `json:"task,omitempty"`
	// Metric is the metric to optimise (see ml/metrics); "" is the task's
	// default (ROC AUC, accuracy, R²).
	Metric string `json:"metric,omitempty"`
	// Budget is the wall-clock time of the whole call, reading the data and
	// registering the model included. 0 needs Trials > 0: the search is then
	// deterministic for a Seed.
	Budget time.Duration `json:"budget"`
	// Trials caps the number of trials (0: as many as the budget allows).
	Trials int    `json:"trials,omitempty"`
	Seed   uint64 `json:"seed"`
	// Families limits the learner families tried (nil: all of automl.Families).
	Families []string `json:"families,omitempty"`
	// Folds is the number of cross-validation folds; 0 chooses by data size
	// (k-fold for small data, a holdout for large).
	Folds int `json:"folds,omitempty"`
	// Name registers the best model as Name@version; "" is "<dataset>-automl".
	Name string `json:"name,omitempty"`
	// Resume is the id of an interrupted or cancelled search to continue:
	// its data, target and settings are the experiment's, its finished trials
	// are kept and not run again. A Budget given with it replaces what was
	// left of the original one; Trials > 0 replaces its trial count.
	Resume int64 `json:"resume,omitempty"`
}

// LeaderboardRow is one trial of a search, or its final model (Trial -1).
type LeaderboardRow struct {
	Rank          int               `json:"rank"` // 1 is best; 0 for a trial without a score
	RunID         int64             `json:"run_id"`
	Trial         int               `json:"trial"` // index in the search; -1 for the final model
	Algorithm     string            `json:"algorithm"`
	Params        map[string]string `json:"params"`
	Score         float64           `json:"score"` // NaN (null in JSON) when the trial failed
	ScoreStd      float64           `json:"score_std"`
	FitSeconds    float64           `json:"fit_seconds"`
	PredictMicros float64           `json:"predict_micros"`
	CPUSeconds    float64           `json:"cpu_seconds"`
	Status        string            `json:"status"`         // succeeded, failed, pruned
	Note          string            `json:"note,omitempty"` // e.g. "ensemble of 5", "refitted on all rows", an error
}

// MarshalJSON writes a missing score as null.
func (r LeaderboardRow) MarshalJSON() ([]byte, error) {
	type plain LeaderboardRow
	return json.Marshal(struct {
		plain
		Score    *float64 `json:"score"`
		ScoreStd *float64 `json:"score_std"`
	}{plain(r), finite(r.Score), finite(r.ScoreStd)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *LeaderboardRow) UnmarshalJSON(b []byte) error {
	type plain LeaderboardRow
	var v struct {
		plain
		Score    *float64 `json:"score"`
		ScoreStd *float64 `json:"score_std"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = LeaderboardRow(v.plain)
	r.Score, r.ScoreStd = math.NaN(), math.NaN()
	if v.Score != nil {
		r.Score = *v.Score
	}
	if v.ScoreStd != nil {
		r.ScoreStd = *v.ScoreStd
	}
	return nil
}

func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// AutoMLEvent reports one finished trial while a search runs.
type AutoMLEvent struct {
	ExperimentID int64
	Row          LeaderboardRow   // the trial that finished
	Leaderboard  []LeaderboardRow // every trial so far, best first
	Elapsed      time.Duration
	Budget       time.Duration
	Done         int // trials finished
	Planned      int // the trial count asked for, 0 if none
	Metric       string
	Greater      bool // a higher Metric is better
}

// AutoMLResult is what a search produced. When the search is cancelled,
// AutoML returns it (without a Model) together with the error, so that the
// caller can show the trials kept and how to resume.
type AutoMLResult struct {
	ExperimentID int64            `json:"experiment_id"`
	JobID        int64            `json:"job_id"`
	Model        ModelInfo        `json:"model"`
	Leaderboard  []LeaderboardRow `json:"leaderboard"` // best first; the final model's row among them
	Task         string           `json:"task"`
	Metric       string           `json:"metric"`
	Greater      bool             `json:"greater_is_better"`
	Score        float64          `json:"score"` // validation score of the final model
	Refitted     bool             `json:"refitted"`
	Validation   string           `json:"validation"`
	Notes        []string         `json:"notes,omitempty"`
}

// MarshalJSON writes a missing score (a search stopped before any trial
// scored) as null.
func (r AutoMLResult) MarshalJSON() ([]byte, error) {
	type plain AutoMLResult
	return json.Marshal(struct {
		plain
		Score *float64 `json:"score"`
	}{plain(r), finite(r.Score)})
}

// ExperimentInfo describes an experiment: a custom training or an AutoML
// search.
type ExperimentInfo struct {
	ID            int64     `json:"id"`
	Kind          string    `json:"kind"` // train or automl
	Dataset       string    `json:"dataset"`
	Target        string    `json:"target"`
	Task          string    `json:"task"`
	Metric        string    `json:"metric"`
	BudgetSeconds float64   `json:"budget_seconds"`
	Status        string    `json:"status"`
	BestScore     *float64  `json:"best_score,omitempty"`
	Runs          int       `json:"runs"`
	JobID         int64     `json:"job_id,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	FinishedAt    time.Time `json:"finished_at,omitzero"`
}

// automlConfig is an AutoML experiment's config JSON: the request, and what
// the search decided.
type automlConfig struct {
	Data          string   `json:"data"`
	Target        string   `json:"target"`
	Task          string   `json:"task"`
	Metric        string   `json:"metric"`
	BudgetSeconds float64  `json:"budget_seconds"`
	Trials        int      `json:"trials"`
	Seed          uint64   `json:"seed"`
	Families      []string `json:"families,omitempty"`
	Folds         int      `json:"folds"`
	Name          string   `json:"name"`
	Validation    string   `json:"validation,omitempty"`
	Greater       bool     `json:"greater"`
	Attempts      int      `json:"attempts"` // 1 + the number of resumes
}

// finishReserve is the part of the budget kept for what follows the search:
// the permutation importance and registering the model.
func finishReserve(budget time.Duration) time.Duration {
	return min(max(budget/30, 500*time.Millisecond), 2*time.Second)
}

// AutoML searches for the best model for a target (ml/automl) and registers
// it. It runs as a job. The experiment row is written first; every trial, as
// it finishes, is written with its out-of-fold predictions in a transaction
// of its own, so the leaderboard grows in the workspace while the search runs
// and a search that is cancelled or killed keeps its finished trials (a
// killed one becomes interrupted on the next open) and can be resumed
// (opts.Resume). The final model is registered with its permutation
// importance in one last transaction.
//
// progress reports the share of the budget used (or of the trials, without a
// budget); onEvent, if not nil, receives every finished trial with the
// leaderboard so far. Both are called on the search's goroutine and must be
// quick.
func (s *Studio) AutoML(ctx context.Context, opts AutoMLOptions, progress func(Progress), onEvent func(AutoMLEvent)) (AutoMLResult, error) {
	started := time.Now()
	switch {
	case opts.Budget < 0:
		return AutoMLResult{}, usageErrorf("time budget %v is negative", opts.Budget)
	case opts.Trials < 0:
		return AutoMLResult{}, usageErrorf("trial count %d is negative", opts.Trials)
	case opts.Resume == 0 && opts.Budget == 0 && opts.Trials == 0:
		return AutoMLResult{}, usageErrorf("no budget: give a time budget above 0 or a trial count")
	case opts.Folds < 0 || opts.Folds == 1:
		return AutoMLResult{}, usageErrorf("folds %d: want 0 (by data size) or at least 2", opts.Folds)
	}
	var (
		frame  *data.Frame
		ds     Dataset
		cfg    automlConfig
		exp    storage.Experiment
		prior  []automl.Trial
		rows   []LeaderboardRow
		budget time.Duration
		err    error
	)
	if opts.Resume != 0 {
		frame, ds, exp, cfg, prior, rows, err = s.resumable(ctx, opts.Resume, progress)
		if err != nil {
			return AutoMLResult{}, err
		}
		budget = opts.Budget
		if budget == 0 && cfg.BudgetSeconds > 0 {
			budget = remainingBudget(time.Duration(cfg.BudgetSeconds*float64(time.Second)), prior)
		}
		if opts.Trials > 0 {
			cfg.Trials = opts.Trials
		}
		if budget == 0 && cfg.Trials == 0 {
			return AutoMLResult{}, usageErrorf("no budget: give a time budget above 0 or a trial count")
		}
		// cfg keeps the original budget: a later resume subtracts every
		// trial's time from it again.
		cfg.Attempts++
	} else {
		if opts.Data == "" || opts.Target == "" {
			return AutoMLResult{}, usageErrorf("AutoML needs a dataset and a target column")
		}
		if opts.Name != "" {
			if err := checkName("model", opts.Name); err != nil {
				return AutoMLResult{}, err
			}
		}
		if frame, ds, err = s.loadData(ctx, opts.Data, progress); err != nil {
			return AutoMLResult{}, err
		}
		budget = opts.Budget
		cfg = automlConfig{Data: ds.Ref, Target: opts.Target, Task: opts.Task, Metric: opts.Metric,
			BudgetSeconds: budget.Seconds(), Trials: opts.Trials, Seed: opts.Seed, Families: opts.Families,
			Folds: opts.Folds, Name: opts.Name, Attempts: 1}
	}
	name := cfg.Name
	if name == "" {
		name = ds.Name + "-automl"
	}
	if err := checkName("model", name); err != nil {
		return AutoMLResult{}, err
	}
	target, task, err := targetTask(frame, ds.Ref, cfg.Target, cfg.Task)
	if err != nil {
		return AutoMLResult{}, err
	}
	// Columns whose role is id or ignore stay out of the search, as they do
	// out of a custom training.
	unused, err := s.unusedColumns(ctx, ds.ID)
	if err != nil {
		return AutoMLResult{}, err
	}
	if len(unused) > 0 {
		kept := &data.Frame{}
		for _, c := range frame.Columns {
			if c.Name == cfg.Target || !unused[c.Name] {
				kept.Columns = append(kept.Columns, c)
			}
		}
		frame = kept
	}
	metric := cfg.Metric
	if metric == "" {
		metric = metrics.Default(task)
	}
	m, err := metrics.Lookup(metric, task)
	if err != nil {
		return AutoMLResult{}, usageError{err}
	}
	outputs := 1
	if task != model.Regression {
		if _, classes, err := model.Labels(presentRows(target), task); err == nil {
			outputs = len(classes)
		}
	}
	search := automl.Config{Task: cfg.Task, Metric: cfg.Metric, Trials: cfg.Trials, Seed: cfg.Seed,
		Families: cfg.Families, Folds: cfg.Folds, Prior: prior}
	// The budget covers the whole call: what reading the data took is
	// spent, and the end keeps a reserve for importance and registration.
	reserve := time.Duration(0)
	if budget > 0 {
		reserve = finishReserve(budget)
		search.Budget = budget - time.Since(started) - reserve
		if search.Budget <= 0 {
			return AutoMLResult{}, fmt.Errorf("automl on %s: reading the data took %v of the %v budget: give more time",
				ds.Ref, time.Since(started).Round(time.Millisecond), budget)
		}
	}
	if err := automl.Validate(frame, cfg.Target, search); err != nil {
		if errors.Is(err, automl.ErrBadInput) {
			return AutoMLResult{}, usageError{fmt.Errorf("automl on %s: %w", ds.Ref, err)}
		}
		return AutoMLResult{}, err
	}

	res := AutoMLResult{Task: task, Metric: m.Name, Greater: m.HigherIsBetter}
	title := fmt.Sprintf("AutoML on %s (target %s)", ds.Ref, cfg.Target)
	if opts.Resume != 0 {
		title = fmt.Sprintf("AutoML on %s (target %s), resumed", ds.Ref, cfg.Target)
	}
	res.JobID, err = s.runner.Run(ctx, "automl", title, progress, func(ctx context.Context, report jobs.Reporter) (string, error) {
		jobID, _ := jobs.FromContext(ctx)
		cfg.Greater = m.HigherIsBetter
		err := s.ws.Update(ctx, func(tx *storage.Tx) error {
			if opts.Resume != 0 {
				if err := tx.RestartExperiment(exp.ID, jobID); err != nil {
					return err
				}
				return tx.SetExperimentConfig(exp.ID, string(mustJSON(cfg)))
			}
			exp = storage.Experiment{Kind: "automl", DatasetID: ds.ID, DatasetRef: ds.Ref, DatasetHash: ds.Hash,
				Target: cfg.Target, Task: task, Metric: m.Name, BudgetSeconds: cfg.BudgetSeconds,
				Config: string(mustJSON(cfg)), JobID: jobID}
			return tx.InsertExperiment(&exp)
		})
		if err != nil {
			return "", err
		}
		res.ExperimentID = exp.ID
		board := &leaderboard{greater: m.HigherIsBetter, rows: rows}
		rec := &trialRecorder{ws: s.ws, ctx: context.WithoutCancel(ctx), exp: exp.ID, seed: cfg.Seed, outputs: outputs}
		report("searching", 0, fmt.Sprintf("%s, %s: searching", task, m.Name))
		usage := jobs.StartUsage()
		var lastTrial time.Time
		sr, err := automl.Run(ctx, frame, cfg.Target, search, func(ev automl.Event) {
			lastTrial = time.Now()
			row, werr := rec.record(ev.Trial)
			if werr != nil {
				// The trial is lost to the workspace, not to the search: say so
				// on the row, keep going.
				row.Note = strings.TrimSpace(row.Note + " (not saved: " + werr.Error() + ")")
			}
			board.add(row)
			frac := -1.0
			switch {
			case budget > 0:
				frac = min(float64(time.Since(started))/float64(budget), 0.99)
			case ev.Planned > 0:
				frac = min(float64(ev.Done)/float64(ev.Planned), 0.99)
			}
			report("searching", frac, fmt.Sprintf("trial %d: %s %s %s; best %s %s", ev.Trial.Index, row.Algorithm,
				m.Name, formatScore(row.Score), board.bestAlgorithm(), formatScore(board.bestScore())))
			if onEvent != nil {
				onEvent(AutoMLEvent{ExperimentID: exp.ID, Row: row, Leaderboard: board.sorted(), Elapsed: time.Since(started),
					Budget: budget, Done: ev.Done, Planned: ev.Planned, Metric: m.Name, Greater: m.HigherIsBetter})
			}
		})
		searchCPU, _ := usage.Finish()
		finishing := 0.0
		if !lastTrial.IsZero() {
			finishing = time.Since(lastTrial).Seconds()
		}
		if sr != nil {
			res.Task, res.Metric, res.Greater, res.Validation, res.Notes = sr.Task, sr.Metric, sr.Greater, sr.Validation, sr.Notes
			res.Score, res.Refitted = sr.Score, sr.Refitted
		}
		res.Leaderboard = board.sorted()
		// A failed search or registration finishes its experiment even
		// though the job's context may be done.
		fail := func(err error) (string, error) {
			_ = s.ws.Update(context.WithoutCancel(ctx), func(tx *storage.Tx) error {
				return tx.FinishExperiment(exp.ID, failedStatus(err), time.Now())
			})
			return "", err
		}
		if err != nil {
			return fail(err)
		}
		cfg.Validation = sr.Validation
		final, err := s.registerAutoML(ctx, report, registration{frame: frame, ds: ds, exp: exp, cfg: cfg, name: name,
			sr: sr, board: board, started: started, budget: budget, cpu: searchCPU, finishing: finishing, reserve: reserve})
		if err != nil {
			return fail(err)
		}
		res.Model = final
		res.Leaderboard = board.sorted()
		return detailJSON(map[string]any{"model": final.Ref, "experiment_id": exp.ID, "trials": board.trials()}), nil
	})
	if err != nil {
		return res, fmt.Errorf("automl on %s: %w", ds.Ref, err)
	}
	return res, nil
}

// remainingBudget is what is left of a search's budget after its earlier
// attempts, estimated as the fit time of the trials they finished (trials
// run one after the other). At least a tenth of the budget is given, so that
// a resumed search can still ensemble and refit.
func remainingBudget(budget time.Duration, prior []automl.Trial) time.Duration {
	spent := 0.0
	for _, t := range prior {
		spent += t.FitSeconds
	}
	return max(budget-time.Duration(spent*float64(time.Second)), budget/10)
}

// presentRows is the target without the rows that have no value, which a
// search leaves out.
func presentRows(target *data.Column) *data.Column {
	var keep []int
	for i := range target.Len() {
		if !target.IsMissing(i) && !(target.Kind == data.Numeric && math.IsInf(target.Num[i], 0)) {
			keep = append(keep, i)
		}
	}
	if len(keep) == target.Len() {
		return target
	}
	return target.Take(keep)
}

func formatScore(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// trialRecorder writes finished trials to the workspace.
type trialRecorder struct {
	ws      *storage.Workspace
	ctx     context.Context // not cancelled with the search: a finished trial is kept
	exp     int64
	seed    uint64
	outputs int // out-of-fold values per row
}

// record writes a trial's run, its automl_trials row (with its out-of-fold
// predictions) and its learning curve in one transaction, and returns its
// leaderboard row.
func (r *trialRecorder) record(t automl.Trial) (LeaderboardRow, error) {
	row := rowOf(t)
	now := time.Now()
	run := storage.Run{ExperimentID: r.exp, Algorithm: t.Algorithm, Params: string(mustJSON(nonNil(t.Params))),
		Seed: int64(r.seed), Status: runStatus(t.Status), Score: t.Score, ScoreStd: t.ScoreStd,
		FitSeconds: t.FitSeconds, CPUSeconds: t.CPUSeconds, Error: t.Error, FinishedAt: now,
		StartedAt: now.Add(-time.Duration(t.FitSeconds * float64(time.Second)))}
	if len(t.Metrics) > 0 {
		run.Metrics = string(mustJSON(finiteMetrics(t.Metrics)))
	}
	tr := storage.Trial{ExperimentID: r.exp, Role: storage.RoleTrial, Index: t.Index, Status: t.Status,
		PredictMicros: t.PredictMicros, Note: row.Note}
	if t.RefitParams != nil {
		tr.RefitParams = string(mustJSON(t.RefitParams))
	}
	if len(t.OOF) > 0 {
		if len(t.OOF)%r.outputs != 0 {
			return row, fmt.Errorf("trial %d: %d out-of-fold values are not a whole number of rows of %d", t.Index, len(t.OOF), r.outputs)
		}
		tr.OOF, tr.OOFRows, tr.OOFOutputs = t.OOF, len(t.OOF)/r.outputs, r.outputs
	}
	err := r.ws.Update(r.ctx, func(tx *storage.Tx) error {
		if err := tx.InsertRun(&run); err != nil {
			return err
		}
		tr.RunID = run.ID
		if err := tx.InsertTrial(tr); err != nil {
			return err
		}
		return tx.AddRunMetrics(run.ID, curvePoints(t.Curve))
	})
	if err != nil {
		return row, fmt.Errorf("record trial %d: %w", t.Index, err)
	}
	row.RunID = run.ID
	return row, nil
}

// rowOf is a trial's leaderboard row (without its run id).
func rowOf(t automl.Trial) LeaderboardRow {
	row := LeaderboardRow{Trial: t.Index, Algorithm: t.Algorithm, Params: nonNil(t.Params), Score: t.Score,
		ScoreStd: t.ScoreStd, FitSeconds: t.FitSeconds, PredictMicros: t.PredictMicros, CPUSeconds: t.CPUSeconds,
		Status: t.Status}
	switch t.Status {
	case automl.Failed:
		row.Note = t.Error
	case automl.Pruned:
		row.Note = "stopped early by the search"
		if t.Error != "" {
			row.Note += ": " + t.Error
		}
	}
	return row
}

// failedStatus is the status of a run or experiment that ended with err:
// cancelled when its context was, else failed.
func failedStatus(err error) string {
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	return "failed"
}

// runStatus maps a trial's status to the runs table's: a trial the search
// stopped early is a cancelled run.
func runStatus(trial string) string {
	switch trial {
	case automl.Succeeded:
		return "succeeded"
	case automl.Pruned:
		return "cancelled"
	}
	return "failed"
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// finiteMetrics drops the values JSON cannot hold.
func finiteMetrics(m map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out[k] = v
		}
	}
	return out
}

func curvePoints(curve []learn.Iteration) []storage.MetricPoint {
	var out []storage.MetricPoint
	for _, it := range curve {
		if !math.IsNaN(it.Loss) {
			out = append(out, storage.MetricPoint{Name: "train_" + it.Metric, Step: it.Step, Value: it.Loss})
		}
		if !math.IsNaN(it.ValidLoss) {
			out = append(out, storage.MetricPoint{Name: "valid_" + it.Metric, Step: it.Step, Value: it.ValidLoss})
		}
	}
	return out
}

// leaderboard is the rows of one search, kept on the search's goroutine.
type leaderboard struct {
	greater bool
	rows    []LeaderboardRow
}

func (b *leaderboard) add(r LeaderboardRow) { b.rows = append(b.rows, r) }

// sorted returns a ranked copy, best first.
func (b *leaderboard) sorted() []LeaderboardRow {
	out := slices.Clone(b.rows)
	rankRows(out, b.greater)
	return out
}

// rankRows sorts rows best first — scored rows by score, the final model
// before a trial it ties with, then by trial — and numbers the scored ones.
func rankRows(rows []LeaderboardRow, greater bool) {
	slices.SortStableFunc(rows, func(a, b LeaderboardRow) int {
		an, bn := math.IsNaN(a.Score), math.IsNaN(b.Score)
		switch {
		case an != bn:
			if an {
				return 1
			}
			return -1
		case !an && a.Score != b.Score:
			if (a.Score > b.Score) == greater {
				return -1
			}
			return 1
		case (a.Trial < 0) != (b.Trial < 0):
			if a.Trial < 0 {
				return -1
			}
			return 1
		}
		return a.Trial - b.Trial
	})
	for i := range rows {
		rows[i].Rank = 0
		if !math.IsNaN(rows[i].Score) {
			rows[i].Rank = i + 1
		}
	}
}

func (b *leaderboard) best() (LeaderboardRow, bool) {
	rows := b.sorted()
	if len(rows) == 0 || math.IsNaN(rows[0].Score) {
		return LeaderboardRow{Score: math.NaN()}, false
	}
	return rows[0], true
}

func (b *leaderboard) bestAlgorithm() string {
	r, ok := b.best()
	if !ok {
		return "none"
	}
	return r.Algorithm
}

func (b *leaderboard) bestScore() float64 {
	r, _ := b.best()
	return r.Score
}

// trials counts the trials (not the final model).
func (b *leaderboard) trials() int {
	n := 0
	for _, r := range b.rows {
		if r.Trial >= 0 {
			n++
		}
	}
	return n
}

// resumable loads what an interrupted or cancelled search left: its
// experiment and config, its data, and its finished trials (as automl.Config
// wants them for Prior, and as leaderboard rows).
func (s *Studio) resumable(ctx context.Context, id int64, progress func(Progress)) (*data.Frame, Dataset, storage.Experiment,
	automlConfig, []automl.Trial, []LeaderboardRow, error) {
	var (
		exp    storage.Experiment
		cfg    automlConfig
		prior  []automl.Trial
		rows   []LeaderboardRow
		runs   []storage.Run
		trials []storage.Trial
	)
	fail := func(err error) (*data.Frame, Dataset, storage.Experiment, automlConfig, []automl.Trial, []LeaderboardRow, error) {
		return nil, Dataset{}, exp, cfg, nil, nil, err
	}
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		var err error
		if exp, err = tx.Experiment(id); err != nil {
			return err
		}
		if exp.Kind != "automl" {
			return nil
		}
		if runs, err = tx.Runs(id, 0); err != nil {
			return err
		}
		trials, err = tx.Trials(id, true)
		return err
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fail(usageErrorf("no experiment %d in this workspace", id))
	case err != nil:
		return fail(err)
	case exp.Kind != "automl":
		return fail(usageErrorf("experiment %d is a %s, not an AutoML search: only a search can be resumed", id, exp.Kind))
	case exp.Status == "running":
		return fail(usageErrorf("AutoML search %d is still running (job %d)", id, exp.JobID))
	case exp.Status == "succeeded":
		return fail(usageErrorf("AutoML search %d has finished and registered its model: start a new search instead", id))
	case exp.DatasetID == 0:
		return fail(fmt.Errorf("resume AutoML search %d: its dataset %s has been deleted", id, exp.DatasetRef))
	}
	if err := json.Unmarshal([]byte(exp.Config), &cfg); err != nil {
		return fail(fmt.Errorf("resume AutoML search %d: its config: %w", id, err))
	}
	byID := make(map[int64]storage.Run, len(runs))
	for _, r := range runs {
		byID[r.ID] = r
	}
	for _, t := range trials {
		r, ok := byID[t.RunID]
		if t.Role != storage.RoleTrial || !ok {
			continue
		}
		at := automl.Trial{Index: t.Index, Algorithm: r.Algorithm, Score: r.Score, ScoreStd: r.ScoreStd,
			FitSeconds: r.FitSeconds, CPUSeconds: r.CPUSeconds, PredictMicros: t.PredictMicros, Status: t.Status,
			Error: r.Error, OOF: t.OOF}
		if err := jsonUnmarshal(r.Params, &at.Params); err != nil {
			return fail(fmt.Errorf("resume AutoML search %d: run %d params: %w", id, r.ID, err))
		}
		if err := jsonUnmarshal(r.Metrics, &at.Metrics); err != nil {
			return fail(fmt.Errorf("resume AutoML search %d: run %d metrics: %w", id, r.ID, err))
		}
		if err := jsonUnmarshal(t.RefitParams, &at.RefitParams); err != nil {
			return fail(fmt.Errorf("resume AutoML search %d: run %d refit params: %w", id, r.ID, err))
		}
		prior = append(prior, at)
		row := rowOf(at)
		row.RunID, row.Note = r.ID, t.Note
		rows = append(rows, row)
	}
	detail, err := s.Dataset(ctx, exp.DatasetRef)
	if err != nil {
		return fail(fmt.Errorf("resume AutoML search %d: %w", id, err))
	}
	if detail.Hash != exp.DatasetHash {
		return fail(fmt.Errorf("resume AutoML search %d: dataset %s is not the one it searched (its content hash differs)", id, exp.DatasetRef))
	}
	if progress != nil {
		progress(Progress{Stage: "reading", Fraction: 0, Message: "loading " + detail.Ref})
	}
	frame, err := s.Frame(ctx, detail.Ref)
	if err != nil {
		return fail(err)
	}
	return frame, detail.Dataset, exp, cfg, prior, rows, nil
}

// registration is what registerAutoML needs.
type registration struct {
	frame     *data.Frame
	ds        Dataset
	exp       storage.Experiment
	cfg       automlConfig
	name      string
	sr        *automl.Result
	board     *leaderboard
	started   time.Time
	budget    time.Duration
	reserve   time.Duration
	cpu       float64 // CPU-seconds of the search
	finishing float64 // seconds from the last trial to the end of the search: ensembling and refit
}

// importanceRows bounds the rows permutation importance scores: enough for a
// stable ranking, few enough to take a fraction of a second.
const importanceRows = 2000

// registerAutoML records the final model of a search: its run (role final)
// with its leaderboard row, and the model with its card and permutation
// importance, in one transaction that also finishes the experiment.
func (s *Studio) registerAutoML(ctx context.Context, report jobs.Reporter, r registration) (ModelInfo, error) {
	sr := r.sr
	pipe := sr.Best
	if pipe == nil {
		return ModelInfo{}, errors.New("the search ended without a model")
	}
	algo := pipe.Meta["algorithm"]
	if len(sr.Ensemble) > 0 {
		algo = "ensemble"
	}
	if algo == "" {
		return ModelInfo{}, errors.New("the search's model does not say its algorithm")
	}
	notes := append([]string{}, sr.Notes...)

	report("explaining", 0.99, "permutation importance of the final model")
	// Importance may use what is left of the budget, and at least half the
	// reserve kept for it; without a budget, up to half a minute.
	deadline := time.Now().Add(30 * time.Second)
	if r.budget > 0 {
		deadline = r.started.Add(r.budget - r.reserve/4)
		if least := time.Now().Add(r.reserve / 2); deadline.Before(least) {
			deadline = least
		}
	}
	ictx, cancel := context.WithDeadline(ctx, deadline)
	imp, micros, err := explainModel(ictx, pipe, r.frame, r.cfg.Target, sr.Metric, r.cfg.Seed)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ModelInfo{}, ctx.Err()
		}
		notes = append(notes, "permutation importance was left out: "+err.Error())
	}

	// The final model's own leaderboard row.
	var members []map[string]any
	params := map[string]string{}
	note := ""
	byTrial := map[int]LeaderboardRow{}
	for _, row := range r.board.rows {
		byTrial[row.Trial] = row
	}
	bestTrial := -1
	if t, err := strconv.Atoi(pipe.Meta["automl_trial"]); err == nil {
		bestTrial = t
	}
	if len(sr.Ensemble) > 0 {
		var names []string
		for _, mb := range sr.Ensemble {
			row := byTrial[mb.Trial]
			members = append(members, map[string]any{"trial": mb.Trial, "weight": mb.Weight, "algorithm": row.Algorithm,
				"run_id": row.RunID, "score": finite(row.Score)})
			params[strconv.Itoa(mb.Trial)] = strconv.FormatFloat(mb.Weight, 'g', 6, 64)
			names = append(names, strconv.Itoa(mb.Trial))
		}
		note = fmt.Sprintf("ensemble of %d (trials %s)", len(sr.Ensemble), strings.Join(names, ", "))
	} else {
		params = byTrial[bestTrial].Params
		note = fmt.Sprintf("trial %d", bestTrial)
	}
	if sr.Refitted {
		note += ", refitted on all rows"
	} else {
		note += ", not refitted (trained on its first fold)"
	}
	finalRow := LeaderboardRow{Trial: -1, Algorithm: algo, Params: nonNil(params), Score: sr.Score, ScoreStd: math.NaN(),
		FitSeconds: r.finishing, PredictMicros: micros, Status: automl.Succeeded, Note: note}
	if len(sr.Ensemble) == 0 {
		finalRow.ScoreStd = byTrial[bestTrial].ScoreStd
	}

	pipe.Meta = maps(pipe.Meta, map[string]string{
		"dataset": r.ds.Ref, "dataset_sha256": r.ds.Hash, "code_version": codeVersion(),
		"experiment": strconv.FormatInt(r.exp.ID, 10), "seed": strconv.FormatUint(r.cfg.Seed, 10), "metric": sr.Metric,
	})
	artifact, err := pipe.MarshalBinary()
	if err != nil {
		return ModelInfo{}, fmt.Errorf("encode the model: %w", err)
	}
	sum := sha256.Sum256(artifact)
	scores := map[string]float64{}
	if len(sr.Ensemble) == 0 {
		for k, v := range finiteMetrics(trialMetrics(sr.Trials, bestTrial)) {
			scores[k] = v
		}
	}
	if !math.IsNaN(sr.Score) {
		scores[sr.Metric] = sr.Score
	}
	top := r.board.sorted()
	summary := make([]map[string]any, 0, 10)
	for _, row := range top[:min(len(top), 10)] {
		summary = append(summary, map[string]any{"rank": row.Rank, "trial": row.Trial, "algorithm": row.Algorithm,
			"score": finite(row.Score), "fit_seconds": row.FitSeconds, "status": row.Status})
	}
	importance := make([]map[string]any, 0, len(imp))
	for _, im := range imp {
		importance = append(importance, map[string]any{"feature": im.Feature, "mean": im.Mean, "std": im.Std})
	}
	card := map[string]any{
		"kind": "automl", "experiment_id": r.exp.ID, "dataset": r.ds.Ref, "dataset_sha256": r.ds.Hash,
		"target": r.cfg.Target, "task": sr.Task, "classes": sr.Classes, "metric": sr.Metric, "greater_is_better": sr.Greater,
		"score": finite(sr.Score), "validation": sr.Validation, "algorithm": algo, "params": params,
		"ensemble": members, "refitted": sr.Refitted, "seed": r.cfg.Seed, "budget_seconds": r.budget.Seconds(),
		"trials_planned": r.cfg.Trials, "trials": r.board.trials(), "leaderboard": summary,
		"search_seconds": time.Since(r.started).Seconds(), "cpu_seconds": r.cpu, "rows": r.frame.Rows(),
		"importance": importance, "notes": notes, "code_version": codeVersion(), "attempts": r.cfg.Attempts,
	}
	m := storage.Model{Name: r.name, Algorithm: algo, Task: sr.Task, Artifact: artifact,
		ArtifactSHA256: hex.EncodeToString(sum[:]), Signature: string(mustJSON(signature(pipe))),
		Metrics: string(mustJSON(scores)), Card: string(mustJSON(card))}
	report("registering", 0.995, "registering "+r.name)
	err = s.ws.Update(ctx, func(tx *storage.Tx) error {
		run := storage.Run{ExperimentID: r.exp.ID, Algorithm: algo, Params: string(mustJSON(finalRow.Params)),
			Seed: int64(r.cfg.Seed), Status: "succeeded", Score: sr.Score, ScoreStd: finalRow.ScoreStd,
			Metrics: string(mustJSON(scores)), FitSeconds: r.finishing, CPUSeconds: r.cpu, FinishedAt: time.Now()}
		if err := tx.InsertRun(&run); err != nil {
			return err
		}
		if err := tx.InsertTrial(storage.Trial{RunID: run.ID, ExperimentID: r.exp.ID, Role: storage.RoleFinal,
			Status: automl.Succeeded, PredictMicros: micros, Note: note}); err != nil {
			return err
		}
		finalRow.RunID, m.RunID = run.ID, run.ID
		if err := tx.InsertModel(&m); err != nil {
			return err
		}
		if err := tx.SetExperimentConfig(r.exp.ID, string(mustJSON(r.cfg))); err != nil {
			return err
		}
		if err := tx.FinishExperiment(r.exp.ID, "succeeded", time.Now()); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "automl", ObjectType: "model",
			ObjectName: m.Name + "@" + strconv.Itoa(m.Version),
			Detail: detailJSON(map[string]any{"dataset": r.ds.Ref, "experiment": r.exp.ID, "algorithm": algo,
				"trials": r.board.trials()})})
	})
	if err != nil {
		return ModelInfo{}, err
	}
	r.board.add(finalRow)
	return modelFrom(m), nil
}

func maps(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func trialMetrics(trials []automl.Trial, index int) map[string]float64 {
	for _, t := range trials {
		if t.Index == index {
			return t.Metrics
		}
	}
	return nil
}

// importanceRepeats is how many times each column is shuffled.
const importanceRepeats = 3

// explainModel computes the permutation importance of a model's input
// columns on a deterministic sample of up to importanceRows rows of the data,
// shuffling raw columns (so that an ensemble of pipelines with different
// preprocessing is explained as one model), and measures its prediction
// latency per row on that sample. It must end by ctx's deadline: after one
// timed prediction it shrinks the sample to what the time left allows, and
// gives up (with an error saying so) below 100 rows.
func explainModel(ctx context.Context, pipe *model.Pipeline, frame *data.Frame, target, metric string, seed uint64) ([]explain.Importance, float64, error) {
	col := frame.Column(target)
	if col == nil {
		return nil, 0, fmt.Errorf("no target column %q", target)
	}
	if len(pipe.Inputs) == 0 {
		return nil, 0, errors.New("the model lists no input columns")
	}
	var keep []int
	for i := range col.Len() {
		if !col.IsMissing(i) && !(col.Kind == data.Numeric && math.IsInf(col.Num[i], 0)) {
			keep = append(keep, i)
		}
	}
	y, classes, err := model.Labels(col.Take(keep), pipe.Task)
	if err != nil {
		return nil, 0, err
	}
	if !slices.Equal(classes, pipe.Classes) {
		return nil, 0, fmt.Errorf("the model's classes %v are not the data's %v", pipe.Classes, classes)
	}
	// A deterministic random order of the rows; a sample is a prefix of it.
	order := make([]int, len(keep))
	for i := range order {
		order[i] = i
	}
	rand.New(rand.NewPCG(seed, 0x1e9)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	outputs := pipe.Outputs()
	nClasses := 0
	if pipe.Task != model.Regression {
		nClasses = len(classes)
	}

	X, cols, ys, err := importanceSample(frame, pipe, keep, y, order[:min(len(order), importanceRows)])
	if err != nil {
		return nil, 0, err
	}
	predict, predictErr := columnPredictor(ctx, pipe, cols)
	start := time.Now()
	predict(X, make([]float64, X.Rows*outputs))
	took := time.Since(start)
	micros := float64(took.Microseconds()) / float64(max(X.Rows, 1))
	if err := predictErr(); err != nil {
		return nil, micros, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		// Columns are shuffled and scored in parallel, one prediction of
		// the sample each; keep half the time left as a margin.
		perCore := float64(len(cols)*importanceRepeats) / float64(runtime.GOMAXPROCS(0))
		need := took.Seconds() * math.Ceil(perCore)
		left := time.Until(deadline).Seconds() / 2
		if need > left {
			n := int(float64(X.Rows) * left / need)
			if n < 100 {
				return nil, micros, fmt.Errorf("it needs about %.1fs on %d rows and %.1fs are left", need, X.Rows, 2*left)
			}
			if X, cols, ys, err = importanceSample(frame, pipe, keep, y, order[:n]); err != nil {
				return nil, micros, err
			}
			predict, predictErr = columnPredictor(ctx, pipe, cols)
		}
	}
	imp, err := explain.Permutation(ctx, predict, outputs, X, ys, nClasses, metric, importanceRepeats, seed)
	if err == nil {
		err = predictErr()
	}
	return imp, micros, err
}

// importanceSample takes the rows keep[k] for k in sample (in row order) of
// a model's input columns as features, with their targets.
func importanceSample(frame *data.Frame, pipe *model.Pipeline, keep []int, y []float64, sample []int) (*learn.Features, []*data.Column, []float64, error) {
	sample = slices.Clone(sample)
	slices.Sort(sample)
	rows := make([]int, len(sample))
	ys := make([]float64, len(sample))
	for i, k := range sample {
		rows[i], ys[i] = keep[k], y[k]
	}
	X, cols, err := inputFeatures(frame, pipe, rows)
	if err != nil {
		return nil, nil, nil, err
	}
	return X, cols, ys, nil
}

// Experiments lists experiments (custom trainings and AutoML searches),
// newest first, at most limit (all when limit <= 0), with their run counts
// and best scores.
func (s *Studio) Experiments(ctx context.Context, limit int) ([]ExperimentInfo, error) {
	var out []ExperimentInfo
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		list, err := tx.Experiments("", limit)
		for _, e := range list {
			info := ExperimentInfo{ID: e.ID, Kind: e.Kind, Dataset: e.DatasetRef, Target: e.Target, Task: e.Task,
				Metric: e.Metric, BudgetSeconds: e.BudgetSeconds, Status: e.Status, Runs: e.Runs, JobID: e.JobID,
				CreatedAt: e.CreatedAt, FinishedAt: e.FinishedAt}
			best := e.MaxScore
			if m, err := metrics.Lookup(e.Metric, e.Task); err == nil && !m.HigherIsBetter {
				best = e.MinScore
			}
			info.BestScore = finite(best)
			out = append(out, info)
		}
		return err
	})
	return out, err
}

// Leaderboard lists the trials of an AutoML search (and its final model,
// once registered), best first. It reads the workspace, so it shows a search
// that another process is running as it grows.
func (s *Studio) Leaderboard(ctx context.Context, experimentID int64) ([]LeaderboardRow, error) {
	var rows []LeaderboardRow
	var exp storage.Experiment
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		var err error
		if exp, err = tx.Experiment(experimentID); err != nil {
			return err
		}
		runs, err := tx.Runs(experimentID, 0)
		if err != nil {
			return err
		}
		trials, err := tx.Trials(experimentID, false)
		if err != nil {
			return err
		}
		byID := make(map[int64]storage.Run, len(runs))
		for _, r := range runs {
			byID[r.ID] = r
		}
		for _, t := range trials {
			r, ok := byID[t.RunID]
			if !ok {
				continue
			}
			row := LeaderboardRow{RunID: r.ID, Trial: t.Index, Algorithm: r.Algorithm, Score: r.Score, ScoreStd: r.ScoreStd,
				FitSeconds: r.FitSeconds, PredictMicros: t.PredictMicros, CPUSeconds: r.CPUSeconds, Status: t.Status, Note: t.Note}
			if err := jsonUnmarshal(r.Params, &row.Params); err != nil {
				return fmt.Errorf("run %d params: %w", r.ID, err)
			}
			row.Params = nonNil(row.Params)
			rows = append(rows, row)
		}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, usageErrorf("no experiment %d in this workspace", experimentID)
	}
	if err != nil {
		return nil, err
	}
	greater := true
	if m, err := metrics.Lookup(exp.Metric, exp.Task); err == nil {
		greater = m.HigherIsBetter
	}
	rankRows(rows, greater)
	return rows, nil
}
