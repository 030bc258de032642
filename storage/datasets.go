package storage

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Dataset is one imported version of a dataset.
type Dataset struct {
	ID          int64
	Name        string
	Version     int
	SourceKind  string // "file", "url", "s3", "sql", "sample"
	Source      string // path or URL
	Format      string
	Hash        string // hex SHA-256 of content
	Rows        int64
	Cols        int
	StoredBytes int64
	CreatedAt   time.Time
	JobID       int64 // 0 if none
}

// Column describes one column of a dataset version.
type Column struct {
	Position int // 0-based
	Name     string
	Type     string // numeric|categorical|text|datetime|image
	Role     string // "feature" default, "target", "id", "ignore"
	Hint     string
	Profile  []byte // JSON
}

// Chunk is a run of rows of one column, encoded by ml/data's chunk codec.
type Chunk struct {
	Column   int
	Index    int
	RowStart int64
	Rows     int
	Data     []byte
}

const datasetColumns = `id, name, version, source_kind, source, format, hash,
	row_count, column_count, stored_bytes, created_at, job_id`

func scanDataset(s interface{ Scan(...any) error }) (Dataset, error) {
	var d Dataset
	var created string
	var job sql.NullInt64
	err := s.Scan(&d.ID, &d.Name, &d.Version, &d.SourceKind, &d.Source, &d.Format, &d.Hash,
		&d.Rows, &d.Cols, &d.StoredBytes, &created, &job)
	if err != nil {
		return Dataset{}, err
	}
	d.JobID = job.Int64
	d.CreatedAt, err = parseTime(created)
	return d, err
}

func (tx *Tx) datasets(what, where string, args ...any) ([]Dataset, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query("SELECT "+datasetColumns+" FROM datasets "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	defer rows.Close()
	var out []Dataset
	for rows.Next() {
		d, err := scanDataset(rows)
		if err != nil {
			return nil, fmt.Errorf("storage: %s: %w", what, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", what, err)
	}
	return out, nil
}

// NextDatasetVersion returns the version a new import of name gets: one more
// than the highest stored, or 1 if there is none.
func (tx *Tx) NextDatasetVersion(name string) (int, error) {
	if err := tx.readable(); err != nil {
		return 0, err
	}
	var v int
	if err := tx.queryRow("SELECT coalesce(max(version), 0) + 1 FROM datasets WHERE name = ?", name).Scan(&v); err != nil {
		return 0, fmt.Errorf("storage: next version of dataset %q: %w", name, err)
	}
	return v, nil
}

// DatasetsByHash returns every dataset version with that content hash, by
// name then version: an import can tell that it has seen these bytes before.
func (tx *Tx) DatasetsByHash(hash string) ([]Dataset, error) {
	return tx.datasets("datasets by hash", "WHERE hash = ? ORDER BY name, version", hash)
}

// InsertDataset stores d and sets d.ID, and d.CreatedAt to now (UTC) if it
// is zero; a non-zero CreatedAt is stored in UTC to the millisecond, and d is
// updated to match. A zero d.Version is given NextDatasetVersion(d.Name).
// A second row with the same name and version is an error.
func (tx *Tx) InsertDataset(d *Dataset) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if d.Name == "" {
		return errors.New("storage: insert dataset: empty name")
	}
	if !isSHA256Hex(d.Hash) {
		return fmt.Errorf("storage: insert dataset %q: hash %q is not a hex SHA-256 (64 lowercase hex digits)", d.Name, d.Hash)
	}
	if d.Version == 0 {
		v, err := tx.NextDatasetVersion(d.Name)
		if err != nil {
			return err
		}
		d.Version = v
	}
	created := stamp(d.CreatedAt)
	res, err := tx.exec(`INSERT INTO datasets (name, version, source_kind, source, format, hash,
		row_count, column_count, stored_bytes, created_at, job_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.Name, d.Version, d.SourceKind, d.Source, d.Format, d.Hash,
		d.Rows, d.Cols, d.StoredBytes, formatTime(created), nullID(d.JobID))
	if err != nil {
		return fmt.Errorf("storage: insert dataset %q version %d: %w", d.Name, d.Version, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("storage: insert dataset %q version %d: %w", d.Name, d.Version, err)
	}
	d.ID, d.CreatedAt = id, created
	return nil
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// InsertColumns stores the columns of a dataset. An empty Role is stored as
// "feature"; a nil or empty Profile as NULL. A Profile must be valid JSON.
func (tx *Tx) InsertColumns(datasetID int64, cols []Column) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	stmt, err := tx.tx.PrepareContext(tx.ctx, `INSERT INTO dataset_columns
		(dataset_id, position, name, type, role, hint, profile) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("storage: insert columns of dataset %d: %w", datasetID, err)
	}
	defer stmt.Close()
	for _, c := range cols {
		role := c.Role
		if role == "" {
			role = "feature"
		}
		if len(c.Profile) > 0 && !json.Valid(c.Profile) {
			return fmt.Errorf("storage: insert column %q of dataset %d: profile is not valid JSON", c.Name, datasetID)
		}
		if _, err := stmt.ExecContext(tx.ctx, datasetID, c.Position, c.Name, c.Type, role, c.Hint,
			nullString(string(c.Profile))); err != nil {
			return fmt.Errorf("storage: insert column %d %q of dataset %d: %w", c.Position, c.Name, datasetID, err)
		}
	}
	return nil
}

// InsertChunk stores one chunk of one column. The column must exist by the
// time the transaction commits.
func (tx *Tx) InsertChunk(datasetID int64, c Chunk) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	data := c.Data
	if data == nil {
		data = []byte{}
	}
	_, err := tx.exec(`INSERT INTO dataset_chunks
		(dataset_id, column_position, chunk_index, row_start, row_count, data) VALUES (?, ?, ?, ?, ?, ?)`,
		datasetID, c.Column, c.Index, c.RowStart, c.Rows, data)
	if err != nil {
		return fmt.Errorf("storage: insert chunk %d of column %d of dataset %d: %w", c.Index, c.Column, datasetID, err)
	}
	return nil
}

// Datasets returns every version of every dataset, by name then version.
func (tx *Tx) Datasets() ([]Dataset, error) {
	return tx.datasets("list datasets", "ORDER BY name, version")
}

// Dataset returns version version of the dataset called name, or its latest
// version if version is 0. It returns an error wrapping ErrNotFound if there
// is none.
func (tx *Tx) Dataset(name string, version int) (Dataset, error) {
	var ds []Dataset
	var err error
	if version == 0 {
		ds, err = tx.datasets("get dataset", "WHERE name = ? ORDER BY version DESC LIMIT 1", name)
	} else {
		ds, err = tx.datasets("get dataset", "WHERE name = ? AND version = ?", name, version)
	}
	switch {
	case err != nil:
		return Dataset{}, err
	case len(ds) == 0 && version == 0:
		return Dataset{}, fmt.Errorf("dataset %q: %w", name, ErrNotFound)
	case len(ds) == 0:
		return Dataset{}, fmt.Errorf("dataset %q version %d: %w", name, version, ErrNotFound)
	}
	return ds[0], nil
}

// DatasetByID returns the dataset version with that id, or an error wrapping
// ErrNotFound.
func (tx *Tx) DatasetByID(id int64) (Dataset, error) {
	ds, err := tx.datasets("get dataset", "WHERE id = ?", id)
	if err != nil {
		return Dataset{}, err
	}
	if len(ds) == 0 {
		return Dataset{}, fmt.Errorf("dataset id %d: %w", id, ErrNotFound)
	}
	return ds[0], nil
}

// Columns returns the columns of a dataset by position; none if the dataset
// does not exist.
func (tx *Tx) Columns(datasetID int64) ([]Column, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT position, name, type, role, hint, profile
		FROM dataset_columns WHERE dataset_id = ? ORDER BY position`, datasetID)
	if err != nil {
		return nil, fmt.Errorf("storage: columns of dataset %d: %w", datasetID, err)
	}
	defer rows.Close()
	var out []Column
	for rows.Next() {
		var c Column
		var profile sql.NullString
		if err := rows.Scan(&c.Position, &c.Name, &c.Type, &c.Role, &c.Hint, &profile); err != nil {
			return nil, fmt.Errorf("storage: columns of dataset %d: %w", datasetID, err)
		}
		if profile.Valid {
			c.Profile = []byte(profile.String)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: columns of dataset %d: %w", datasetID, err)
	}
	return out, nil
}

// Chunks returns the chunks of one column that hold any row in
// [rowFrom, rowTo), by index. The Data of each is a fresh slice the caller owns.
func (tx *Tx) Chunks(datasetID int64, column int, rowFrom, rowTo int64) ([]Chunk, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	if rowTo <= rowFrom {
		return nil, nil
	}
	rows, err := tx.query(`SELECT chunk_index, row_start, row_count, data FROM dataset_chunks
		WHERE dataset_id = ? AND column_position = ? AND row_start < ? AND row_start + row_count > ?
		ORDER BY chunk_index`, datasetID, column, rowTo, rowFrom)
	if err != nil {
		return nil, fmt.Errorf("storage: chunks of column %d of dataset %d: %w", column, datasetID, err)
	}
	defer rows.Close()
	var out []Chunk
	for rows.Next() {
		c := Chunk{Column: column}
		if err := rows.Scan(&c.Index, &c.RowStart, &c.Rows, &c.Data); err != nil {
			return nil, fmt.Errorf("storage: chunks of column %d of dataset %d: %w", column, datasetID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: chunks of column %d of dataset %d: %w", column, datasetID, err)
	}
	return out, nil
}

// DeleteDataset deletes one dataset version; its columns and chunks go with
// it. It returns an error wrapping ErrNotFound if there is no such version.
func (tx *Tx) DeleteDataset(id int64) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	res, err := tx.exec("DELETE FROM datasets WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("storage: delete dataset %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("storage: delete dataset %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("delete dataset id %d: %w", id, ErrNotFound)
	}
	return nil
}
