package storage

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ModelAlias is a named pointer to one version of a model.
type ModelAlias struct {
	Model     string
	Alias     string
	Version   int
	UpdatedAt time.Time
}

// SetModelAlias points alias of model name at version, creating or moving it.
// The version must exist.
func (tx *Tx) SetModelAlias(name, alias string, version int, at time.Time) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	_, err := tx.exec(`INSERT INTO model_aliases (model_name, alias, version, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (model_name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at`,
		name, alias, version, formatTime(stamp(at)))
	if err != nil {
		return fmt.Errorf("storage: set alias %s@%s to version %d: %w", name, alias, version, err)
	}
	return nil
}

// DeleteModelAlias removes an alias; a missing one is ErrNotFound.
func (tx *Tx) DeleteModelAlias(name, alias string) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	res, err := tx.exec(`DELETE FROM model_aliases WHERE model_name = ? AND alias = ?`, name, alias)
	if err != nil {
		return fmt.Errorf("storage: delete alias %s@%s: %w", name, alias, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("alias %s@%s: %w", name, alias, ErrNotFound)
	}
	return nil
}

// ModelAlias returns the version an alias points at; a missing alias is an
// error wrapping ErrNotFound.
func (tx *Tx) ModelAlias(name, alias string) (ModelAlias, error) {
	if err := tx.readable(); err != nil {
		return ModelAlias{}, err
	}
	a := ModelAlias{Model: name, Alias: alias}
	var updated string
	err := tx.queryRow(`SELECT version, updated_at FROM model_aliases WHERE model_name = ? AND alias = ?`,
		name, alias).Scan(&a.Version, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("alias %s@%s: %w", name, alias, ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("storage: alias %s@%s: %w", name, alias, err)
	}
	a.UpdatedAt, err = parseTime(updated)
	return a, err
}

// ModelAliases lists the aliases of a model, or of every model when name is
// "", by model then alias.
func (tx *Tx) ModelAliases(name string) ([]ModelAlias, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT model_name, alias, version, updated_at FROM model_aliases
		WHERE ? = '' OR model_name = ? ORDER BY model_name, alias`, name, name)
	if err != nil {
		return nil, fmt.Errorf("storage: aliases: %w", err)
	}
	defer rows.Close()
	var out []ModelAlias
	for rows.Next() {
		var a ModelAlias
		var updated string
		if err := rows.Scan(&a.Model, &a.Alias, &a.Version, &updated); err != nil {
			return nil, fmt.Errorf("storage: aliases: %w", err)
		}
		if a.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Token is an API token of the inference server. Only its SHA-256 is stored.
type Token struct {
	ID        int64
	Name      string
	Hash      string // hex SHA-256 of the token
	Prefix    string // the token's first characters, for people to recognise it
	CreatedAt time.Time
	RevokedAt time.Time // zero while the token is valid
}

// InsertToken stores t, setting t.ID and t.CreatedAt.
func (tx *Tx) InsertToken(t *Token) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	created := stamp(t.CreatedAt)
	res, err := tx.exec(`INSERT INTO api_tokens (name, hash, prefix, created_at) VALUES (?, ?, ?, ?)`,
		t.Name, t.Hash, t.Prefix, formatTime(created))
	if err != nil {
		return fmt.Errorf("storage: insert token %q: %w", t.Name, err)
	}
	if t.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("storage: insert token: %w", err)
	}
	t.CreatedAt = created
	return nil
}

// RevokeToken marks a token revoked; an unknown or already revoked id is
// ErrNotFound.
func (tx *Tx) RevokeToken(id int64, at time.Time) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
		formatTime(stamp(at)), id)
	if err != nil {
		return fmt.Errorf("storage: revoke token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %d (or it is already revoked): %w", id, ErrNotFound)
	}
	return nil
}

// Tokens lists tokens by id; revoked ones only if withRevoked.
func (tx *Tx) Tokens(withRevoked bool) ([]Token, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT id, name, hash, prefix, created_at, revoked_at FROM api_tokens
		WHERE ? OR revoked_at IS NULL ORDER BY id`, withRevoked)
	if err != nil {
		return nil, fmt.Errorf("storage: tokens: %w", err)
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		var t Token
		var created string
		var revoked sql.NullString
		if err := rows.Scan(&t.ID, &t.Name, &t.Hash, &t.Prefix, &created, &revoked); err != nil {
			return nil, fmt.Errorf("storage: tokens: %w", err)
		}
		if t.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if t.RevokedAt, err = parseNullTime(revoked); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Deployment is one model served by one server process.
type Deployment struct {
	ID         int64
	Name       string // the name clients use
	ModelRef   string // as asked: M, M@3, M@alias
	ModelID    int64  // the version served last; 0 if deleted since
	Address    string
	Status     string // running|stopped|failed|interrupted
	OwnerPID   int
	OwnerStart string
	OwnerHost  string
	Settings   string // JSON
	Error      string
	StartedAt  time.Time
	StoppedAt  time.Time
}

// InsertDeployment stores d, setting d.ID and d.StartedAt.
func (tx *Tx) InsertDeployment(d *Deployment) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if err := checkJSON("deployment settings", d.Settings); err != nil {
		return err
	}
	if d.Status == "" {
		d.Status = "running"
	}
	started := stamp(d.StartedAt)
	res, err := tx.exec(`INSERT INTO deployments (name, model_ref, model_id, address, status, owner_pid, owner_start,
		owner_host, settings, error, started_at, stopped_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Name, d.ModelRef, nullID(d.ModelID), d.Address, d.Status, d.OwnerPID, d.OwnerStart, d.OwnerHost,
		nullString(d.Settings), d.Error, formatTime(started), nullTime(d.StoppedAt))
	if err != nil {
		return fmt.Errorf("storage: insert deployment %s of %s: %w", d.Name, d.ModelRef, err)
	}
	if d.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("storage: insert deployment: %w", err)
	}
	d.StartedAt = started
	return nil
}

// SetDeploymentModel records the model version a deployment now serves.
func (tx *Tx) SetDeploymentModel(id, modelID int64) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE deployments SET model_id = ? WHERE id = ?`, nullID(modelID), id)
	return affectedOne(res, err, fmt.Sprintf("set model of deployment %d", id))
}

// FinishDeployment sets a deployment's final status, error and stop time.
func (tx *Tx) FinishDeployment(id int64, status, errText string, at time.Time) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	res, err := tx.exec(`UPDATE deployments SET status = ?, error = ?, stopped_at = ? WHERE id = ?`,
		status, errText, formatTime(stamp(at)), id)
	return affectedOne(res, err, fmt.Sprintf("finish deployment %d", id))
}

const deploymentColumns = `id, name, model_ref, model_id, address, status, owner_pid, owner_start, owner_host,
	settings, error, started_at, stopped_at`

// Deployments lists deployments, newest first; only running ones if
// runningOnly; at most limit (all when limit <= 0).
func (tx *Tx) Deployments(runningOnly bool, limit int) ([]Deployment, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query("SELECT "+deploymentColumns+` FROM deployments
		WHERE NOT ? OR status = 'running' ORDER BY id DESC LIMIT ?`, runningOnly, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("storage: deployments: %w", err)
	}
	defer rows.Close()
	var out []Deployment
	for rows.Next() {
		var d Deployment
		var model sql.NullInt64
		var settings, stopped sql.NullString
		var started string
		if err := rows.Scan(&d.ID, &d.Name, &d.ModelRef, &model, &d.Address, &d.Status, &d.OwnerPID, &d.OwnerStart,
			&d.OwnerHost, &settings, &d.Error, &started, &stopped); err != nil {
			return nil, fmt.Errorf("storage: deployments: %w", err)
		}
		d.ModelID, d.Settings = model.Int64, settings.String
		if d.StartedAt, err = parseTime(started); err != nil {
			return nil, err
		}
		if d.StoppedAt, err = parseNullTime(stopped); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Prediction is one scored row of a deployment.
type Prediction struct {
	ID           int64
	DeploymentID int64
	ModelID      int64
	At           time.Time
	RequestID    string
	Row          int    // the row's index within its request
	Inputs       string // JSON object
	Outputs      string // JSON object
	LatencyMS    float64
	Label        string // ground truth, "" when unknown
}

// predictionsPerInsert is how many rows one INSERT statement carries: the
// per-statement cost of database/sql and the driver dominates for single
// rows.
const predictionsPerInsert = 64

const predictionColumns = 8

var predictionInsert = insertStatement(predictionsPerInsert)

func insertStatement(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO predictions (deployment_id, model_id, at, request_id, row_index, inputs, outputs, latency_ms) VALUES `)
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
	}
	return b.String()
}

// InsertPredictions appends rows, many per prepared statement.
func (tx *Tx) InsertPredictions(ps []Prediction) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	args := make([]any, 0, predictionsPerInsert*predictionColumns)
	add := func(p Prediction) {
		args = append(args, p.DeploymentID, nullID(p.ModelID), formatTime(stamp(p.At)), p.RequestID, p.Row, p.Inputs,
			p.Outputs, p.LatencyMS)
	}
	if len(ps) >= predictionsPerInsert {
		stmt, err := tx.tx.PrepareContext(tx.ctx, predictionInsert)
		if err != nil {
			return fmt.Errorf("storage: insert predictions: %w", err)
		}
		defer stmt.Close()
		for len(ps) >= predictionsPerInsert {
			args = args[:0]
			for _, p := range ps[:predictionsPerInsert] {
				add(p)
			}
			if _, err := stmt.ExecContext(tx.ctx, args...); err != nil {
				return fmt.Errorf("storage: insert predictions of requests %s to %s: %w", ps[0].RequestID,
					ps[predictionsPerInsert-1].RequestID, err)
			}
			ps = ps[predictionsPerInsert:]
		}
	}
	if len(ps) > 0 {
		args = args[:0]
		for _, p := range ps {
			add(p)
		}
		if _, err := tx.exec(insertStatement(len(ps)), args...); err != nil {
			return fmt.Errorf("storage: insert predictions of requests %s to %s: %w", ps[0].RequestID, ps[len(ps)-1].RequestID, err)
		}
	}
	return nil
}

// CountPredictions counts the logged rows of a deployment, or of every
// deployment when id is 0.
func (tx *Tx) CountPredictions(deploymentID int64) (int64, error) {
	if err := tx.readable(); err != nil {
		return 0, err
	}
	var n int64
	err := tx.queryRow(`SELECT count(*) FROM predictions WHERE ? = 0 OR deployment_id = ?`,
		deploymentID, deploymentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage: count predictions: %w", err)
	}
	return n, nil
}

// Predictions lists the newest logged rows of a deployment (of all when id is
// 0), newest first, at most limit.
func (tx *Tx) Predictions(deploymentID int64, limit int) ([]Prediction, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT id, deployment_id, model_id, at, request_id, row_index, inputs, outputs, latency_ms,
		label FROM predictions WHERE ? = 0 OR deployment_id = ? ORDER BY id DESC LIMIT ?`,
		deploymentID, deploymentID, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("storage: predictions: %w", err)
	}
	defer rows.Close()
	var out []Prediction
	for rows.Next() {
		var p Prediction
		var model sql.NullInt64
		var at string
		var label sql.NullString
		if err := rows.Scan(&p.ID, &p.DeploymentID, &model, &at, &p.RequestID, &p.Row, &p.Inputs, &p.Outputs,
			&p.LatencyMS, &label); err != nil {
			return nil, fmt.Errorf("storage: predictions: %w", err)
		}
		p.ModelID, p.Label = model.Int64, label.String
		if p.At, err = parseTime(at); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ModelID returns the id of a model version (version 0: the latest) without
// loading its artifact; a missing one wraps ErrNotFound.
func (tx *Tx) ModelID(name string, version int) (int64, error) {
	if err := tx.readable(); err != nil {
		return 0, err
	}
	var id int64
	err := tx.queryRow(`SELECT id FROM models WHERE name = ? AND (? = 0 OR version = ?) ORDER BY version DESC LIMIT 1`,
		name, version, version).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("model %s@%d: %w", name, version, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("storage: model %s@%d: %w", name, version, err)
	}
	return id, nil
}
