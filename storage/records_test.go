package storage_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"modelsmith/storage"
)

func TestJobs(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	started := time.Date(2026, 11, 25, 3, 58, 40, 123_456_789, time.FixedZone("CET", 3600))

	tests := []struct {
		name   string
		job    storage.Job
		update func(j *storage.Job)
	}{
		{"queued with zero times", storage.Job{Kind: "import", Title: "Import iris.csv"}, nil},
		{"running, then succeeded with a result", storage.Job{
			Kind: "automl", Status: "running", StartedAt: started,
			OwnerPID: 4242, OwnerStart: "boot-1:12345", OwnerHost: "studio",
		}, func(j *storage.Job) {
			j.Status, j.Progress, j.Message = "succeeded", 1, "done"
			j.FinishedAt = started.Add(90 * time.Second)
			j.CPUSeconds, j.PeakMemoryBytes = 12.5, 1<<30
			j.Result = `{"model":"churn@3"}`
		}},
		{"failed with an error", storage.Job{Kind: "train", Status: "running", StartedAt: started}, func(j *storage.Job) {
			j.Status, j.Error, j.FinishedAt = "failed", "out of memory", started.Add(time.Second)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := tt.job
			if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertJob(&j) }); err != nil {
				t.Fatal(err)
			}
			if j.ID == 0 || j.CreatedAt.IsZero() || (tt.job.Status == "" && j.Status != "queued") {
				t.Errorf("after InsertJob: %+v", j)
			}
			if tt.update != nil {
				tt.update(&j)
				if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.UpdateJob(j) }); err != nil {
					t.Fatal(err)
				}
			}
			var got storage.Job
			if err := ws.View(ctx, func(tx *storage.Tx) (err error) { got, err = tx.Job(j.ID); return err }); err != nil {
				t.Fatal(err)
			}
			want := j
			for _, tm := range []*time.Time{&want.StartedAt, &want.FinishedAt} {
				if !tm.IsZero() {
					*tm = tm.UTC().Truncate(time.Millisecond)
				}
			}
			if got != want {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}

	t.Run("listing", func(t *testing.T) {
		err := ws.View(ctx, func(tx *storage.Tx) error {
			all, err := tx.Jobs(0)
			if err != nil || len(all) != 3 || all[0].Kind != "train" || all[2].Kind != "import" {
				t.Errorf("Jobs(0) = %+v, %v; want 3, newest first", all, err)
			}
			two, err := tx.Jobs(2)
			if err != nil || len(two) != 2 || two[0].ID != all[0].ID {
				t.Errorf("Jobs(2) = %+v, %v", two, err)
			}
			queued, err := tx.JobsWithStatus("queued")
			if err != nil || len(queued) != 1 || queued[0].Kind != "import" {
				t.Errorf("JobsWithStatus(queued) = %+v, %v", queued, err)
			}
			if _, err := tx.Job(999); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Job(999): %v, want ErrNotFound", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("refused and adjusted values", func(t *testing.T) {
		err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.UpdateJob(storage.Job{ID: 999, Kind: "x", Status: "queued"}) })
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("UpdateJob(999): %v, want ErrNotFound", err)
		}
		for _, j := range []storage.Job{
			{Kind: "x", Status: "paused"},
			{Kind: "", Status: "queued"},
			{Kind: "x", Result: "not json"},
		} {
			if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertJob(&j) }); err == nil {
				t.Errorf("InsertJob(%+v) succeeded", j)
			}
		}
		for _, p := range []float64{1.0000001, -0.5, math.NaN()} {
			j := storage.Job{Kind: "x", Progress: p}
			if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertJob(&j) }); err != nil || j.Progress < 0 || j.Progress > 1 {
				t.Errorf("InsertJob with progress %v: %v, stored %v", p, err, j.Progress)
			}
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	err := ws.Update(ctx, func(tx *storage.Tx) error {
		for i, action := range []string{"import", "train", "export"} {
			e := storage.AuditEntry{Actor: "ada", Action: action, ObjectType: "dataset", ObjectName: fmt.Sprint("d", i)}
			if i == 0 {
				e.At = at
			}
			if err := tx.Audit(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var log []storage.AuditEntry
	if err := ws.View(ctx, func(tx *storage.Tx) (err error) { log, err = tx.AuditLog(0); return err }); err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 || log[0].Action != "export" || log[2].Action != "import" || !log[2].At.Equal(at) || log[0].At.IsZero() {
		t.Errorf("AuditLog(0) = %+v; want 3 entries newest first", log)
	}
	if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.Audit(storage.AuditEntry{}) }); err == nil {
		t.Error("audit entry without an action accepted")
	}

	db := rawDB(t, ws.Path())
	for _, stmt := range []string{
		"UPDATE audit_log SET actor = 'mallory'",
		"DELETE FROM audit_log",
		"INSERT OR REPLACE INTO audit_log (id, action) VALUES (1, 'forged')",
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := db.Exec(stmt)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want an append-only error", stmt, err)
			}
		})
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM audit_log WHERE actor = 'ada'").Scan(&n); err != nil || n != 3 {
		t.Errorf("audit rows by ada = %d, %v; want 3", n, err)
	}
}

func TestSettings(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	steps := []struct {
		name   string
		set    map[string]string
		key    string
		want   string
		wantOK bool
	}{
		{"missing key", nil, "theme", "", false},
		{"set", map[string]string{"theme": "dark"}, "theme", "dark", true},
		{"replace", map[string]string{"theme": "light"}, "theme", "light", true},
		{"empty value is a value", map[string]string{"budget.cpu_hours": ""}, "budget.cpu_hours", "", true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			err := ws.Update(ctx, func(tx *storage.Tx) error {
				for k, v := range s.set {
					if err := tx.SetSetting(k, v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var v string
			var ok bool
			if err := ws.View(ctx, func(tx *storage.Tx) (err error) { v, ok, err = tx.Setting(s.key); return err }); err != nil {
				t.Fatal(err)
			}
			if v != s.want || ok != s.wantOK {
				t.Errorf("Setting(%q) = %q, %v; want %q, %v", s.key, v, ok, s.want, s.wantOK)
			}
		})
	}
}

// TestConcurrentReadersAndWriter runs readers against a writer under the race
// detector. Each Update writes a job and its audit entry together, so every
// snapshot a reader sees must hold as many of one as of the other.
func TestConcurrentReadersAndWriter(t *testing.T) {
	ws := newWorkspace(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const writes = 60

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer cancel()
		for i := range writes {
			err := ws.Update(context.Background(), func(tx *storage.Tx) error {
				j := storage.Job{Kind: "import", Title: fmt.Sprint("job ", i)}
				if err := tx.InsertJob(&j); err != nil {
					return err
				}
				return tx.Audit(storage.AuditEntry{Action: "import", ObjectName: j.Title})
			})
			if err != nil {
				errs <- fmt.Errorf("write %d: %w", i, err)
				return
			}
		}
	}()
	for r := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				err := ws.View(context.Background(), func(tx *storage.Tx) error {
					jobs, err := tx.Jobs(0)
					if err != nil {
						return err
					}
					log, err := tx.AuditLog(0)
					if err != nil {
						return err
					}
					if len(jobs) != len(log) {
						return fmt.Errorf("reader %d saw %d jobs and %d audit entries", r, len(jobs), len(log))
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var n int
	err := ws.View(context.Background(), func(tx *storage.Tx) error {
		jobs, err := tx.Jobs(0)
		n = len(jobs)
		return err
	})
	if err != nil || n != writes {
		t.Errorf("jobs after the writer = %d, %v; want %d", n, err, writes)
	}
}

// TestConcurrentWorkspacesOnOneFile opens the same file twice, as the desktop
// app and a CLI command would, and writes from both.
func TestConcurrentWorkspacesOnOneFile(t *testing.T) {
	a := newWorkspace(t)
	b := openWorkspace(t, a.Path())
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, ws := range []*storage.Workspace{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertJob(&storage.Job{Kind: "import"}) }); err != nil {
					t.Errorf("write %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var n int
	err := b.View(ctx, func(tx *storage.Tx) error { js, err := tx.Jobs(0); n = len(js); return err })
	if err != nil || n != 40 {
		t.Errorf("jobs = %d, %v; want 40", n, err)
	}
}
