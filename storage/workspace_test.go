package storage_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"modelsmith/storage"

	_ "modernc.org/sqlite"
)

// openWorkspace opens (creating) a workspace at path and, when the test ends,
// checks its integrity and closes it.
func openWorkspace(t *testing.T, path string) *storage.Workspace {
	t.Helper()
	ws, err := storage.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := ws.IntegrityCheck(context.Background()); err != nil {
			t.Errorf("IntegrityCheck: %v", err)
		}
		if err := ws.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ws
}

// newWorkspace opens a fresh workspace in the test's temporary directory.
func newWorkspace(t *testing.T) *storage.Workspace {
	t.Helper()
	return openWorkspace(t, filepath.Join(t.TempDir(), "test.modelsmith"))
}

// rawDB opens the file behind the workspace's back, as a notebook would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path)}
	db, err := sql.Open("sqlite", u.String()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func pragmaInt(t *testing.T, path, pragma string) int64 {
	t.Helper()
	var v int64
	if err := rawDB(t, path).QueryRow("PRAGMA " + pragma).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", pragma, err)
	}
	return v
}

func TestOpenCreatesAndReopens(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string) // nil: nothing at path
		created bool
	}{
		{"a path that does not exist is created with its directory", nil, true},
		{"an empty file is treated as new", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"an existing workspace is opened as it is", func(t *testing.T, path string) {
			ws, err := storage.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.SetSetting("theme", "dark") }); err != nil {
				t.Fatal(err)
			}
			if err := ws.Close(); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "nested dir", "odd ?#%& name.modelsmith")
			if tt.prepare != nil {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				tt.prepare(t, path)
			}
			ws := openWorkspace(t, path)
			if ws.Created() != tt.created {
				t.Errorf("Created() = %v, want %v", ws.Created(), tt.created)
			}
			if ws.Path() != path {
				t.Errorf("Path() = %q, want %q", ws.Path(), path)
			}
			if v := pragmaInt(t, path, "user_version"); v != storage.SchemaVersion {
				t.Errorf("user_version = %d, want %d", v, storage.SchemaVersion)
			}
			if id := pragmaInt(t, path, "application_id"); id == 0 {
				t.Error("application_id not set")
			}
			var mode string
			if err := rawDB(t, path).QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
				t.Errorf("journal_mode = %q, %v; want wal", mode, err)
			}
			if !tt.created {
				var v string
				var ok bool
				err := ws.View(ctx, func(tx *storage.Tx) (err error) { v, ok, err = tx.Setting("theme"); return err })
				if err != nil || !ok || v != "dark" {
					t.Errorf("setting after reopen = %q, %v, %v; want dark", v, ok, err)
				}
			}
		})
	}
}

func TestOpenRefusesForeignFiles(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		want    error
		message []string // the error must mention each
	}{
		{"random bytes", func(t *testing.T, path string) {
			b := make([]byte, 4096)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, storage.ErrNotWorkspace, nil},
		{"an SQLite header over garbage", func(t *testing.T, path string) {
			b := append([]byte("SQLite format 3\x00"), bytes.Repeat([]byte{0xAB}, 4000)...)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}, storage.ErrNotWorkspace, nil},
		{"an SQLite file of another application with its own table", func(t *testing.T, path string) {
			db := rawDB(t, path)
			if _, err := db.Exec("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO contacts (name) VALUES ('ada')"); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, storage.ErrNotWorkspace, nil},
		{"an SQLite file with a foreign application_id and no tables", func(t *testing.T, path string) {
			db := rawDB(t, path)
			if _, err := db.Exec("PRAGMA application_id = 1234567"); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, storage.ErrNotWorkspace, nil},
		{"a workspace of a newer schema version", func(t *testing.T, path string) {
			ws, err := storage.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			ws.Close()
			db := rawDB(t, path)
			if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
				t.Fatal(err)
			}
			db.Close()
		}, storage.ErrTooNew, []string{"99", "1"}},
		{"a directory", func(t *testing.T, path string) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}, storage.ErrNotWorkspace, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "w.modelsmith")
			tt.prepare(t, path)
			before := snapshot(t, dir)

			ws, err := storage.Open(ctx, path)
			if err == nil {
				ws.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			for _, m := range tt.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			if after := snapshot(t, dir); !maps(before, after) {
				t.Errorf("Open changed the directory:\nbefore %v\nafter  %v", keys(before), keys(after))
			}
		})
	}
}

// snapshot maps each regular file name in dir to its content.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		if e.IsDir() {
			m[e.Name()+"/"] = ""
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func TestUpdateRollsBack(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		run  func(ws *storage.Workspace) error
		want error
	}{
		{"when the function returns an error", func(ws *storage.Workspace) error {
			return ws.Update(context.Background(), func(tx *storage.Tx) error {
				if err := tx.SetSetting("k", "v"); err != nil {
					return err
				}
				return errBoom
			})
		}, errBoom},
		{"when the context is cancelled inside the function", func(ws *storage.Workspace) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			return ws.Update(ctx, func(tx *storage.Tx) error {
				if err := tx.SetSetting("k", "v"); err != nil {
					return err
				}
				cancel()
				return nil
			})
		}, context.Canceled},
		{"when the context is cancelled before it starts", func(ws *storage.Workspace) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ws.Update(ctx, func(tx *storage.Tx) error { return tx.SetSetting("k", "v") })
		}, context.Canceled},
		{"when the function panics", func(ws *storage.Workspace) (err error) {
			defer func() {
				if p := recover(); p != errBoom {
					err = errors.New("no re-panic")
				} else {
					err = errBoom
				}
			}()
			return ws.Update(context.Background(), func(tx *storage.Tx) error {
				if err := tx.SetSetting("k", "v"); err != nil {
					return err
				}
				panic(errBoom)
			})
		}, errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := newWorkspace(t)
			if err := tt.run(ws); !errors.Is(err, tt.want) {
				t.Fatalf("Update: %v, want %v", err, tt.want)
			}
			var ok bool
			err := ws.View(context.Background(), func(tx *storage.Tx) (err error) { _, ok, err = tx.Setting("k"); return err })
			if err != nil || ok {
				t.Errorf("setting persisted (ok=%v, err=%v)", ok, err)
			}
			// The writer must be usable again.
			if err := ws.Update(context.Background(), func(tx *storage.Tx) error { return tx.SetSetting("k", "after") }); err != nil {
				t.Errorf("next Update: %v", err)
			}
		})
	}
}

func TestViewIsReadOnly(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	writes := []struct {
		name string
		do   func(tx *storage.Tx) error
	}{
		{"SetSetting", func(tx *storage.Tx) error { return tx.SetSetting("k", "v") }},
		{"InsertJob", func(tx *storage.Tx) error { return tx.InsertJob(&storage.Job{Kind: "import"}) }},
		{"Audit", func(tx *storage.Tx) error { return tx.Audit(storage.AuditEntry{Action: "import"}) }},
		{"InsertDataset", func(tx *storage.Tx) error { return tx.InsertDataset(&storage.Dataset{Name: "x"}) }},
		{"DeleteDataset", func(tx *storage.Tx) error { return tx.DeleteDataset(1) }},
	}
	for _, w := range writes {
		t.Run(w.name, func(t *testing.T) {
			err := ws.View(ctx, w.do)
			if !errors.Is(err, storage.ErrReadOnly) {
				t.Errorf("%s in View: %v, want ErrReadOnly", w.name, err)
			}
		})
	}
}

func TestTxIsDeadAfterItsFunction(t *testing.T) {
	ws := newWorkspace(t)
	var kept *storage.Tx
	if err := ws.Update(context.Background(), func(tx *storage.Tx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := kept.SetSetting("k", "v"); err == nil {
		t.Error("SetSetting on a finished Tx succeeded")
	}
	if _, _, err := kept.Setting("k"); err == nil {
		t.Error("Setting on a finished Tx succeeded")
	}
}

func TestIntegrityCheckFindsDanglingReferences(t *testing.T) {
	ws := newWorkspace(t)
	db := rawDB(t, ws.Path())
	// foreign_keys is per connection and off by default: a careless notebook
	// can write a dangling reference.
	if _, err := db.Exec(`INSERT INTO datasets (name, version, source_kind, hash, row_count, column_count, job_id)
		VALUES ('x', 1, 'file', ?, 0, 0, 42)`, strings.Repeat("a", 64)); err != nil {
		t.Fatal(err)
	}
	if err := ws.IntegrityCheck(context.Background()); err == nil {
		t.Error("IntegrityCheck found nothing wrong")
	}
	if _, err := db.Exec(`UPDATE datasets SET job_id = NULL`); err != nil {
		t.Fatal(err)
	}
}

// TestOpenDoesNotWaitForAWriter opens a workspace while another connection
// holds the write lock in a long Update (as an import in another process
// does): opening, reading and checking must not wait for it.
func TestOpenDoesNotWaitForAWriter(t *testing.T) {
	writer := newWorkspace(t)
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- writer.Update(context.Background(), func(tx *storage.Tx) error {
			if err := tx.InsertJob(&storage.Job{Kind: "import", Status: "running"}); err != nil {
				return err
			}
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	reader, err := storage.Open(ctx, writer.Path())
	if err != nil {
		close(release)
		t.Fatalf("Open while another holds the write lock: %v", err)
	}
	err = reader.View(ctx, func(tx *storage.Tx) error { _, err := tx.Jobs(0); return err })
	if err == nil {
		err = reader.IntegrityCheck(ctx)
	}
	if err != nil {
		t.Errorf("reading while another holds the write lock: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("open and read took %v: they waited for the writer", d)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := reader.Close(); err != nil {
		t.Fatal(err)
	}
}
