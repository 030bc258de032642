package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Tx is one transaction, given to the function passed to Workspace.Update or
// Workspace.View and valid only until that function returns.
type Tx struct {
	// ctx is the context of the Update or View call. It is kept only for the
	// length of that call, which is also the Tx's whole life.
	ctx      context.Context
	tx       *sql.Tx
	writable bool
	done     bool
}

var errTxDone = errors.New("storage: transaction used after its Update or View returned")

func (tx *Tx) readable() error {
	if tx.done {
		return errTxDone
	}
	return nil
}

func (tx *Tx) writableErr() error {
	if tx.done {
		return errTxDone
	}
	if !tx.writable {
		return ErrReadOnly
	}
	return nil
}

func (tx *Tx) exec(query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(tx.ctx, query, args...)
}

func (tx *Tx) query(query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(tx.ctx, query, args...)
}

func (tx *Tx) queryRow(query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(tx.ctx, query, args...)
}

// timeLayout is how every timestamp is stored: UTC, milliseconds, a literal Z.
// It sorts as text in time order and is what SQLite's
// strftime('%Y-%m-%dT%H:%M:%fZ', 'now') writes.
const timeLayout = "2006-01-02T15:04:05.000Z"

// stamp returns t as stored (UTC, milliseconds), or now if t is zero.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Millisecond)
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		// Rows written by hand (a notebook) may use any RFC 3339 form.
		if t2, err2 := time.Parse(time.RFC3339Nano, s); err2 == nil {
			return t2.UTC(), nil
		}
		return time.Time{}, fmt.Errorf("storage: bad timestamp %q: %w", s, err)
	}
	return t, nil
}

func parseNullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// nullString stores "" as NULL, for columns where NULL means "none" (JSON).
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}
