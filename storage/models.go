package storage

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Experiment is one training request on a dataset version and target.
type Experiment struct {
	ID            int64
	Kind          string // train|automl
	DatasetID     int64  // 0 once the dataset is deleted
	DatasetRef    string // name@version at training time
	DatasetHash   string
	Target        string
	Task          string // binary|multiclass|regression
	Metric        string
	BudgetSeconds float64
	Config        string // JSON
	Status        string // running|succeeded|failed|cancelled|interrupted
	JobID         int64
	CreatedAt     time.Time
	FinishedAt    time.Time
}

// Run is one trained candidate of an experiment.
type Run struct {
	ID              int64
	ExperimentID    int64
	Algorithm       string
	Params          string // JSON
	Seed            int64
	Status          string
	Score           float64 // NaN when unknown
	ScoreStd        float64 // NaN when unknown
	Metrics         string  // JSON
	FitSeconds      float64
	CPUSeconds      float64
	PeakMemoryBytes int64
	Error           string
	StartedAt       time.Time
	FinishedAt      time.Time
}

// MetricPoint is one point of a run's learning curve.
type MetricPoint struct {
	Name  string
	Step  int
	Value float64 // NaN when not finite
}

// Model is one registered model version. Artifact is loaded only by Model
// and ModelByID; listings leave it nil.
type Model struct {
	ID             int64
	Name           string
	Version        int
	Stage          string // none|staging|production|archived
	RunID          int64
	Algorithm      string
	Task           string
	Artifact       []byte
	ArtifactSHA256 string
	ArtifactBytes  int64
	Signature      string // JSON
	Metrics        string // JSON
	Card           string // JSON
	CreatedAt      time.Time
}

func nullFloat(v float64) sql.NullFloat64 {
	return sql.NullFloat64{Float64: v, Valid: !math.IsNaN(v) && !math.IsInf(v, 0)}
}

func floatOrNaN(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

func checkJSON(what, s string) error {
	if s != "" && !json.Valid([]byte(s)) {
		return fmt.Errorf("storage: %s is not valid JSON", what)
	}
	return nil
}

// InsertExperiment stores e, setting e.ID and e.CreatedAt (now if zero).
func (tx *Tx) InsertExperiment(e *Experiment) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if err := checkJSON("experiment config", e.Config); err != nil {
		return err
	}
	if e.Status == "" {
		e.Status = "running"
	}
	created := stamp(e.CreatedAt)
	res, err := tx.exec(`INSERT INTO experiments (kind, dataset_id, dataset_ref, dataset_hash, target, task, metric,
		budget_seconds, config, status, job_id, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Kind, nullID(e.DatasetID), e.DatasetRef, e.DatasetHash, e.Target, e.Task, e.Metric,
		e.BudgetSeconds, nullString(e.Config), e.Status, nullID(e.JobID), formatTime(created), nullTime(e.FinishedAt))
	if err != nil {
		return fmt.Errorf("storage: insert experiment on %s: %w", e.DatasetRef, err)
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("storage: insert experiment: %w", err)
	}
	e.CreatedAt = created
	return nil
}

// FinishExperiment sets an experiment's status and finish time.
func (tx *Tx) FinishExperiment(id int64, status string, at time.Time) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE experiments SET status = ?, finished_at = ? WHERE id = ?`, status, nullTime(stamp(at)), id)
	return affectedOne(res, err, fmt.Sprintf("finish experiment %d", id))
}

const experimentColumns = `id, kind, dataset_id, dataset_ref, dataset_hash, target, task, metric,
	budget_seconds, config, status, job_id, created_at, finished_at`

func scanExperiment(s interface{ Scan(...any) error }) (Experiment, error) {
	var e Experiment
	var dataset, job sql.NullInt64
	var config, finished sql.NullString
	var created string
	err := s.Scan(&e.ID, &e.Kind, &dataset, &e.DatasetRef, &e.DatasetHash, &e.Target, &e.Task, &e.Metric,
		&e.BudgetSeconds, &config, &e.Status, &job, &created, &finished)
	if err != nil {
		return e, err
	}
	e.DatasetID, e.JobID, e.Config = dataset.Int64, job.Int64, config.String
	if e.CreatedAt, err = parseTime(created); err != nil {
		return e, err
	}
	e.FinishedAt, err = parseNullTime(finished)
	return e, err
}

// Experiment returns the experiment with that id.
func (tx *Tx) Experiment(id int64) (Experiment, error) {
	if err := tx.readable(); err != nil {
		return Experiment{}, err
	}
	e, err := scanExperiment(tx.queryRow("SELECT "+experimentColumns+" FROM experiments WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return e, fmt.Errorf("experiment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("storage: experiment %d: %w", id, err)
	}
	return e, nil
}

// InsertRun stores r, setting r.ID and r.StartedAt (now if zero).
func (tx *Tx) InsertRun(r *Run) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if err := checkJSON("run params", r.Params); err != nil {
		return err
	}
	if r.Params == "" {
		r.Params = "{}"
	}
	if r.Status == "" {
		r.Status = "running"
	}
	started := stamp(r.StartedAt)
	res, err := tx.exec(`INSERT INTO runs (experiment_id, algorithm, params, seed, status, score, score_std, metrics,
		fit_seconds, cpu_seconds, peak_memory_bytes, error, started_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ExperimentID, r.Algorithm, r.Params, r.Seed, r.Status, nullFloat(r.Score), nullFloat(r.ScoreStd),
		nullString(r.Metrics), r.FitSeconds, r.CPUSeconds, r.PeakMemoryBytes, r.Error,
		formatTime(started), nullTime(r.FinishedAt))
	if err != nil {
		return fmt.Errorf("storage: insert %s run: %w", r.Algorithm, err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("storage: insert run: %w", err)
	}
	r.StartedAt = started
	return nil
}

// UpdateRun writes the outcome fields of r (status, scores, metrics, costs,
// error, finish time) to the row with r.ID.
func (tx *Tx) UpdateRun(r Run) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if err := checkJSON("run metrics", r.Metrics); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE runs SET status = ?, score = ?, score_std = ?, metrics = ?, fit_seconds = ?,
		cpu_seconds = ?, peak_memory_bytes = ?, error = ?, finished_at = ? WHERE id = ?`,
		r.Status, nullFloat(r.Score), nullFloat(r.ScoreStd), nullString(r.Metrics), r.FitSeconds,
		r.CPUSeconds, r.PeakMemoryBytes, r.Error, nullTime(r.FinishedAt), r.ID)
	return affectedOne(res, err, fmt.Sprintf("update run %d", r.ID))
}

const runColumns = `id, experiment_id, algorithm, params, seed, status, score, score_std, metrics,
	fit_seconds, cpu_seconds, peak_memory_bytes, error, started_at, finished_at`

func scanRun(s interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var score, std sql.NullFloat64
	var metrics, finished sql.NullString
	var started string
	err := s.Scan(&r.ID, &r.ExperimentID, &r.Algorithm, &r.Params, &r.Seed, &r.Status, &score, &std, &metrics,
		&r.FitSeconds, &r.CPUSeconds, &r.PeakMemoryBytes, &r.Error, &started, &finished)
	if err != nil {
		return r, err
	}
	r.Score, r.ScoreStd, r.Metrics = floatOrNaN(score), floatOrNaN(std), metrics.String
	if r.StartedAt, err = parseTime(started); err != nil {
		return r, err
	}
	r.FinishedAt, err = parseNullTime(finished)
	return r, err
}

// Run returns the run with that id.
func (tx *Tx) Run(id int64) (Run, error) {
	if err := tx.readable(); err != nil {
		return Run{}, err
	}
	r, err := scanRun(tx.queryRow("SELECT "+runColumns+" FROM runs WHERE id = ?", id))
	if err == sql.ErrNoRows {
		return r, fmt.Errorf("run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("storage: run %d: %w", id, err)
	}
	return r, nil
}

// Runs lists runs, newest first: of one experiment, or all when experimentID
// is 0; at most limit (all when limit <= 0).
func (tx *Tx) Runs(experimentID int64, limit int) ([]Run, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query("SELECT "+runColumns+" FROM runs WHERE ? = 0 OR experiment_id = ? ORDER BY id DESC LIMIT ?",
		experimentID, experimentID, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("storage: runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// InterruptRunsOfJob marks the running experiments and runs of a job as
// interrupted: the process that trained them is gone.
func (tx *Tx) InterruptRunsOfJob(jobID int64, at time.Time) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	ts := formatTime(stamp(at))
	if _, err := tx.exec(`UPDATE runs SET status = 'interrupted', finished_at = ?,
		error = 'the process training it ended before it finished'
		WHERE status = 'running' AND experiment_id IN (SELECT id FROM experiments WHERE job_id = ?)`, ts, jobID); err != nil {
		return fmt.Errorf("storage: interrupt runs of job %d: %w", jobID, err)
	}
	if _, err := tx.exec(`UPDATE experiments SET status = 'interrupted', finished_at = ?
		WHERE status = 'running' AND job_id = ?`, ts, jobID); err != nil {
		return fmt.Errorf("storage: interrupt experiments of job %d: %w", jobID, err)
	}
	return nil
}

// AddRunMetrics appends learning-curve points to a run.
func (tx *Tx) AddRunMetrics(runID int64, points []MetricPoint) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	for _, p := range points {
		if _, err := tx.exec(`INSERT OR REPLACE INTO run_metrics (run_id, name, step, value) VALUES (?, ?, ?, ?)`,
			runID, p.Name, p.Step, nullFloat(p.Value)); err != nil {
			return fmt.Errorf("storage: run %d metric %s: %w", runID, p.Name, err)
		}
	}
	return nil
}

// RunMetrics returns a run's learning-curve points by name, then step.
func (tx *Tx) RunMetrics(runID int64) ([]MetricPoint, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT name, step, value FROM run_metrics WHERE run_id = ? ORDER BY name, step`, runID)
	if err != nil {
		return nil, fmt.Errorf("storage: metrics of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []MetricPoint
	for rows.Next() {
		var p MetricPoint
		var v sql.NullFloat64
		if err := rows.Scan(&p.Name, &p.Step, &v); err != nil {
			return nil, fmt.Errorf("storage: metrics of run %d: %w", runID, err)
		}
		p.Value = floatOrNaN(v)
		out = append(out, p)
	}
	return out, rows.Err()
}

// NextModelVersion is 1 + the highest version of that model name, 1 if none.
func (tx *Tx) NextModelVersion(name string) (int, error) {
	if err := tx.readable(); err != nil {
		return 0, err
	}
	var v int
	if err := tx.queryRow(`SELECT COALESCE(MAX(version), 0) + 1 FROM models WHERE name = ?`, name).Scan(&v); err != nil {
		return 0, fmt.Errorf("storage: next version of model %q: %w", name, err)
	}
	return v, nil
}

// InsertModel registers m, setting m.ID, m.CreatedAt and, if zero, m.Version
// (the next for its name).
func (tx *Tx) InsertModel(m *Model) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	for what, s := range map[string]string{"signature": m.Signature, "metrics": m.Metrics, "card": m.Card} {
		if err := checkJSON("model "+what, s); err != nil {
			return err
		}
	}
	if m.Version == 0 {
		v, err := tx.NextModelVersion(m.Name)
		if err != nil {
			return err
		}
		m.Version = v
	}
	if m.Stage == "" {
		m.Stage = "none"
	}
	created := stamp(m.CreatedAt)
	res, err := tx.exec(`INSERT INTO models (name, version, stage, run_id, algorithm, task, artifact, artifact_sha256,
		signature, metrics, card, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Name, m.Version, m.Stage, nullID(m.RunID), m.Algorithm, m.Task, m.Artifact, m.ArtifactSHA256,
		m.Signature, nullString(m.Metrics), nullString(m.Card), formatTime(created))
	if err != nil {
		return fmt.Errorf("storage: register model %s@%d: %w", m.Name, m.Version, err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("storage: register model: %w", err)
	}
	m.CreatedAt, m.ArtifactBytes = created, int64(len(m.Artifact))
	return nil
}

const modelColumns = `id, name, version, stage, run_id, algorithm, task, artifact_sha256, length(artifact),
	signature, metrics, card, created_at`

func scanModel(s interface{ Scan(...any) error }) (Model, error) {
	var m Model
	var run sql.NullInt64
	var metrics, card sql.NullString
	var created string
	err := s.Scan(&m.ID, &m.Name, &m.Version, &m.Stage, &run, &m.Algorithm, &m.Task, &m.ArtifactSHA256,
		&m.ArtifactBytes, &m.Signature, &metrics, &card, &created)
	if err != nil {
		return m, err
	}
	m.RunID, m.Metrics, m.Card = run.Int64, metrics.String, card.String
	m.CreatedAt, err = parseTime(created)
	return m, err
}

// Models lists every model version (without artifacts), by name then version.
func (tx *Tx) Models() ([]Model, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query("SELECT " + modelColumns + " FROM models ORDER BY name, version")
	if err != nil {
		return nil, fmt.Errorf("storage: models: %w", err)
	}
	defer rows.Close()
	var out []Model
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: models: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Model returns a model version with its artifact; version 0 means the
// latest. A missing one is an error wrapping ErrNotFound.
func (tx *Tx) Model(name string, version int) (Model, error) {
	if err := tx.readable(); err != nil {
		return Model{}, err
	}
	q := "SELECT " + modelColumns + ", artifact FROM models WHERE name = ? AND (? = 0 OR version = ?) ORDER BY version DESC LIMIT 1"
	var m Model
	var run sql.NullInt64
	var metrics, card sql.NullString
	var created string
	err := tx.queryRow(q, name, version, version).Scan(&m.ID, &m.Name, &m.Version, &m.Stage, &run, &m.Algorithm, &m.Task,
		&m.ArtifactSHA256, &m.ArtifactBytes, &m.Signature, &metrics, &card, &created, &m.Artifact)
	if err == sql.ErrNoRows {
		if version > 0 {
			return m, fmt.Errorf("model %s@%d: %w", name, version, ErrNotFound)
		}
		return m, fmt.Errorf("model %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("storage: model %s: %w", name, err)
	}
	m.RunID, m.Metrics, m.Card = run.Int64, metrics.String, card.String
	m.CreatedAt, err = parseTime(created)
	return m, err
}

// SetModelStage moves a model version to a stage.
func (tx *Tx) SetModelStage(id int64, stage string) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE models SET stage = ? WHERE id = ?`, stage, id)
	return affectedOne(res, err, fmt.Sprintf("set stage of model %d", id))
}

// affectedOne wraps an exec's error with what it did, and reports
// ErrNotFound when the statement changed no row.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("storage: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return nil
}
