package storage

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// migrationFiles are the schema steps, NNNN_what.sql, applied in order. A
// workspace at user_version N has had exactly the steps 1..N applied.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded steps in order, and an error unless they
// are numbered 1, 2, ... SchemaVersion without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_what.sql", base)
		}
		text, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(text)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	if len(ms) != SchemaVersion {
		return nil, fmt.Errorf("migrations go up to version %d, SchemaVersion is %d", len(ms), SchemaVersion)
	}
	return ms, nil
}

// migrate brings the workspace behind db up to SchemaVersion, one transaction
// per step, so that a crash leaves it at some whole version. The version is
// read again inside each write transaction, so two processes opening the same
// new workspace at once do not both apply a step.
//
// A later step that needs to rebuild a table (SQLite's 12-step ALTER) must not
// rely on turning foreign_keys off, which cannot be done inside a transaction:
// create the new table, copy, drop, rename, then let the foreign_key_check
// below vouch for the result.
func migrate(ctx context.Context, db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	// The usual case, an up-to-date workspace, must not take the write lock:
	// another process may hold it for a long import, and opening the
	// workspace to read it must not wait for that.
	var current int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("migrate: read user_version: %w", err)
	}
	if current > SchemaVersion {
		return fmt.Errorf("%w: schema version %d, this build knows up to %d", ErrTooNew, current, SchemaVersion)
	}
	for _, m := range ms[current:] {
		if err := apply(ctx, db, m); err != nil {
			return err
		}
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, m migration) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the writer DSN says so
	if err != nil {
		return fmt.Errorf("migrate to version %d: %w", m.version, err)
	}
	defer tx.Rollback()

	var current, appID int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("migrate: read user_version: %w", err)
	}
	if err := tx.QueryRowContext(ctx, "PRAGMA application_id").Scan(&appID); err != nil {
		return fmt.Errorf("migrate: read application_id: %w", err)
	}
	if current > SchemaVersion {
		return fmt.Errorf("%w: schema version %d, this build knows up to %d", ErrTooNew, current, SchemaVersion)
	}
	if current >= m.version {
		return nil
	}
	if appID != 0 && appID != applicationID {
		return fmt.Errorf("%w: application_id %#x", ErrNotWorkspace, appID)
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migrate to version %d (%s): %w", m.version, m.name, err)
	}
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("migrate to version %d: %w", m.version, err)
	}
	broken := rows.Next()
	rows.Close()
	if broken {
		return fmt.Errorf("migrate to version %d (%s): leaves rows with dangling references", m.version, m.name)
	}
	// Pragmas take no bound parameters; both values are integers of ours.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d; PRAGMA user_version = %d", applicationID, m.version)); err != nil {
		return fmt.Errorf("migrate to version %d: %w", m.version, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate to version %d: commit: %w", m.version, err)
	}
	return nil
}
