package storage

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

func TestMigrationsAreNumberedUpToSchemaVersion(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != SchemaVersion {
		t.Errorf("%d migrations, SchemaVersion %d", len(ms), SchemaVersion)
	}
}

// TestSQLDefaultTimestampsParse checks that the timestamps SQLite writes by
// default (a notebook inserting a row) have the layout Go writes.
func TestSQLDefaultTimestampsParse(t *testing.T) {
	ctx := context.Background()
	ws, err := Open(ctx, filepath.Join(t.TempDir(), "w.modelsmith"))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.writer.ExecContext(ctx, "INSERT INTO jobs (kind) VALUES ('import')"); err != nil {
		t.Fatal(err)
	}
	var s string
	if err := ws.writer.QueryRowContext(ctx, "SELECT created_at FROM jobs").Scan(&s); err != nil {
		t.Fatal(err)
	}
	got, err := time.Parse(timeLayout, s)
	if err != nil {
		t.Fatalf("SQLite default %q does not parse: %v", s, err)
	}
	if d := time.Since(got); d < -time.Minute || d > time.Minute {
		t.Errorf("SQLite default %q is %v from now", s, d)
	}
	if formatTime(got) != s {
		t.Errorf("formatTime(%v) = %q, SQLite wrote %q", got, formatTime(got), s)
	}
}
