package storage

import (
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Trial is what an AutoML search records about one of its runs beyond the
// runs row: the trial's place in the search, its search status, prediction
// latency, a note for the leaderboard and its out-of-fold predictions.
type Trial struct {
	RunID        int64
	ExperimentID int64
	Role         string // trial|final
	Index        int    // the trial's index in its search; -1 for the final model
	Status       string // succeeded|failed|pruned
	// PredictMicros is the prediction latency per row, in microseconds.
	PredictMicros float64
	Note          string
	// RefitParams is JSON: the hyperparameters to refit the trial on all
	// rows with, when they differ from the run's params; "" if not.
	RefitParams string
	// OOF holds OOFRows × OOFOutputs out-of-fold predictions, row-major; nil
	// when there are none or when they were not asked for.
	OOFRows, OOFOutputs int
	OOF                 []float64
}

// Trial roles.
const (
	RoleTrial = "trial"
	RoleFinal = "final"
)

// EncodeOOF is the stored form of out-of-fold predictions: float64
// little-endian, one after the other.
func EncodeOOF(v []float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

// DecodeOOF reads what EncodeOOF wrote, checking that it holds exactly
// rows × outputs values.
func DecodeOOF(b []byte, rows, outputs int) ([]float64, error) {
	if rows < 0 || outputs < 0 {
		return nil, fmt.Errorf("storage: out-of-fold predictions: %d rows × %d outputs", rows, outputs)
	}
	n := rows * outputs
	if outputs != 0 && n/outputs != rows || len(b)%8 != 0 || len(b)/8 != n {
		return nil, fmt.Errorf("storage: out-of-fold predictions: %d bytes for %d rows × %d outputs", len(b), rows, outputs)
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v, nil
}

// InsertTrial stores t for the run t.RunID of experiment t.ExperimentID.
func (tx *Tx) InsertTrial(t Trial) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if t.Role == "" {
		t.Role = RoleTrial
	}
	if t.OOF != nil && len(t.OOF) != t.OOFRows*t.OOFOutputs {
		return fmt.Errorf("storage: trial %d of experiment %d: %d out-of-fold values for %d rows × %d outputs",
			t.Index, t.ExperimentID, len(t.OOF), t.OOFRows, t.OOFOutputs)
	}
	if err := checkJSON("trial refit params", t.RefitParams); err != nil {
		return err
	}
	var index sql.NullInt64
	if t.Role == RoleTrial {
		index = sql.NullInt64{Int64: int64(t.Index), Valid: true}
	}
	var oof []byte
	rows, outputs := 0, 0
	if t.OOF != nil {
		oof, rows, outputs = EncodeOOF(t.OOF), t.OOFRows, t.OOFOutputs
	}
	_, err := tx.exec(`INSERT INTO automl_trials (run_id, experiment_id, role, trial, status, predict_micros, note,
		refit_params, oof_rows, oof_outputs, oof) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.RunID, t.ExperimentID, t.Role, index, t.Status, max(t.PredictMicros, 0), t.Note, nullString(t.RefitParams),
		rows, outputs, oof)
	if err != nil {
		return fmt.Errorf("storage: record trial %d of experiment %d: %w", t.Index, t.ExperimentID, err)
	}
	return nil
}

// Trials lists the trials of an experiment by index, the final model (if
// any) last; withOOF loads their out-of-fold predictions too.
func (tx *Tx) Trials(experimentID int64, withOOF bool) ([]Trial, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	oofCol := "NULL"
	if withOOF {
		oofCol = "oof"
	}
	rows, err := tx.query(`SELECT run_id, experiment_id, role, trial, status, predict_micros, note, refit_params,
		oof_rows, oof_outputs, `+
		oofCol+` FROM automl_trials WHERE experiment_id = ? ORDER BY role = 'final', trial, run_id`, experimentID)
	if err != nil {
		return nil, fmt.Errorf("storage: trials of experiment %d: %w", experimentID, err)
	}
	defer rows.Close()
	var out []Trial
	for rows.Next() {
		var t Trial
		var index sql.NullInt64
		var oof []byte
		var refit sql.NullString
		if err := rows.Scan(&t.RunID, &t.ExperimentID, &t.Role, &index, &t.Status, &t.PredictMicros, &t.Note, &refit,
			&t.OOFRows, &t.OOFOutputs, &oof); err != nil {
			return nil, fmt.Errorf("storage: trials of experiment %d: %w", experimentID, err)
		}
		t.Index, t.RefitParams = -1, refit.String
		if index.Valid {
			t.Index = int(index.Int64)
		}
		if oof != nil {
			if t.OOF, err = DecodeOOF(oof, t.OOFRows, t.OOFOutputs); err != nil {
				return nil, fmt.Errorf("trial %d of experiment %d: %w", t.Index, experimentID, err)
			}
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: trials of experiment %d: %w", experimentID, err)
	}
	return out, nil
}

// ErrNotRestartable is returned by RestartExperiment for an experiment that
// is running or has succeeded.
var ErrNotRestartable = errors.New("storage: experiment is running or has succeeded")

// RestartExperiment marks a failed, cancelled or interrupted experiment
// running again under another job, as a resumed AutoML search does. Two
// processes resuming the same search at once: the second gets
// ErrNotRestartable.
func (tx *Tx) RestartExperiment(id, jobID int64) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	var status string
	err := tx.queryRow(`SELECT status FROM experiments WHERE id = ?`, id).Scan(&status)
	if err == sql.ErrNoRows {
		return fmt.Errorf("restart experiment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("storage: restart experiment %d: %w", id, err)
	}
	if status == "running" || status == "succeeded" {
		return fmt.Errorf("restart experiment %d (%s): %w", id, status, ErrNotRestartable)
	}
	res, err := tx.exec(`UPDATE experiments SET status = 'running', finished_at = NULL, job_id = ? WHERE id = ?`,
		nullID(jobID), id)
	return affectedOne(res, err, fmt.Sprintf("restart experiment %d", id))
}

// SetExperimentConfig replaces an experiment's config JSON.
func (tx *Tx) SetExperimentConfig(id int64, config string) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if err := checkJSON("experiment config", config); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE experiments SET config = ? WHERE id = ?`, nullString(config), id)
	return affectedOne(res, err, fmt.Sprintf("set config of experiment %d", id))
}

// ExperimentStats summarises an experiment's runs.
type ExperimentStats struct {
	Experiment
	Runs               int     // runs recorded
	MaxScore, MinScore float64 // over runs with a score; NaN if none
}

// Experiments lists experiments, newest first, with their run counts and
// score range: of one kind, or all when kind is ""; at most limit (all when
// limit <= 0).
func (tx *Tx) Experiments(kind string, limit int) ([]ExperimentStats, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT `+experimentColumns+`,
		(SELECT COUNT(*) FROM runs r WHERE r.experiment_id = e.id),
		(SELECT MAX(score) FROM runs r WHERE r.experiment_id = e.id),
		(SELECT MIN(score) FROM runs r WHERE r.experiment_id = e.id)
		FROM experiments e WHERE ? = '' OR kind = ? ORDER BY id DESC LIMIT ?`, kind, kind, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("storage: experiments: %w", err)
	}
	defer rows.Close()
	var out []ExperimentStats
	for rows.Next() {
		var st ExperimentStats
		var hi, lo sql.NullFloat64
		var e Experiment
		var dataset, job sql.NullInt64
		var config, finished sql.NullString
		var created string
		if err := rows.Scan(&e.ID, &e.Kind, &dataset, &e.DatasetRef, &e.DatasetHash, &e.Target, &e.Task, &e.Metric,
			&e.BudgetSeconds, &config, &e.Status, &job, &created, &finished, &st.Runs, &hi, &lo); err != nil {
			return nil, fmt.Errorf("storage: experiments: %w", err)
		}
		e.DatasetID, e.JobID, e.Config = dataset.Int64, job.Int64, config.String
		if e.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if e.FinishedAt, err = parseNullTime(finished); err != nil {
			return nil, err
		}
		st.Experiment, st.MaxScore, st.MinScore = e, floatOrNaN(hi), floatOrNaN(lo)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: experiments: %w", err)
	}
	return out, nil
}
