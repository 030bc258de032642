package storage

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

var (
	ErrNotFound     = errors.New("storage: not found")
	ErrNotWorkspace = errors.New("storage: not a Modelsmith workspace") // file exists but is not SQLite, or SQLite with a foreign application_id/ tables
	ErrTooNew       = errors.New("storage: workspace written by a newer version of Modelsmith")
	// ErrReadOnly is returned by the write methods of a Tx given by View.
	ErrReadOnly = errors.New("storage: write in a read-only transaction")
)

// SchemaVersion is the user_version this build writes.
const SchemaVersion = 4

// applicationID marks an SQLite file as a Modelsmith workspace
// (PRAGMA application_id): the ASCII bytes "MdSm".
const applicationID = 0x4D64536D

const (
	busyTimeoutMillis = 10_000
	readPoolSize      = 4
)

// sqliteHeader is the first 16 bytes of every SQLite 3 database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// Workspace is an open workspace file. It is safe for concurrent use.
type Workspace struct {
	path    string
	created bool
	writer  *sql.DB // exactly one connection: SQLite has one writer at a time anyway
	readers *sql.DB // query_only connections
}

// Open opens the workspace file at path, creating it (and its parent directory) if it does not exist.
//
// An existing empty file is treated as new. An existing file that is not an
// SQLite database, or is one of another application, gives ErrNotWorkspace; one
// written by a newer schema gives ErrTooNew. In those cases the file is left
// exactly as it was: it is inspected through a read-only connection before any
// pragma that could change it runs.
func Open(ctx context.Context, path string) (*Workspace, error) {
	if path == "" {
		return nil, errors.New("storage: open: empty workspace path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	created := false
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("storage: create workspace %s: %w", abs, err)
		}
		created = true
	case err != nil:
		return nil, fmt.Errorf("storage: open %s: %w", abs, err)
	case fi.IsDir():
		return nil, fmt.Errorf("%w: %s is a directory", ErrNotWorkspace, abs)
	case fi.Size() == 0:
		created = true
	default:
		if err := probe(ctx, abs); err != nil {
			return nil, err
		}
	}

	w, err := open(ctx, abs, created)
	if err != nil && created && fi == nil {
		// Leave no half-made file behind when creating it failed.
		for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
			_ = os.Remove(abs + suffix)
		}
	}
	return w, err
}

func open(ctx context.Context, path string, created bool) (*Workspace, error) {
	w := &Workspace{path: path, created: created}
	var err error
	w.writer, err = sql.Open("sqlite", dsn(path,
		"_pragma=journal_mode(WAL)",
		"_pragma=synchronous(NORMAL)",
		"_txlock=immediate",
	))
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	w.writer.SetMaxOpenConns(1)
	w.writer.SetMaxIdleConns(1)
	w.writer.SetConnMaxLifetime(0)
	w.writer.SetConnMaxIdleTime(0)

	if err := migrate(ctx, w.writer); err != nil {
		w.writer.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}

	// Readers leave journal_mode alone: it is a property of the file, set once
	// by the writer above, and query_only forbids changing it anyway.
	w.readers, err = sql.Open("sqlite", dsn(path,
		"_pragma=synchronous(NORMAL)",
		"_pragma=query_only(1)",
	))
	if err != nil {
		w.writer.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	w.readers.SetMaxOpenConns(readPoolSize)
	w.readers.SetMaxIdleConns(readPoolSize)
	if err := w.readers.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	return w, nil
}

// dsn builds a modernc.org/sqlite data source name for path. The pragmas in
// it run on every new connection of the pool, which is the only way to make
// per-connection settings (foreign_keys, busy_timeout, query_only) hold for
// all of them.
func dsn(path string, params ...string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows: C:/x → /C:/x, as SQLite's file: URIs expect
	}
	u := url.URL{Scheme: "file", Path: p}
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeoutMillis),
		"_pragma=foreign_keys(1)",
	}
	q = append(q, params...)
	return u.String() + "?" + strings.Join(q, "&")
}

// probe decides whether the existing, non-empty file at path may be opened as
// a workspace, without changing it: it reads the header, then asks SQLite
// through a query_only connection that sets no pragma with a lasting effect.
// Not mode=ro: a read-only connection to a WAL-mode file creates the -wal and
// -shm files and cannot remove them when it closes; a read-write connection
// that writes nothing removes them and leaves the file's bytes as they were.
func probe(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("storage: open %s: %w", path, err)
	}
	head := make([]byte, len(sqliteHeader))
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("storage: open %s: %w", path, err)
	}
	if !bytes.Equal(head, sqliteHeader) {
		return fmt.Errorf("%w: %s is not an SQLite database", ErrNotWorkspace, path)
	}

	db, err := sql.Open("sqlite", dsn(path, "_pragma=query_only(1)"))
	if err != nil {
		return fmt.Errorf("storage: open %s: %w", path, err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var appID, version, tables int64
	err = db.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID)
	if err == nil {
		err = db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version)
	}
	if err == nil {
		err = db.QueryRowContext(ctx,
			`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&tables)
	}
	if err != nil {
		if isNotADB(err) {
			return fmt.Errorf("%w: %s: %v", ErrNotWorkspace, path, err)
		}
		return fmt.Errorf("storage: open %s: %w", path, err)
	}
	switch {
	case appID != applicationID && appID != 0:
		return fmt.Errorf("%w: %s belongs to another application (application_id %#x)", ErrNotWorkspace, path, appID)
	case appID == 0 && tables > 0:
		return fmt.Errorf("%w: %s is an SQLite database with tables of another application", ErrNotWorkspace, path)
	case version > SchemaVersion:
		return fmt.Errorf("%w: %s has schema version %d, this build knows up to %d", ErrTooNew, path, version, SchemaVersion)
	}
	return nil
}

func isNotADB(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_NOTADB
}

// Path is the absolute path of the workspace file.
func (w *Workspace) Path() string { return w.path }

// Created reports whether this Open created the workspace (or found an empty
// file and initialised it): the caller may then add the sample datasets.
func (w *Workspace) Created() bool { return w.created }

// Close closes every connection. When no other process has the file open,
// SQLite then checkpoints the write-ahead log into the file and removes it.
func (w *Workspace) Close() error {
	var errs []error
	if w.readers != nil {
		errs = append(errs, w.readers.Close())
	}
	if w.writer != nil {
		// Keeps the query planner's statistics fresh; cheap when nothing
		// changed. Bounded: it may need the write lock another process holds.
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_, _ = w.writer.ExecContext(ctx, "PRAGMA optimize")
		cancel()
		errs = append(errs, w.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("storage: close %s: %w", w.path, err)
	}
	return nil
}

// Update runs fn in one write transaction (BEGIN IMMEDIATE on the single
// writer connection). It commits if fn returns nil and rolls back otherwise:
// when fn returns an error (which Update returns unchanged), when fn panics
// (then Update panics again), and when ctx is done before the commit (then
// Update returns ctx's error).
func (w *Workspace) Update(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	stx, err := w.writer.BeginTx(ctx, nil)
	if err != nil {
		return ctxOr(ctx, fmt.Errorf("storage: begin write: %w", err))
	}
	tx := &Tx{ctx: ctx, tx: stx, writable: true}
	committed := false
	defer func() {
		tx.done = true
		if !committed {
			_ = stx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := stx.Commit(); err != nil {
		return ctxOr(ctx, fmt.Errorf("storage: commit: %w", err))
	}
	committed = true
	return nil
}

// View runs fn in one read transaction on the read pool. fn sees the
// workspace as of its first query, whatever writers do meanwhile; the write
// methods of its Tx return ErrReadOnly.
func (w *Workspace) View(ctx context.Context, fn func(tx *Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	stx, err := w.readers.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return ctxOr(ctx, fmt.Errorf("storage: begin read: %w", err))
	}
	tx := &Tx{ctx: ctx, tx: stx}
	defer func() {
		tx.done = true
		_ = stx.Rollback()
	}()
	return fn(tx)
}

// IntegrityCheck runs PRAGMA integrity_check and PRAGMA foreign_key_check and
// returns nil if both find nothing wrong.
func (w *Workspace) IntegrityCheck(ctx context.Context) error {
	conn, err := w.readers.Conn(ctx)
	if err != nil {
		return fmt.Errorf("storage: integrity check: %w", err)
	}
	defer conn.Close()

	var problems []string
	rows, err := conn.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("storage: integrity check: %w", err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return fmt.Errorf("storage: integrity check: %w", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("storage: integrity check: %w", err)
	}

	rows, err = conn.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("storage: foreign key check: %w", err)
	}
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int64
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			rows.Close()
			return fmt.Errorf("storage: foreign key check: %w", err)
		}
		problems = append(problems, fmt.Sprintf("%s row %d: no matching row in %s (foreign key %d)", table, rowid.Int64, parent, fk))
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("storage: foreign key check: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("storage: integrity check of %s failed: %s", w.path, strings.Join(problems, "; "))
	}
	return nil
}

// ctxOr returns ctx's error when ctx is done (the usual reason a begin or
// commit fails under a cancelled context), and err otherwise.
func ctxOr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return err
}
