package jobs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"modelsmith/storage"
)

func openWorkspace(t *testing.T) *storage.Workspace {
	t.Helper()
	ws, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "w.modelsmith"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ws.IntegrityCheck(context.Background()); err != nil {
			t.Errorf("integrity: %v", err)
		}
		ws.Close()
	})
	return ws
}

// exitedPID starts and reaps a short process, returning a pid that is no longer alive.
func exitedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestOwnerAlive(t *testing.T) {
	self := Self()
	dead := Owner{PID: exitedPID(t), Start: self.Start, Host: self.Host}
	for _, tc := range []struct {
		name  string
		owner Owner
		want  bool
	}{
		{"this process", self, true},
		{"a process that has exited", dead, false},
		{"this pid with another start time (pid reused)", Owner{PID: self.PID, Start: "other-boot/1", Host: self.Host}, false},
		{"a process on another host cannot be checked, so counts as alive", Owner{PID: 1, Host: self.Host + "-elsewhere"}, true},
		{"no pid recorded", Owner{Host: self.Host}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.owner.Alive(); got != tc.want {
				t.Errorf("Alive(%+v) = %v, want %v", tc.owner, got, tc.want)
			}
		})
	}
}

func TestRunRecordsOutcome(t *testing.T) {
	ws := openWorkspace(t)
	r := NewRunner(ws)
	ctx := context.Background()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name       string
		fn         func(ctx context.Context, report Reporter) (string, error)
		wantStatus string
	}{
		{"success stores the result", func(ctx context.Context, report Reporter) (string, error) {
			report("working", 0.5, "half way")
			return `{"ok":true}`, nil
		}, Succeeded},
		{"an error fails the job", func(context.Context, Reporter) (string, error) { return "", boom }, Failed},
		{"a cancelled context cancels the job", func(ctx context.Context, report Reporter) (string, error) {
			return "", context.Canceled
		}, Cancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []Progress
			id, _ := r.Run(ctx, "test", tc.name, func(p Progress) { seen = append(seen, p) }, tc.fn)
			var j storage.Job
			if err := ws.View(ctx, func(tx *storage.Tx) (err error) { j, err = tx.Job(id); return }); err != nil {
				t.Fatal(err)
			}
			if j.Status != tc.wantStatus {
				t.Errorf("status = %q, want %q (error %q)", j.Status, tc.wantStatus, j.Error)
			}
			if j.FinishedAt.IsZero() || j.StartedAt.IsZero() {
				t.Errorf("times not recorded: %+v", j)
			}
			if j.OwnerPID != os.Getpid() {
				t.Errorf("owner pid = %d, want %d", j.OwnerPID, os.Getpid())
			}
			for _, p := range seen {
				if p.JobID != id {
					t.Errorf("progress for job %d reported as job %d", id, p.JobID)
				}
			}
		})
	}
}

func TestCancelStopsRunningJob(t *testing.T) {
	ws := openWorkspace(t)
	r := NewRunner(ws)
	started := make(chan int64, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	var runErr error
	go func() {
		defer wg.Done()
		_, runErr = r.Run(context.Background(), "test", "wait", func(p Progress) {
			select {
			case started <- p.JobID:
			default:
			}
		}, func(ctx context.Context, report Reporter) (string, error) {
			report("waiting", 0, "waiting for cancel")
			<-ctx.Done()
			return "", ctx.Err()
		})
	}()
	id := <-started
	if !r.Cancel(id) {
		t.Fatalf("Cancel(%d) found no running job", id)
	}
	wg.Wait()
	if !errors.Is(runErr, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", runErr)
	}
	if r.Cancel(id) {
		t.Errorf("Cancel after the job ended still found it")
	}
}

func TestRecoverInterruptedOnlyMarksDeadOwners(t *testing.T) {
	ws := openWorkspace(t)
	ctx := context.Background()
	self := Self()
	live := storage.Job{Kind: "import", Title: "live", Status: Running, OwnerPID: self.PID, OwnerStart: self.Start, OwnerHost: self.Host}
	dead := storage.Job{Kind: "import", Title: "dead", Status: Running, OwnerPID: exitedPID(t), OwnerStart: self.Start, OwnerHost: self.Host}
	done := storage.Job{Kind: "import", Title: "done", Status: Succeeded, OwnerPID: exitedPID(t), OwnerHost: self.Host}
	err := ws.Update(ctx, func(tx *storage.Tx) error {
		for _, j := range []*storage.Job{&live, &dead, &done} {
			if err := tx.InsertJob(j); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	marked, err := RecoverInterrupted(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(marked) != 1 || marked[0].ID != dead.ID {
		t.Fatalf("marked %+v, want only job %d", marked, dead.ID)
	}
	want := map[int64]string{live.ID: Running, dead.ID: Interrupted, done.ID: Succeeded}
	ws.View(ctx, func(tx *storage.Tx) error {
		for id, status := range want {
			j, err := tx.Job(id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != status {
				t.Errorf("job %q: status %q, want %q", j.Title, j.Status, status)
			}
		}
		return nil
	})
}
