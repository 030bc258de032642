package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	_ "modernc.org/sqlite"

	"modelsmith/app"
	"modelsmith/storage"
)

const sharedData = "../../../shared/datasets"

// run runs the CLI in-process and returns its exit code, stdout and stderr.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCtx(t, context.Background(), args...)
}

func runCtx(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(ctx, args, Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

// newWorkspace returns the path of a fresh empty workspace, integrity-checked
// when the test ends.
func newWorkspace(t *testing.T) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "test.modelsmith")
	if code, _, stderr := run(t, "--workspace", ws, "--empty", "datasets"); code != 0 {
		t.Fatalf("create workspace: exit %d: %s", code, stderr)
	}
	t.Cleanup(func() { checkIntegrity(t, ws) })
	return ws
}

func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	w, err := storage.Open(context.Background(), path)
	if err != nil {
		t.Errorf("reopen %s: %v", path, err)
		return
	}
	defer w.Close()
	if err := w.IntegrityCheck(context.Background()); err != nil {
		t.Errorf("integrity of %s: %v", path, err)
	}
}

func datasetsJSON(t *testing.T, ws string) []app.Dataset {
	t.Helper()
	code, out, stderr := run(t, "--workspace", ws, "datasets", "--json")
	if code != 0 {
		t.Fatalf("datasets --json: exit %d: %s", code, stderr)
	}
	var list []app.Dataset
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("datasets --json: %v\n%s", err, out)
	}
	return list
}

func writeFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func parquetBytes(t *testing.T, rows int) []byte {
	t.Helper()
	type row struct {
		ID    int64   `parquet:"id"`
		Score float64 `parquet:"score"`
		Name  string  `parquet:"name"`
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[row](&buf)
	batch := make([]row, rows)
	for i := range batch {
		batch[i] = row{ID: int64(i), Score: float64(i) / 3, Name: []string{"a", "b", "c"}[i%3]}
	}
	if _, err := w.Write(batch); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHelpListsOnlyBuiltCommands(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"import", "datasets", "dataset", "jobs", "train", "predict", "evaluate", "models", "runs", "automl", "--workspace", "--json"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q", want)
		}
	}
	for _, notYet := range []string{"deploy", "monitor"} {
		if strings.Contains(out, "  "+notYet+" ") {
			t.Errorf("help lists %q, which is not built yet", notYet)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	ws := newWorkspace(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"import without a path", []string{"import"}, "exactly one PATH"},
		{"unknown flag", []string{"datasets", "--colour"}, "flag provided but not defined"},
		{"bad version in a reference", []string{"dataset", "show", "iris@x"}, "positive whole number"},
		{"dataset without subcommand", []string{"dataset"}, "subcommand"},
		{"no command and no GUI", nil, "no command"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"--workspace", ws}, tc.args...)...)
			if code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr: %s", code, ExitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q lacks %q", stderr, tc.want)
			}
		})
	}
}

func TestNewWorkspaceHasSamples(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "fresh.modelsmith")
	list := datasetsJSON(t, ws)
	want := map[string]int64{"iris": 150, "adult": 48842, "california_housing": 20640}
	if len(list) != len(want) {
		t.Fatalf("got %d datasets, want %d: %+v", len(list), len(want), list)
	}
	for _, d := range list {
		if want[d.Name] != d.Rows {
			t.Errorf("%s: %d rows, want %d", d.Ref, d.Rows, want[d.Name])
		}
	}
	// Opening again neither seeds twice nor fails.
	if again := datasetsJSON(t, ws); len(again) != len(want) {
		t.Errorf("second open: %d datasets, want %d", len(again), len(want))
	}
	checkIntegrity(t, ws)
}

func TestImportVersionsAndDuplicates(t *testing.T) {
	ws := newWorkspace(t)
	dir := t.TempDir()
	v1 := writeFile(t, dir, "sales.csv", []byte("region,amount\nnorth,10\nsouth,20\n"))
	v2 := writeFile(t, dir, "sales2.csv", []byte("region,amount\nnorth,10\nsouth,25\n"))

	code, out, stderr := run(t, "--workspace", ws, "import", v1)
	if code != 0 || !strings.Contains(out, "imported sales@1") {
		t.Fatalf("first import: exit %d, out %q, err %q", code, out, stderr)
	}
	code, out, _ = run(t, "--workspace", ws, "import", v1)
	if code != 0 || !strings.Contains(out, "already holds this content") {
		t.Errorf("identical import: exit %d, out %q", code, out)
	}
	code, out, _ = run(t, "--workspace", ws, "import", v2, "--name", "sales", "--json")
	var res app.ImportResult
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.Dataset.Ref != "sales@2" {
		t.Errorf("changed content: exit %d, out %q", code, out)
	}
	if got := len(datasetsJSON(t, ws)); got != 2 {
		t.Errorf("%d datasets, want 2 versions", got)
	}

	code, out, _ = run(t, "--workspace", ws, "dataset", "show", "sales@1", "--json")
	var detail app.DatasetDetail
	if code != 0 || json.Unmarshal([]byte(out), &detail) != nil {
		t.Fatalf("show: exit %d, %q", code, out)
	}
	if len(detail.Schema) != 2 || detail.Schema[0].Type != "categorical" || detail.Schema[1].Type != "numeric" {
		t.Errorf("schema = %+v", detail.Schema)
	}

	if code, out, _ = run(t, "--workspace", ws, "dataset", "rm", "sales@1"); code != 0 || !strings.Contains(out, "removed sales@1") {
		t.Errorf("rm sales@1: exit %d, %q", code, out)
	}
	list := datasetsJSON(t, ws)
	if len(list) != 1 || list[0].Ref != "sales@2" {
		t.Errorf("after rm: %+v", list)
	}
	if code, _, stderr = run(t, "--workspace", ws, "dataset", "show", "sales@1"); code != ExitFailure || !strings.Contains(stderr, "no dataset") {
		t.Errorf("show removed: exit %d, %q", code, stderr)
	}
}

func TestBadInputLeavesWorkspaceUnchanged(t *testing.T) {
	ws := newWorkspace(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", []byte("a,b\n1,2\n"))
	if code, _, stderr := run(t, "--workspace", ws, "import", good); code != 0 {
		t.Fatalf("import good.csv: %s", stderr)
	}
	before := datasetsJSON(t, ws)

	pq := parquetBytes(t, 2000)
	binary := make([]byte, 4096)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	var body strings.Builder
	body.WriteString("x,y,z\n")
	for i := range 5000 {
		fmt.Fprintf(&body, "%d,%d,%d\n", i, i*i, i%7)
	}
	gz := gzipBytes(t, []byte(body.String()))
	cases := []struct {
		name, file string
		content    []byte
		want       []string // every one must appear in the error line
	}{
		{"ragged row", "ragged.csv", []byte("a,b,c\n1,2,3\n4,5\n"), []string{"ragged.csv", "line 3"}},
		{"unterminated quote", "quote.csv", []byte("a,b\n1,\"open\n2,3\n"), []string{"quote.csv", "line 2"}},
		{"invalid UTF-8", "latin1.csv", []byte("name,n\ncaf\xe9,1\n"), []string{"latin1.csv", "line 2", "UTF-8"}},
		{"empty file", "empty.csv", nil, []string{"empty.csv", "empty"}},
		{"header only", "header.csv", []byte("a,b,c\n"), []string{"header.csv", "no data rows"}},
		{"duplicate column names", "dup.csv", []byte("a,b,a\n1,2,3\n"), []string{"dup.csv", "duplicate", `"a"`}},
		{"binary file renamed .csv", "image.csv", binary, []string{"image.csv", "binary"}},
		{"truncated gzip", "cut.csv.gz", gz[:len(gz)/2], []string{"cut.csv.gz", "truncated"}},
		{"truncated Parquet", "cut.parquet", pq[:len(pq)/2], []string{"cut.parquet"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, tc.file, tc.content)
			code, _, stderr := run(t, "--workspace", ws, "import", path)
			if code != ExitFailure {
				t.Errorf("exit %d, want %d; stderr %q", code, ExitFailure, stderr)
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n"); lines != 0 && !strings.Contains(stderr, "import:") {
				t.Errorf("want one error line, got %q", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("error %q lacks %q", stderr, w)
				}
			}
		})
	}
	t.Run("path that does not exist", func(t *testing.T) {
		code, _, stderr := run(t, "--workspace", ws, "import", filepath.Join(dir, "nope.csv"))
		if code != ExitFailure || !strings.Contains(stderr, "nope.csv") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
	after := datasetsJSON(t, ws)
	if len(after) != len(before) || after[0].Ref != before[0].Ref {
		t.Errorf("datasets changed: before %+v, after %+v", before, after)
	}
}

func TestBadWorkspaceFiles(t *testing.T) {
	dir := t.TempDir()
	notSQLite := writeFile(t, dir, "notes.modelsmith", []byte("these are my notes, not a database\n"))
	newer := filepath.Join(dir, "newer.modelsmith")
	if code, _, stderr := run(t, "--workspace", newer, "--empty", "datasets"); code != 0 {
		t.Fatal(stderr)
	}
	db, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, tc := range []struct {
		name, path, want string
	}{
		{"not an SQLite file", notSQLite, "not a Modelsmith workspace"},
		{"written by a newer version", newer, "newer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := os.ReadFile(tc.path)
			code, _, stderr := run(t, "--workspace", tc.path, "datasets")
			if code != ExitFailure || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, filepath.Base(tc.path)) {
				t.Errorf("exit %d, stderr %q; want exit 1 naming the file and %q", code, stderr, tc.want)
			}
			if after, _ := os.ReadFile(tc.path); !bytes.Equal(before, after) {
				t.Errorf("the file was modified")
			}
		})
	}
}

func TestCancelledImportSavesNothing(t *testing.T) {
	ws := newWorkspace(t)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,group,value\n")
	for i := range 200000 {
		b.WriteString(strings.Join([]string{strconv.Itoa(i), []string{"x", "y", "z"}[i%3], strconv.Itoa(i * 7 % 1000)}, ","))
		b.WriteByte('\n')
	}
	path := writeFile(t, dir, "big.csv", []byte(b.String()))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	stderr := &cancelOnWrite{w: &errb, marker: "reading", cancel: cancel}
	code := Main(ctx, []string{"--workspace", ws, "import", path}, Env{Stdout: &out, Stderr: stderr})
	if code != ExitFailure || !strings.Contains(errb.String(), "cancelled") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if list := datasetsJSON(t, ws); len(list) != 0 {
		t.Errorf("a cancelled import left %+v", list)
	}
	code, jobsOut, _ := run(t, "--workspace", ws, "jobs", "--json")
	var jobs []app.Job
	if code != 0 || json.Unmarshal([]byte(jobsOut), &jobs) != nil || len(jobs) == 0 || jobs[0].Status != "cancelled" {
		t.Errorf("jobs: %s", jobsOut)
	}
}

// cancelOnWrite cancels when the progress output first mentions marker.
type cancelOnWrite struct {
	w      *bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (c *cancelOnWrite) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.marker) {
		c.cancel()
	}
	return c.w.Write(p)
}
