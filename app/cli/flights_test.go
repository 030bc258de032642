package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"modelsmith/app"
)

var flights = filepath.Join(sharedData, "flights_delay", "train.csv.gz")

// The test binary doubles as a CLI process for the crash test: with
// MODELSMITH_TEST_CHILD set it runs the CLI on the arguments after "--" and,
// once its progress output mentions the marker, announces that on stderr and
// blocks, mid-transaction, until it is killed.
func TestMain(m *testing.M) {
	if marker := os.Getenv("MODELSMITH_TEST_CHILD"); marker != "" {
		args := os.Args
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Exit(Main(context.Background(), args, Env{Stdout: os.Stdout, Stderr: &blockOn{marker: marker}}))
	}
	os.Exit(m.Run())
}

type blockOn struct{ marker string }

func (b *blockOn) Write(p []byte) (int, error) {
	os.Stderr.Write(p)
	if strings.Contains(string(p), b.marker) {
		os.Stderr.WriteString("BLOCKED\n")
		select {}
	}
	return len(p), nil
}

func needFlights(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(flights); err != nil {
		t.Skipf("flights_delay not available: %v", err)
	}
}

func TestImportFlights(t *testing.T) {
	needFlights(t)
	ws := newWorkspace(t)
	code, _, stderr := run(t, "--workspace", ws, "import", flights, "--name", "flights")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, stage := range []string{"reading", "storing"} {
		if !strings.Contains(stderr, stage) {
			t.Errorf("progress on stderr lacks %q:\n%s", stage, stderr)
		}
	}
	list := datasetsJSON(t, ws)
	if len(list) != 1 || list[0].Rows != 800000 || list[0].Columns != 8 {
		t.Fatalf("datasets: %+v", list)
	}

	code, out, stderr := run(t, "--workspace", ws, "dataset", "show", "flights", "--json")
	if code != 0 {
		t.Fatalf("show: %s", stderr)
	}
	// Decode loosely, as a notebook or script would.
	var doc struct {
		Schema []map[string]any `json:"schema"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"month": "numeric", "day_of_month": "numeric", "day_of_week": "numeric", "dep_minute_of_day": "numeric",
		"distance": "numeric", "origin": "categorical", "destination": "categorical", "delayed": "numeric",
	}
	if len(doc.Schema) != len(want) {
		t.Fatalf("%d columns, want %d", len(doc.Schema), len(want))
	}
	for _, c := range doc.Schema {
		name, _ := c["name"].(string)
		if got := c["type"]; got != want[name] {
			t.Errorf("column %q: type %v, want %s", name, got, want[name])
		}
	}

	// Rows straddling a chunk boundary come back in order.
	s, err := app.Open(context.Background(), app.Options{Path: ws}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f, err := s.Preview(context.Background(), "flights", 65530, 65545)
	if err != nil {
		t.Fatal(err)
	}
	if f.Rows() != 15 || len(f.Columns) != 8 {
		t.Errorf("preview: %d rows × %d columns", f.Rows(), len(f.Columns))
	}
}

// TestKilledImportLeavesNoTrace kills (SIGKILL) a CLI process while it is
// inside the transaction that stores flights_delay, then checks that the
// workspace opens, passes the integrity check, holds no partial dataset, and
// reports the job as interrupted — but not while its process still lived.
func TestKilledImportLeavesNoTrace(t *testing.T) {
	needFlights(t)
	ws := newWorkspace(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "--workspace", ws, "import", flights, "--name", "flights")
	cmd.Env = append(os.Environ(), "MODELSMITH_TEST_CHILD=storing")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan string, 1)
	go func() {
		var seen strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if sc.Text() == "BLOCKED" {
				blocked <- seen.String()
				io.Copy(io.Discard, stderr)
				return
			}
		}
		blocked <- seen.String()
	}()
	var progress string
	select {
	case progress = <-blocked:
	case <-time.After(5 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the child never reached the storing stage")
	}
	if !strings.Contains(progress, "BLOCKED") {
		cmd.Wait()
		t.Fatalf("the child ended before storing:\n%s", progress)
	}

	// While the child lives (and holds the write lock), another process's
	// open must neither wait for it nor call its job interrupted.
	code, out, errText := run(t, "--workspace", ws, "jobs", "--json")
	var jobs []app.Job
	if code != 0 || json.Unmarshal([]byte(out), &jobs) != nil || len(jobs) == 0 || jobs[0].Status == "interrupted" {
		t.Errorf("jobs of a live import: exit %d, %s %s", code, out, errText)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	checkIntegrity(t, ws)
	if list := datasetsJSON(t, ws); len(list) != 0 {
		t.Errorf("the killed import left datasets: %+v", list)
	}
	code, out, _ = run(t, "--workspace", ws, "jobs", "--json")
	jobs = nil
	if code != 0 || json.Unmarshal([]byte(out), &jobs) != nil {
		t.Fatalf("jobs: %s", out)
	}
	// The job row was written before the import transaction began, so it
	// survives; the dead owner makes it interrupted.
	found := false
	for _, j := range jobs {
		if j.Kind == "import" && strings.Contains(j.Title, "train.csv.gz") {
			found = true
			if j.Status != "interrupted" {
				t.Errorf("job %d: status %q, want interrupted", j.ID, j.Status)
			}
		}
	}
	if !found {
		t.Errorf("no import job recorded: %s", out)
	}
}
