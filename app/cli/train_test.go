package cli

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"modelsmith/app"
)

// sampleWorkspace is a new workspace with the sample datasets (iris, adult,
// california_housing).
func sampleWorkspace(t *testing.T) string {
	t.Helper()
	ws := filepath.Join(t.TempDir(), "samples.modelsmith")
	if code, _, stderr := run(t, "--workspace", ws, "datasets"); code != 0 {
		t.Fatalf("create workspace: %s", stderr)
	}
	t.Cleanup(func() { checkIntegrity(t, ws) })
	return ws
}

func modelsJSON(t *testing.T, ws string) []app.ModelInfo {
	t.Helper()
	code, out, stderr := run(t, "--workspace", ws, "models", "--json")
	if code != 0 {
		t.Fatalf("models: %s", stderr)
	}
	var list []app.ModelInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	return list
}

func TestTrainPredictEvaluateIris(t *testing.T) {
	ws := sampleWorkspace(t)
	irisTest := filepath.Join(sharedData, "iris", "test.csv")
	if _, err := os.Stat(irisTest); err != nil {
		t.Skip(err)
	}
	for _, algo := range []string{"gbdt", "forest", "linear", "knn", "bayes", "nn"} {
		t.Run(algo, func(t *testing.T) {
			code, out, stderr := run(t, "--workspace", ws, "train", "--data", "iris", "--target", "species", "--algo", algo, "--seed", "1", "--json")
			if code != 0 {
				t.Fatalf("train: exit %d: %s", code, stderr)
			}
			var res app.TrainResult
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatal(err)
			}
			if res.Model.Ref != "iris-"+algo+"@1" || res.Model.Task != "multiclass" {
				t.Errorf("registered %+v", res.Model)
			}

			outFile := filepath.Join(t.TempDir(), "pred.csv")
			code, _, stderr = run(t, "--workspace", ws, "predict", "--model", res.Model.Ref, "--data", irisTest, "--out", outFile)
			if code != 0 {
				t.Fatalf("predict: %s", stderr)
			}
			if !strings.Contains(stderr, "species") {
				t.Errorf("stderr does not list the ignored target column: %q", stderr)
			}
			f, _ := os.Open(outFile)
			defer f.Close()
			rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			wantHeader := "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species,prediction,proba_setosa,proba_versicolor,proba_virginica"
			if got := strings.Join(rows[0], ","); got != wantHeader {
				t.Errorf("header %s\nwant   %s", got, wantHeader)
			}
			if len(rows) != 31 {
				t.Errorf("%d rows, want 30 + header", len(rows)-1)
			}
			correct := 0
			for _, r := range rows[1:] {
				if r[4] == r[5] {
					correct++
				}
				sum := 0.0
				for _, p := range r[6:] {
					v, err := strconv.ParseFloat(p, 64)
					if err != nil {
						t.Fatalf("probability %q: %v", p, err)
					}
					sum += v
				}
				if sum < 0.999999 || sum > 1.000001 {
					t.Errorf("probabilities sum to %g", sum)
				}
			}
			if correct < 26 {
				t.Errorf("%d of 30 test rows right", correct)
			}

			code, out, stderr = run(t, "--workspace", ws, "evaluate", "--model", res.Model.Ref, "--data", irisTest, "--json")
			var ev app.Evaluation
			if code != 0 || json.Unmarshal([]byte(out), &ev) != nil {
				t.Fatalf("evaluate: exit %d %s %s", code, out, stderr)
			}
			if ev.Metrics["accuracy"] < 0.86 || len(ev.Confusion) != 3 {
				t.Errorf("evaluation %+v", ev)
			}
		})
	}
	code, out, _ := run(t, "--workspace", ws, "runs", "--json")
	var runs []app.RunInfo
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 6 || runs[0].Status != "succeeded" {
		t.Errorf("runs: %s", out)
	}
}

func TestTrainRefusesBadRequests(t *testing.T) {
	ws := sampleWorkspace(t)
	dir := t.TempDir()
	oneClass := writeFile(t, dir, "one.csv", []byte("x,y\n1,a\n2,a\n3,a\n"))
	oneRow := writeFile(t, dir, "row.csv", []byte("x,y\n1,a\n"))
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown hyperparameter", []string{"--data", "iris", "--target", "species", "--algo", "gbdt", "--set", "trees=5"}, ExitUsage, []string{"trees", "n_estimators", "learning_rate"}},
		{"value out of range", []string{"--data", "iris", "--target", "species", "--algo", "gbdt", "--set", "learning_rate=-1"}, ExitUsage, []string{"learning_rate"}},
		{"unknown algorithm", []string{"--data", "iris", "--target", "species", "--algo", "magic"}, ExitUsage, []string{"magic", "gbdt"}},
		{"missing target column", []string{"--data", "iris", "--target", "colour", "--algo", "gbdt"}, ExitUsage, []string{"colour", "species"}},
		{"target with one class", []string{"--data", oneClass, "--target", "y", "--algo", "gbdt"}, ExitFailure, []string{"one class"}},
		{"one row", []string{"--data", oneRow, "--target", "y", "--algo", "gbdt", "--task", "regression"}, ExitFailure, []string{"row"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"--workspace", ws, "train"}, tc.args...)...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("error %q lacks %q", stderr, w)
				}
			}
		})
	}
	if list := modelsJSON(t, ws); len(list) != 0 {
		t.Errorf("refused trainings registered %d models", len(list))
	}
}

func TestPredictRefusesBadInputs(t *testing.T) {
	ws := sampleWorkspace(t)
	if code, _, stderr := run(t, "--workspace", ws, "train", "--data", "iris", "--target", "species", "--algo", "gbdt", "--name", "flowers"); code != 0 {
		t.Fatal(stderr)
	}
	dir := t.TempDir()
	reordered := writeFile(t, dir, "reordered.csv", []byte("petal_width_cm,extra,petal_length_cm,sepal_width_cm,sepal_length_cm\n0.2,x,1.4,3.5,5.1\n"))
	missing := writeFile(t, dir, "missing.csv", []byte("sepal_length_cm,sepal_width_cm\n5.1,3.5\n"))
	text := writeFile(t, dir, "text.csv", []byte("sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n5.1,3.5,1.4,0.2\nbig,3.0,1.4,0.2\n"))
	unseen := writeFile(t, dir, "unseen.csv", []byte("sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species\n5.1,3.5,1.4,0.2,orchid\n"))

	if code, out, stderr := run(t, "--workspace", ws, "predict", "--model", "flowers", "--data", reordered); code != 0 || !strings.Contains(out, "setosa") || !strings.Contains(stderr, "extra") {
		t.Errorf("reordered columns: exit %d, out %q, err %q", code, out, stderr)
	}
	for _, tc := range []struct {
		name, cmd, file string
		want            []string
	}{
		{"missing columns", "predict", missing, []string{"petal_length_cm", "petal_width_cm"}},
		{"text in a numeric column", "predict", text, []string{"sepal_length_cm", "big"}},
		{"label unseen at training", "evaluate", unseen, []string{"orchid"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, "--workspace", ws, tc.cmd, "--model", "flowers", "--data", tc.file)
			if code != ExitFailure {
				t.Errorf("exit %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("error %q lacks %q", stderr, w)
				}
			}
		})
	}

	t.Run("corrupt model artifact", func(t *testing.T) {
		db, err := sql.Open("sqlite", ws)
		if err != nil {
			t.Fatal(err)
		}
		// Flip bytes in the middle of the artifact, keeping its size.
		_, err = db.Exec(`UPDATE models SET artifact = substr(artifact, 1, 40) || zeroblob(16) || substr(artifact, 57) WHERE name = 'flowers'`)
		db.Close()
		if err != nil {
			t.Fatal(err)
		}
		code, _, stderr := run(t, "--workspace", ws, "predict", "--model", "flowers", "--data", reordered)
		if code != ExitFailure || !strings.Contains(stderr, "corrupt") {
			t.Errorf("exit %d, %q", code, stderr)
		}
	})
}

// TestKilledTrainingRegistersNothing kills a CLI process while it trains and
// checks that no model is registered and that the run is then interrupted.
func TestKilledTrainingRegistersNothing(t *testing.T) {
	ws := sampleWorkspace(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "--workspace", ws, "train", "--data", "adult", "--target", "income",
		"--algo", "gbdt", "--set", "n_estimators=100000")
	cmd.Env = append(os.Environ(), "MODELSMITH_TEST_CHILD=training")
	killWhenBlocked(t, cmd, "training")

	if list := modelsJSON(t, ws); len(list) != 0 {
		t.Errorf("a killed training registered %+v", list)
	}
	code, out, _ := run(t, "--workspace", ws, "runs", "--json")
	var runs []app.RunInfo
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 1 || runs[0].Status != "interrupted" {
		t.Errorf("runs after the kill: %s", out)
	}
}

func TestCancelledTrainingRegistersNothing(t *testing.T) {
	ws := sampleWorkspace(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	stderr := &cancelOnWrite{w: &errb, marker: "training", cancel: cancel}
	code := Main(ctx, []string{"--workspace", ws, "train", "--data", "adult", "--target", "income", "--algo", "gbdt",
		"--set", "n_estimators=100000"}, Env{Stdout: &out, Stderr: stderr})
	if code != ExitFailure || !strings.Contains(errb.String(), "cancelled") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if list := modelsJSON(t, ws); len(list) != 0 {
		t.Errorf("a cancelled training registered %+v", list)
	}
	code, runsOut, _ := run(t, "--workspace", ws, "runs", "--json")
	var runs []app.RunInfo
	if code != 0 || json.Unmarshal([]byte(runsOut), &runs) != nil || len(runs) != 1 || runs[0].Status != "cancelled" {
		t.Errorf("runs after cancel: %s", runsOut)
	}
}

// An all-missing feature carries no information: training goes on (trees
// never split on it; linear models see a constant after imputation).
func TestTrainWithAllMissingFeature(t *testing.T) {
	ws := sampleWorkspace(t)
	var b strings.Builder
	b.WriteString("x,empty,y\n")
	for i := range 200 {
		b.WriteString(strconv.Itoa(i) + ",," + []string{"a", "b"}[i%2] + "\n")
	}
	path := writeFile(t, t.TempDir(), "gaps.csv", []byte(b.String()))
	for _, algo := range []string{"gbdt", "linear"} {
		if code, _, stderr := run(t, "--workspace", ws, "train", "--data", path, "--target", "y", "--algo", algo); code != 0 {
			t.Errorf("%s: exit %d: %s", algo, code, stderr)
		}
	}
}

// killWhenBlocked starts cmd, a child of this test binary that writes
// BLOCKED on stderr when it reaches stage (MODELSMITH_TEST_CHILD, see
// flights_test.go), kills it (SIGKILL) there and waits for it.
func killWhenBlocked(t *testing.T, cmd *exec.Cmd, stage string) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	blocked := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if sc.Text() == "BLOCKED" {
				blocked <- true
				return
			}
		}
		blocked <- false
	}()
	select {
	case ok := <-blocked:
		if !ok {
			cmd.Wait()
			t.Fatal("the child ended before " + stage)
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("the child never reached " + stage)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
}
