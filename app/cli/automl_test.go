package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"modelsmith/app"
)

var irisTrain = filepath.Join(sharedData, "iris", "train.csv")

// fastFamilies keep searches short under the race detector.
const fastFamilies = "linear,knn,bayes"

// automlJSON is the --json output, decoded loosely as a script would.
type automlJSON struct {
	ExperimentID int64 `json:"experiment_id"`
	Model        struct {
		Ref       string `json:"ref"`
		Algorithm string `json:"algorithm"`
	} `json:"model"`
	Leaderboard []map[string]any `json:"leaderboard"`
	Task        string           `json:"task"`
	Metric      string           `json:"metric"`
	Greater     *bool            `json:"greater_is_better"`
	Score       *float64         `json:"score"`
	Validation  string           `json:"validation"`
}

func decodeAutoML(t *testing.T, out string) automlJSON {
	t.Helper()
	var res automlJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("automl --json: %v\n%s", err, out)
	}
	return res
}

func trialsOf(board []map[string]any) int {
	n := 0
	for _, r := range board {
		if tr, _ := r["trial"].(float64); tr >= 0 {
			n++
		}
	}
	return n
}

func TestAutoMLJSONAndRuns(t *testing.T) {
	ws := newWorkspace(t)
	code, out, stderr := run(t, "--workspace", ws, "automl", "--data", irisTrain, "--target", "species", "--trials", "4",
		"--families", fastFamilies, "--name", "flowers", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	res := decodeAutoML(t, out)
	if res.ExperimentID == 0 || res.Model.Ref != "flowers@1" || res.Task != "multiclass" || res.Metric != "accuracy" ||
		res.Greater == nil || !*res.Greater || res.Score == nil || *res.Score < 0.9 || res.Validation == "" {
		t.Errorf("result: %+v", res)
	}
	if len(res.Leaderboard) != 5 || trialsOf(res.Leaderboard) != 4 {
		t.Fatalf("leaderboard has %d rows (%d trials), want 4 trials and the final model", len(res.Leaderboard), trialsOf(res.Leaderboard))
	}
	for i, row := range res.Leaderboard {
		for _, k := range []string{"rank", "run_id", "trial", "algorithm", "params", "score", "fit_seconds", "predict_micros", "cpu_seconds", "status"} {
			if _, ok := row[k]; !ok {
				t.Errorf("leaderboard row %d lacks %q: %v", i, k, row)
			}
		}
	}
	// The live leaderboard went to stderr, a line per trial.
	if n := strings.Count(stderr, "\ntrial "); n < 3 || !strings.Contains(stderr, "best #") {
		t.Errorf("stderr has %d trial lines:\n%s", n, stderr)
	}

	code, runsOut, stderr := run(t, "--workspace", ws, "runs", "--experiment", strconv.FormatInt(res.ExperimentID, 10), "--json")
	var runs []app.RunInfo
	if code != 0 || json.Unmarshal([]byte(runsOut), &runs) != nil || len(runs) != 5 {
		t.Fatalf("runs --experiment: exit %d, %d runs: %s%s", code, len(runs), runsOut, stderr)
	}
	for _, r := range runs {
		if r.Experiment != res.ExperimentID || r.Metric != "accuracy" {
			t.Errorf("run %+v", r)
		}
	}

	// Without --json: a table on stdout, the registered model named.
	code, out, stderr = run(t, "--workspace", ws, "automl", "--data", "train", "--target", "species", "--trials", "3",
		"--families", fastFamilies, "--name", "flowers")
	if code != 0 || !strings.Contains(out, "RANK") || !strings.Contains(out, "registered flowers@2") || !strings.Contains(out, "final") {
		t.Errorf("exit %d:\n%s\n%s", code, out, stderr)
	}
}

func TestAutoMLUsageErrors(t *testing.T) {
	ws := newWorkspace(t)
	dir := t.TempDir()
	var constant, single, flat strings.Builder
	constant.WriteString("x,y\n")
	single.WriteString("x,y\n")
	flat.WriteString("x,z,y\n")
	for i := range 40 {
		fmt.Fprintf(&constant, "%d,yes\n", i)
		fmt.Fprintf(&flat, "1,a,%s\n", []string{"p", "q"}[i%2])
	}
	for i := range 3 {
		fmt.Fprintf(&single, "%d,%s\n", i, []string{"p", "q"}[i%2])
	}
	constantCSV := writeFile(t, dir, "constant.csv", []byte(constant.String()))
	fewCSV := writeFile(t, dir, "few.csv", []byte(single.String()))
	flatCSV := writeFile(t, dir, "flat.csv", []byte(flat.String()))
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no data", []string{"--target", "species"}, "--data"},
		{"no target", []string{"--data", irisTrain}, "--target"},
		{"zero budget", []string{"--data", irisTrain, "--target", "species", "--time", "0s"}, "above 0"},
		{"negative budget", []string{"--data", irisTrain, "--target", "species", "--time", "-5s"}, "above 0"},
		{"bad budget", []string{"--data", irisTrain, "--target", "species", "--time", "soon"}, "not a duration"},
		{"zero trials", []string{"--data", irisTrain, "--target", "species", "--trials", "0"}, "at least 1"},
		{"one fold", []string{"--data", irisTrain, "--target", "species", "--folds", "1"}, "--folds"},
		{"bad task", []string{"--data", irisTrain, "--target", "species", "--task", "ranking"}, "--task"},
		{"positional", []string{"iris", "--target", "species"}, "flags only"},
		{"unknown target", []string{"--data", irisTrain, "--target", "colour", "--trials", "1"}, `no column "colour"`},
		{"unknown family", []string{"--data", irisTrain, "--target", "species", "--trials", "1", "--families", "svm"}, "svm"},
		{"unknown metric", []string{"--data", irisTrain, "--target", "species", "--trials", "1", "--metric", "r2"}, "r2"},
		{"constant target", []string{"--data", constantCSV, "--target", "y", "--trials", "1"}, "constant"},
		{"fewer rows than folds", []string{"--data", fewCSV, "--target", "y", "--trials", "1", "--folds", "5"}, "fewer than the 5 folds"},
		{"all features constant", []string{"--data", flatCSV, "--target", "y", "--trials", "1"}, "every feature column is constant"},
		{"resume with data", []string{"--resume", "1", "--data", irisTrain}, "--resume"},
		{"resume nothing", []string{"--resume", "99"}, "no experiment 99"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"--workspace", ws, "automl"}, c.args...)...)
			if code != ExitUsage || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 mentioning %q", code, stderr, c.want)
			}
		})
	}
}

// A class with a single example cannot be stratified: the search falls back
// to plain folds and says so.
func TestAutoMLOneExampleClass(t *testing.T) {
	ws := newWorkspace(t)
	var b strings.Builder
	b.WriteString("x,y\n")
	for i := range 60 {
		label := []string{"p", "q"}[i%2]
		if i == 7 {
			label = "r"
		}
		fmt.Fprintf(&b, "%d,%s\n", i, label)
	}
	path := writeFile(t, t.TempDir(), "rare.csv", []byte(b.String()))
	code, out, stderr := run(t, "--workspace", ws, "automl", "--data", path, "--target", "y", "--trials", "2", "--families", "linear")
	if code != 0 || !strings.Contains(out, "one example") {
		t.Errorf("exit %d:\n%s\n%s", code, out, stderr)
	}
}

func TestAutoMLCtrlCKeepsTrialsAndSaysHowToResume(t *testing.T) {
	ws := newWorkspace(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb bytes.Buffer
	stderr := &cancelOnWrite{w: &errb, marker: "trial   1 ", cancel: cancel}
	code := Main(ctx, []string{"--workspace", ws, "automl", "--data", irisTrain, "--target", "species", "--trials", "40",
		"--families", fastFamilies}, Env{Stdout: &out, Stderr: stderr})
	if code != ExitFailure || !strings.Contains(errb.String(), "--resume 1") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if list := modelsJSON(t, ws); len(list) != 0 {
		t.Errorf("a stopped search registered %+v", list)
	}
	code, runsOut, _ := run(t, "--workspace", ws, "runs", "--experiment", "1", "--json")
	var runs []app.RunInfo
	if code != 0 || json.Unmarshal([]byte(runsOut), &runs) != nil || len(runs) < 2 {
		t.Errorf("runs after Ctrl-C: %s", runsOut)
	}
}

// TestAutoMLResumeAfterKill kills (SIGKILL) a CLI process in the middle of a
// search, then resumes the search: the trials finished before the kill are
// kept, not run again, and the search ends with its full trial count.
func TestAutoMLResumeAfterKill(t *testing.T) {
	ws := newWorkspace(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$", "--", "--workspace", ws, "automl", "--data", irisTrain,
		"--target", "species", "--trials", "10", "--families", fastFamilies, "--seed", "9")
	cmd.Env = append(os.Environ(), "MODELSMITH_TEST_CHILD=trial   3 ")
	killWhenBlocked(t, cmd, "its fourth trial")

	// The finished trials are in the workspace; the search is interrupted.
	code, runsOut, stderrText := run(t, "--workspace", ws, "runs", "--experiment", "1", "--json")
	var before []app.RunInfo
	if code != 0 || json.Unmarshal([]byte(runsOut), &before) != nil || len(before) < 4 {
		t.Fatalf("runs after the kill: %s %s", runsOut, stderrText)
	}
	s, err := app.Open(context.Background(), app.Options{Path: ws}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exps, err := s.Experiments(context.Background(), 0)
	s.Close()
	if err != nil || len(exps) != 1 || exps[0].Status != "interrupted" {
		t.Fatalf("experiments after the kill: %+v, %v", exps, err)
	}
	if list := modelsJSON(t, ws); len(list) != 0 {
		t.Errorf("a killed search registered %+v", list)
	}
	if code, out, _ := run(t, "--workspace", ws, "experiments"); code != 0 || !strings.Contains(out, "interrupted") || !strings.Contains(out, "--resume") {
		t.Errorf("experiments after the kill: exit %d\n%s", code, out)
	}

	code, out, errText := run(t, "--workspace", ws, "automl", "--resume", "1", "--json")
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errText)
	}
	res := decodeAutoML(t, out)
	if res.ExperimentID != 1 || res.Model.Ref != "train-automl@1" || trialsOf(res.Leaderboard) != 10 {
		t.Errorf("resumed search: experiment %d, model %s, %d trials; want 1, train-automl@1, 10",
			res.ExperimentID, res.Model.Ref, trialsOf(res.Leaderboard))
	}
	// The trials from before the kill are the same runs, not re-run.
	kept := map[float64]bool{}
	for _, row := range res.Leaderboard {
		kept[row["run_id"].(float64)] = true
	}
	for _, r := range before {
		if !kept[float64(r.ID)] {
			t.Errorf("run %d from before the kill is not on the resumed leaderboard", r.ID)
		}
	}
}

// FuzzBudgetFlag: --time either parses to a duration that prints and parses
// back to itself, or is refused; never a panic.
func FuzzBudgetFlag(f *testing.F) {
	for _, s := range []string{"60s", "2m", "90", "1.5", "-5s", "0", "soon", "1e400", "NaN", "1h2m3.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b budgetFlag
		if err := b.Set(s); err != nil {
			if b.set {
				t.Fatalf("%q: refused but marked set", s)
			}
			return
		}
		var again budgetFlag
		if err := again.Set(b.String()); err != nil || again.d != b.d {
			t.Fatalf("%q → %v → %q → %v, %v", s, b.d, b.String(), again.d, err)
		}
	})
}

// TestModelShowAutoMLCard registers a model by AutoML and checks that model
// show prints the importance and the ensemble its card stores.
func TestModelShowAutoMLCard(t *testing.T) {
	ws := newWorkspace(t)
	if code, _, stderr := run(t, "--workspace", ws, "automl", "--data", irisTrain, "--target", "species", "--trials", "3",
		"--families", fastFamilies, "--name", "flowers", "--json"); code != 0 {
		t.Fatalf("automl: exit %d: %s", code, stderr)
	}
	code, out, stderr := run(t, "--workspace", ws, "model", "show", "flowers@1", "--json")
	var m app.ModelInfo
	if code != 0 || json.Unmarshal([]byte(out), &m) != nil {
		t.Fatalf("model show --json: exit %d: %s%s", code, out, stderr)
	}
	imp, ok := app.CardImportance(m.Card)
	if !ok || len(imp) != 4 {
		t.Fatalf("the card's importance: %v (%v)", m.Card["importance"], ok)
	}
	members, ok := app.CardEnsemble(m.Card)
	if !ok {
		t.Fatalf("the card's ensemble: %v", m.Card["ensemble"])
	}
	code, out, stderr = run(t, "--workspace", ws, "model", "show", "flowers@1")
	if code != 0 || !strings.Contains(out, "permutation importance (top 4 of 4 features):\n") {
		t.Fatalf("model show: exit %d:\n%s%s", code, out, stderr)
	}
	// The features stand in the order of their importance, with its value.
	at := 0
	for _, fi := range imp {
		i := strings.Index(out[at:], "  "+fi.Feature+" ")
		if i < 0 {
			t.Fatalf("feature %s (after offset %d) missing or out of order:\n%s", fi.Feature, at, out)
		}
		line, _, _ := strings.Cut(out[at+i:], "\n")
		if !strings.Contains(line, " "+app.FormatNumber(fi.Mean)+" ") {
			t.Errorf("the line of %s lacks its importance %s: %q", fi.Feature, app.FormatNumber(fi.Mean), line)
		}
		at += i + len(line)
	}
	if len(members) > 0 != strings.Contains(out, "ensemble of ") {
		t.Errorf("the card lists %d members; model show:\n%s", len(members), out)
	}
	for _, mb := range members {
		if !strings.Contains(out, fmt.Sprintf("  trial %d ", mb.Trial)) {
			t.Errorf("member trial %d missing:\n%s", mb.Trial, out)
		}
	}
}

// TestPrintCardExtras prints a card with more features than model show
// lists and an ensemble, and one with neither.
func TestPrintCardExtras(t *testing.T) {
	var imp []any
	for i := range 12 {
		imp = append(imp, map[string]any{"feature": fmt.Sprintf("f%02d", i), "mean": float64(i) / 100, "std": 0.001})
	}
	card := map[string]any{"importance": imp, "ensemble": []any{
		map[string]any{"trial": 3.0, "weight": 0.75, "algorithm": "gbdt", "run_id": 8.0},
		map[string]any{"trial": 11.0, "weight": 0.25, "algorithm": "linear", "run_id": 16.0},
	}}
	var b strings.Builder
	printCardExtras(&b, card)
	want := "permutation importance (top 10 of 12 features):\n" +
		"  f11  0.11  ± 0.001\n  f10  0.1   ± 0.001\n  f09  0.09  ± 0.001\n  f08  0.08  ± 0.001\n  f07  0.07  ± 0.001\n" +
		"  f06  0.06  ± 0.001\n  f05  0.05  ± 0.001\n  f04  0.04  ± 0.001\n  f03  0.03  ± 0.001\n  f02  0.02  ± 0.001\n" +
		"ensemble of 2 members:\n  trial 3   gbdt    weight 0.75\n  trial 11  linear  weight 0.25\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printCardExtras(&b, map[string]any{"target": "y", "ensemble": nil})
	if b.String() != "" {
		t.Errorf("a card without importance or ensemble printed %q", b.String())
	}
}
