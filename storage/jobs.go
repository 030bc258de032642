package storage

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Job is one piece of background work and what became of it.
type Job struct {
	ID              int64
	Kind            string
	Title           string
	Status          string  // queued|running|succeeded|failed|cancelled|interrupted
	Progress        float64 // 0..1
	Message         string
	Error           string
	OwnerPID        int
	OwnerStart      string // opaque process-identity token
	OwnerHost       string
	CreatedAt       time.Time
	StartedAt       time.Time // zero if not yet
	FinishedAt      time.Time // zero if not yet
	CPUSeconds      float64
	PeakMemoryBytes int64
	Result          string // JSON
}

const jobColumns = `id, kind, title, status, progress, message, error, owner_pid, owner_start, owner_host,
	created_at, started_at, finished_at, cpu_seconds, peak_memory_bytes, result`

func scanJob(s interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var created string
	var started, finished, result sql.NullString
	err := s.Scan(&j.ID, &j.Kind, &j.Title, &j.Status, &j.Progress, &j.Message, &j.Error,
		&j.OwnerPID, &j.OwnerStart, &j.OwnerHost, &created, &started, &finished,
		&j.CPUSeconds, &j.PeakMemoryBytes, &result)
	if err != nil {
		return Job{}, err
	}
	j.Result = result.String
	if j.CreatedAt, err = parseTime(created); err != nil {
		return Job{}, err
	}
	if j.StartedAt, err = parseNullTime(started); err != nil {
		return Job{}, err
	}
	if j.FinishedAt, err = parseNullTime(finished); err != nil {
		return Job{}, err
	}
	return j, nil
}

// clampProgress keeps rounding (1.0000001) and unknown values (NaN) from
// failing the row's CHECK: progress is for display.
func clampProgress(p float64) float64 {
	if math.IsNaN(p) {
		return 0
	}
	return min(max(p, 0), 1)
}

func checkResult(j *Job) error {
	if j.Result != "" && !json.Valid([]byte(j.Result)) {
		return fmt.Errorf("storage: job %d (%s): result is not valid JSON", j.ID, j.Kind)
	}
	return nil
}

// InsertJob stores j and sets j.ID, and j.CreatedAt to now (UTC) if it is
// zero. An empty Status is stored as "queued"; Progress is clamped to [0, 1].
func (tx *Tx) InsertJob(j *Job) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if j.Status == "" {
		j.Status = "queued"
	}
	j.Progress = clampProgress(j.Progress)
	if err := checkResult(j); err != nil {
		return err
	}
	created := stamp(j.CreatedAt)
	res, err := tx.exec(`INSERT INTO jobs (kind, title, status, progress, message, error,
		owner_pid, owner_start, owner_host, created_at, started_at, finished_at,
		cpu_seconds, peak_memory_bytes, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.Kind, j.Title, j.Status, j.Progress, j.Message, j.Error,
		j.OwnerPID, j.OwnerStart, j.OwnerHost, formatTime(created), nullTime(j.StartedAt), nullTime(j.FinishedAt),
		j.CPUSeconds, j.PeakMemoryBytes, nullString(j.Result))
	if err != nil {
		return fmt.Errorf("storage: insert %s job: %w", j.Kind, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("storage: insert %s job: %w", j.Kind, err)
	}
	j.ID, j.CreatedAt = id, created
	return nil
}

// UpdateJob writes every field of j but ID and CreatedAt to the row with
// j.ID. It returns an error wrapping ErrNotFound if there is no such row.
func (tx *Tx) UpdateJob(j Job) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if err := checkResult(&j); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE jobs SET kind = ?, title = ?, status = ?, progress = ?, message = ?, error = ?,
		owner_pid = ?, owner_start = ?, owner_host = ?, started_at = ?, finished_at = ?,
		cpu_seconds = ?, peak_memory_bytes = ?, result = ? WHERE id = ?`,
		j.Kind, j.Title, j.Status, clampProgress(j.Progress), j.Message, j.Error,
		j.OwnerPID, j.OwnerStart, j.OwnerHost, nullTime(j.StartedAt), nullTime(j.FinishedAt),
		j.CPUSeconds, j.PeakMemoryBytes, nullString(j.Result), j.ID)
	if err != nil {
		return fmt.Errorf("storage: update job %d: %w", j.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("storage: update job %d: %w", j.ID, err)
	} else if n == 0 {
		return fmt.Errorf("update job %d: %w", j.ID, ErrNotFound)
	}
	return nil
}

func (tx *Tx) jobs(what, where string, args ...any) ([]Job, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query("SELECT "+jobColumns+" FROM jobs "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: %s: %w", what, err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	return out, nil
}

// Job returns the job with that id, or an error wrapping ErrNotFound.
func (tx *Tx) Job(id int64) (Job, error) {
	js, err := tx.jobs("get job", "WHERE id = ?", id)
	if err != nil {
		return Job{}, err
	}
	if len(js) == 0 {
		return Job{}, fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	return js[0], nil
}

// Jobs returns up to limit jobs, newest first; all of them if limit <= 0.
func (tx *Tx) Jobs(limit int) ([]Job, error) {
	return tx.jobs("list jobs", "ORDER BY id DESC LIMIT ?", sqlLimit(limit))
}

// JobsWithStatus returns every job with that status, oldest first.
func (tx *Tx) JobsWithStatus(status string) ([]Job, error) {
	if status == "" {
		return nil, errors.New("storage: jobs with status: empty status")
	}
	return tx.jobs("jobs with status "+status, "WHERE status = ? ORDER BY id", status)
}

// sqlLimit turns "no limit" (<= 0) into SQLite's -1.
func sqlLimit(limit int) int {
	if limit <= 0 {
		return -1
	}
	return limit
}
