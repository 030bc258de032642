package onnx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/learn/learntest"
	"modelsmith/ml/model"
	"modelsmith/ml/prep"
)

// ortDir is tools/ort, where scripts/setup.sh installs onnxruntime-node.
func ortDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "tools", "ort")
}

// needORT returns the node binary and the runner script, or skips the test
// when they are missing — and fails it under CI, where they must be there.
func needORT(t *testing.T) (nodeBin, script string) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("onnxruntime is needed under CI: %s (run scripts/setup.sh)", why)
		}
		t.Skipf("skipping: %s (run scripts/setup.sh)", why)
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	dir := ortDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "onnxruntime-node", "package.json")); err != nil {
		missing("onnxruntime-node is not installed in " + dir)
	}
	return nodeBin, filepath.Join(dir, "run.js")
}

// ortInput is one model input as run.js reads it.
type ortInput struct {
	Type string `json:"type"`
	Data []any  `json:"data"`
}

type ortOutput struct {
	Type string `json:"type"`
	Dims []int  `json:"dims"`
	Data []any  `json:"data"`
}

// runORT runs the model on the named inputs in onnxruntime-node.
func runORT(t *testing.T, modelBytes []byte, inputs map[string]ortInput) map[string]ortOutput {
	t.Helper()
	nodeBin, script := needORT(t)
	dir := t.TempDir()
	modelPath := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(modelPath, modelBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	req, err := json.Marshal(map[string]any{"inputs": inputs})
	if err != nil {
		t.Fatal(err)
	}
	inPath, outPath := filepath.Join(dir, "in.json"), filepath.Join(dir, "out.json")
	if err := os.WriteFile(inPath, req, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nodeBin, script, modelPath, inPath, outPath)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("onnxruntime: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]ortOutput
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	return res
}

// frameInputs writes the pipeline's input columns of f as run.js inputs:
// numbers (null for NaN) or strings ("" for missing).
func frameInputs(t *testing.T, p *model.Pipeline, f *data.Frame) map[string]ortInput {
	t.Helper()
	out := map[string]ortInput{}
	for _, in := range p.Inputs {
		col := f.Column(in.Name)
		if col == nil {
			t.Fatalf("test frame has no column %q", in.Name)
		}
		vals := make([]any, f.Rows())
		switch in.Type {
		case data.Numeric.String(), data.Datetime.String():
			if col.Kind != data.Numeric && col.Kind != data.Datetime {
				t.Fatalf("column %q is %v in the test frame, %s in the pipeline", in.Name, col.Kind, in.Type)
			}
			for i, v := range col.Num {
				vals[i] = jsonNumber(v)
			}
			out[in.Name] = ortInput{Type: "double", Data: vals}
		default:
			for i := range vals {
				s := ""
				if !col.IsMissing(i) {
					s = col.Format(i)
				}
				vals[i] = s
			}
			out[in.Name] = ortInput{Type: "string", Data: vals}
		}
	}
	return out
}

// jsonNumber is v as run.js reads it: null for NaN, "Infinity" or
// "-Infinity", else the number.
func jsonNumber(v float64) any {
	switch {
	case math.IsNaN(v):
		return nil
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return v
}

func floats(t *testing.T, o ortOutput) []float64 {
	t.Helper()
	out := make([]float64, len(o.Data))
	for i, v := range o.Data {
		switch x := v.(type) {
		case float64:
			out[i] = x
		case nil:
			out[i] = math.NaN()
		default:
			t.Fatalf("output value %v (%T) is not a number", v, v)
		}
	}
	return out
}

// delta is what one comparison found.
type delta struct {
	MaxProb, MaxValue float64 // max |Δ probability|; max |Δ value| / max(1, |value|)
	Labels, Rows      int     // identical labels of Rows
}

// compare runs the exported pipeline in onnxruntime on f and compares it
// with Pipeline.Predict: labels identical, |Δp| ≤ 1e-5, regression |Δ| ≤
// 1e-5 × max(1, |value|).
func compare(t *testing.T, p *model.Pipeline, f *data.Frame) delta {
	t.Helper()
	want, err := p.Predict(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Export(p)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	checkDecodes(t, b)
	got := runORT(t, b, frameInputs(t, p, f))
	n, k := f.Rows(), p.Outputs()
	d := delta{Rows: n}
	if p.Task == model.Regression {
		o, ok := got[OutVariable]
		if !ok {
			t.Fatalf("no %q output: %v", OutVariable, keys(got))
		}
		if o.Type != "float32" || len(o.Dims) != 2 || o.Dims[0] != n || o.Dims[1] != 1 {
			t.Fatalf("%s: type %s dims %v, want float32 [%d 1]", OutVariable, o.Type, o.Dims, n)
		}
		v := floats(t, o)
		for i := range n {
			e := math.Abs(v[i]-want[i]) / math.Max(1, math.Abs(want[i]))
			if !(e <= 1e-5) {
				t.Errorf("row %d: onnx %v, app %v", i, v[i], want[i])
			}
			d.MaxValue = math.Max(d.MaxValue, e)
		}
		return d
	}
	po, ok := got[OutProbabilities]
	if !ok {
		t.Fatalf("no %q output: %v", OutProbabilities, keys(got))
	}
	if po.Type != "float32" || len(po.Dims) != 2 || po.Dims[0] != n || po.Dims[1] != k {
		t.Fatalf("%s: type %s dims %v, want float32 [%d %d]", OutProbabilities, po.Type, po.Dims, n, k)
	}
	prob := floats(t, po)
	lo := got[OutLabel]
	if len(lo.Dims) != 1 || lo.Dims[0] != n {
		t.Fatalf("%s: dims %v, want [%d]", OutLabel, lo.Dims, n)
	}
	bad := 0
	for i := range n {
		best := 0
		for c := range k {
			e := math.Abs(prob[i*k+c] - want[i*k+c])
			if !(e <= 1e-5) && bad < 5 {
				bad++
				t.Errorf("row %d class %d: onnx %v, app %v", i, c, prob[i*k+c], want[i*k+c])
			}
			d.MaxProb = math.Max(d.MaxProb, e)
			if want[i*k+c] > want[i*k+best] {
				best = c
			}
		}
		label := fmt.Sprint(lo.Data[i])
		if label == p.Classes[best] {
			d.Labels++
		} else if bad < 5 {
			bad++
			t.Errorf("row %d: onnx label %q, app %q", i, label, p.Classes[best])
		}
	}
	if d.Labels != n {
		t.Errorf("%d of %d labels differ", n-d.Labels, n)
	}
	return d
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// split is a dataset's train and test frames.
type split struct {
	train, test *data.Frame
	target      string
	features    []string
}

var (
	splitsMu sync.Mutex
	splits   = map[string]*split{}
)

// loadSplit reads ../shared/datasets/<name>, keeping at most trainRows and
// testRows (the first ones: the files are already shuffled). It skips the
// test when the data are absent.
func loadSplit(t testing.TB, name string, trainRows, testRows int) *split {
	t.Helper()
	key := fmt.Sprint(name, trainRows, testRows)
	splitsMu.Lock()
	defer splitsMu.Unlock()
	if s, ok := splits[key]; ok {
		return s
	}
	dir := filepath.Join(learntest.Datasets(), name)
	raw, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		t.Skipf("data set %s not available: %v", name, err)
	}
	var meta struct {
		Target string `json:"target"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	read := func(base string, rows int) *data.Frame {
		path := filepath.Join(dir, base+".csv")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			path += ".gz"
		}
		f, err := data.ReadFile(context.Background(), path, data.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Rows() > rows {
			idx := make([]int, rows)
			for i := range idx {
				idx[i] = i
			}
			f = f.Take(idx)
		}
		return f
	}
	s := &split{train: read("train", trainRows), test: read("test", testRows), target: meta.Target}
	for _, c := range s.train.Columns {
		if c.Name != meta.Target {
			s.features = append(s.features, c.Name)
		}
	}
	splits[key] = s
	return s
}

// trainPipeline fits prep and learner on the split's train frame as the app
// does (app/train.go).
func trainPipeline(t testing.TB, s *split, task string, spec learn.Spec, set map[string]string, cfg prep.Config) *model.Pipeline {
	t.Helper()
	ctx := context.Background()
	y, classes, err := model.Labels(s.train.Column(s.target), task)
	if err != nil {
		t.Fatal(err)
	}
	nClasses := 0
	if task != model.Regression {
		nClasses = len(classes)
	}
	pr, X, err := prep.Fit(ctx, s.train, s.features, y, nClasses, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	values, err := spec.Values(set)
	if err != nil {
		t.Fatal(err)
	}
	l, err := spec.New(values)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := l.Fit(ctx, learn.Dataset{X: X, Y: y, Classes: nClasses}, learn.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &model.Pipeline{Inputs: model.InputsOf(pr), Target: s.target, Task: task, Classes: classes, Prep: pr,
		Predictor: pred, Meta: map[string]string{"algorithm": spec.Name}}
}

func inferTask(s *split) string { return model.InferTask(s.train.Column(s.target)) }
