package bayes

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"modelsmith/ml/learn"
)

func fit(t testing.TB, set map[string]string, d learn.Dataset, opts learn.Options) learn.Predictor {
	t.Helper()
	l, err := Spec.New(set)
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.Fit(context.Background(), d, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScores checks the classifiers on real data. Run: go test ./ml/learn/bayes -run TestScores -v
func TestScores(t *testing.T) {
	multi := map[string]string{"kind": "multinomial"}
	tests := []struct {
		name, data string
		set        map[string]string
		metric     string
		min        float64
	}{
		{"gaussian on iris", "iris", nil, "accuracy", 0.9},
		{"gaussian on breast cancer", "breast_cancer", nil, "auc", 0.97},
		// The measurements are non-negative, so the multinomial model runs; it
		// is a weak fit for them and only has to beat chance clearly.
		{"multinomial on iris", "iris", multi, "accuracy", 0.6},
		{"multinomial on breast cancer", "breast_cancer", multi, "auc", 0.85},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, test := load(t, tc.data)
			p := fit(t, tc.set, train, learn.Options{})
			out := predict(p, test.X)
			checkProbabilities(t, out, train.Classes)
			var got float64
			switch tc.metric {
			case "accuracy":
				got = accuracy(out, train.Classes, test.Y)
			case "auc":
				got = auc(out, test.Y)
			}
			t.Logf("%s %s = %.4f", tc.data, tc.metric, got)
			if got < tc.min {
				t.Errorf("%s = %.4f, want ≥ %.2f", tc.metric, got, tc.min)
			}
		})
	}
}

// TestMultinomialCounts checks the smoothed estimates on a hand-made table.
func TestMultinomialCounts(t *testing.T) {
	d := learn.Dataset{
		X: &learn.Features{Rows: 3, Cols: []learn.Feature{
			{Name: "ball", Num: []float64{3, 0, 1}}, {Name: "vote", Num: []float64{0, 2, 0}},
		}},
		Y: []float64{0, 1, 0}, Classes: 2,
	}
	p := fit(t, map[string]string{"kind": "multinomial"}, d, learn.Options{}).(*Model)
	// class 0: counts ball 4, vote 0 → (4+1)/(4+2), (0+1)/(4+2); prior 2/3.
	want := []float64{math.Log(5.0 / 6), math.Log(1.0 / 6)}
	for j, w := range want {
		if math.Abs(p.a[j]-w) > 1e-12 {
			t.Fatalf("log P(feature %d | class 0) = %v, want %v", j, p.a[j], w)
		}
	}
	out := predict(p, &learn.Features{Rows: 1, Cols: []learn.Feature{{Num: []float64{1}}, {Num: []float64{1}}}})
	// class 1: ball (0+1)/(2+2), vote (2+1)/(2+2); prior 1/3.
	j0 := 2.0 / 3 * 5.0 / 6 * 1.0 / 6
	j1 := 1.0 / 3 * 1.0 / 4 * 3.0 / 4
	if math.Abs(out[1]-j1/(j0+j1)) > 1e-12 {
		t.Fatalf("P(class 1) = %v, want %v", out[1], j1/(j0+j1))
	}
}

func TestInputErrors(t *testing.T) {
	good := func() learn.Dataset {
		return learn.Dataset{
			X: &learn.Features{Rows: 4, Cols: []learn.Feature{
				{Name: "a", Num: []float64{1, 2, 3, 4}},
				{Name: "x", Num: []float64{0, 1, 0, 1}},
			}},
			Y: []float64{0, 1, 0, 1}, Classes: 2,
		}
	}
	multi := map[string]string{"kind": "multinomial"}
	tests := []struct {
		name  string
		set   map[string]string
		edit  func(d *learn.Dataset)
		wants string
	}{
		{"regression", nil, func(d *learn.Dataset) { d.Classes = 0 }, "bayes: naive Bayes is for classification, not regression"},
		{"categorical feature", nil, func(d *learn.Dataset) {
			d.X.Cols[1] = learn.Feature{Name: "x", Codes: []int32{0, 1, 0, 1}, Levels: 2}
		}, `bayes: feature "x" is categorical; encode it first`},
		{"missing value", nil, func(d *learn.Dataset) { d.X.Cols[1].Num[2] = math.NaN() }, `bayes: feature "x" has missing values; impute first`},
		{"negative count", multi, func(d *learn.Dataset) { d.X.Cols[1].Num[2] = -1 }, `bayes: feature "x" has negative values`},
		{"label out of range", nil, func(d *learn.Dataset) { d.Y[0] = 2 }, "bayes: learn: target of row 1"},
		{"negative weight", nil, func(d *learn.Dataset) { d.W = []float64{1, -1, 1, 1} }, "bayes: weight of row 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := good()
			tc.edit(&d)
			l, _ := Spec.New(tc.set)
			_, err := l.Fit(context.Background(), d, learn.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wants) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wants)
			}
		})
	}
	d := good()
	d.Classes = 0
	l, _ := Spec.New(nil)
	if _, err := l.Fit(context.Background(), d, learn.Options{}); !errors.Is(err, ErrRegression) {
		t.Fatalf("regression: got %v, want ErrRegression", err)
	}
}

func TestDeterminism(t *testing.T) {
	for _, kind := range []string{"gaussian", "multinomial"} {
		t.Run(kind, func(t *testing.T) {
			train, _ := load(t, "breast_cancer")
			set := map[string]string{"kind": kind}
			a, _ := fit(t, set, train, learn.Options{Threads: 1}).MarshalBinary()
			b, _ := fit(t, set, train, learn.Options{Threads: 7}).MarshalBinary()
			if !bytes.Equal(a, b) {
				t.Fatal("two fits gave different models")
			}
		})
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, kind := range []string{"gaussian", "multinomial"} {
		for _, name := range []string{"iris", "breast_cancer"} {
			t.Run(kind+" on "+name, func(t *testing.T) {
				train, test := load(t, name)
				p := fit(t, map[string]string{"kind": kind}, train, learn.Options{})
				b, err := p.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				q, err := Spec.Decode(b)
				if err != nil {
					t.Fatal(err)
				}
				if q.Family() != "bayes" || q.Outputs() != p.Outputs() {
					t.Fatalf("decoded %s with %d outputs", q.Family(), q.Outputs())
				}
				want, got := predict(p, test.X), predict(q, test.X)
				for i := range want {
					if want[i] != got[i] {
						t.Fatalf("prediction %d: %v after decoding, %v before", i, got[i], want[i])
					}
				}
				b2, _ := q.MarshalBinary()
				if !bytes.Equal(b, b2) {
					t.Fatal("re-encoding changed the bytes")
				}
			})
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	train, _ := load(t, "iris")
	good, _ := fit(t, nil, train, learn.Options{}).MarshalBinary()
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"wrong magic", []byte("MSKN")},
		{"truncated", good[:len(good)-3]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"future version", append([]byte("MSNB\x09\x00\x00\x00\x00\x00\x00\x00"), good[12:]...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.b); err == nil || !strings.HasPrefix(err.Error(), "bayes: ") {
				t.Fatalf("got %v, want a bayes: error", err)
			}
		})
	}
}

func synthetic(rows, cols, classes int) learn.Dataset {
	r := rand.New(rand.NewPCG(1, 2))
	d := learn.Dataset{X: &learn.Features{Rows: rows}, Y: make([]float64, rows), Classes: classes}
	for range cols {
		c := make([]float64, rows)
		for i := range c {
			c[i] = math.Abs(r.NormFloat64())
		}
		d.X.Cols = append(d.X.Cols, learn.Feature{Name: "f", Num: c})
	}
	for i := range rows {
		s := d.X.Cols[0].Num[i] + r.NormFloat64()
		d.Y[i] = float64(min(classes-1, max(0, int(s+1))))
	}
	return d
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, kind := range []string{"gaussian", "multinomial"} {
		t.Run(kind, func(t *testing.T) {
			l, _ := Spec.New(map[string]string{"kind": kind})
			_, err := l.Fit(ctx, synthetic(100, 3, 2), learn.Options{})
			if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "bayes: ") {
				t.Fatalf("got %v, want a bayes: error wrapping context.Canceled", err)
			}
		})
	}
}

func TestProgress(t *testing.T) {
	train, test := load(t, "iris")
	var its []learn.Iteration
	fit(t, nil, train, learn.Options{Valid: &test, Progress: func(it learn.Iteration) { its = append(its, it) }})
	if len(its) != 1 || its[0].Metric != "logloss" || !(its[0].Loss > 0) || !(its[0].ValidLoss > 0) {
		t.Fatalf("progress %+v", its)
	}
}

func TestPredictMissingAndConcurrent(t *testing.T) {
	train, test := load(t, "iris")
	for _, kind := range []string{"gaussian", "multinomial"} {
		t.Run(kind, func(t *testing.T) {
			p := fit(t, map[string]string{"kind": kind}, train, learn.Options{})
			want := predict(p, test.X)
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					got := predict(p, test.X)
					for i := range want {
						if got[i] != want[i] {
							t.Errorf("concurrent prediction %d differs", i)
							return
						}
					}
				})
			}
			wg.Wait()
			holes := &learn.Features{Rows: 2, Cols: []learn.Feature{
				{Name: "a", Num: []float64{math.NaN(), 1e300}}, {Name: "b", Codes: []int32{0, 0}, Levels: 1},
				{Name: "c", Num: []float64{-1, math.Inf(1)}}, {Name: "d", Num: []float64{math.NaN(), -1e300}},
			}}
			checkProbabilities(t, predict(p, holes), 3)
		})
	}
}

func TestSpec(t *testing.T) {
	v, err := Spec.Values(nil)
	if err != nil {
		t.Fatal(err)
	}
	if v["kind"] != "gaussian" || v["var_smoothing"] != "1e-9" || v["alpha"] != "1" {
		t.Fatalf("defaults %v", v)
	}
	if _, err := Spec.New(map[string]string{"alpha": "0"}); !errors.Is(err, learn.ErrParam) {
		t.Errorf("alpha=0: got %v", err)
	}
}
