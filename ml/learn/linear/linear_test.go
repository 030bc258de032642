package linear

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"modelsmith/ml/learn"
)

func fit(t *testing.T, set map[string]string, d learn.Dataset, opts learn.Options) learn.Predictor {
	t.Helper()
	v, err := Spec.Values(set)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Spec.New(v)
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.Fit(context.Background(), d, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestScores checks the families on real data against bars scikit-learn
// reaches with the same models. Run: go test ./ml/learn/linear -run TestScores -v
func TestScores(t *testing.T) {
	tests := []struct {
		name, data string
		set        map[string]string
		metric     string
		min        float64
	}{
		{"softmax on iris", "iris", nil, "accuracy", 0.9},
		{"logistic on breast cancer", "breast_cancer", nil, "auc", 0.99},
		{"l1 logistic on breast cancer", "breast_cancer", map[string]string{"penalty": "l1"}, "auc", 0.99},
		{"l1 softmax on iris", "iris", map[string]string{"penalty": "l1"}, "accuracy", 0.9},
		{"ridge on diabetes", "diabetes", nil, "r2", 0.44},
		{"lasso on diabetes", "diabetes", map[string]string{"penalty": "l1"}, "r2", 0.44},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			train, test := load(t, tc.data)
			p := fit(t, tc.set, train, learn.Options{})
			out := predict(p, test.X)
			var got float64
			switch tc.metric {
			case "accuracy":
				checkProbabilities(t, out, train.Classes)
				got = accuracy(out, train.Classes, test.Y)
			case "auc":
				checkProbabilities(t, out, 2)
				got = auc(out, test.Y)
			case "r2":
				got = r2(out, test.Y)
			}
			t.Logf("%s %s = %.4f", tc.data, tc.metric, got)
			if got < tc.min {
				t.Errorf("%s = %.4f, want ≥ %.2f", tc.metric, got, tc.min)
			}
		})
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
	tests := []struct {
		name  string
		edit  func(d *learn.Dataset)
		wants string
	}{
		{"categorical feature", func(d *learn.Dataset) {
			d.X.Cols[1] = learn.Feature{Name: "x", Codes: []int32{0, 1, 0, 1}, Levels: 2}
		}, `linear: feature "x" is categorical; encode it first`},
		{"missing value", func(d *learn.Dataset) { d.X.Cols[1].Num[2] = math.NaN() }, `linear: feature "x" has missing values; impute first`},
		{"infinite value", func(d *learn.Dataset) { d.X.Cols[1].Num[2] = math.Inf(1) }, `linear: feature "x" is infinite`},
		{"label out of range", func(d *learn.Dataset) { d.Y[0] = 2 }, "linear: learn: target of row 1"},
		{"negative weight", func(d *learn.Dataset) { d.W = []float64{1, -1, 1, 1} }, "linear: weight of row 2"},
		{"no rows", func(d *learn.Dataset) { d.X = &learn.Features{} }, "linear: learn: no features"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := good()
			tc.edit(&d)
			l, _ := Spec.New(nil)
			_, err := l.Fit(context.Background(), d, learn.Options{})
			if err == nil || !strings.Contains(err.Error(), tc.wants) {
				t.Fatalf("got %v, want an error containing %q", err, tc.wants)
			}
		})
	}
}

// TestDeterminism fits twice, with different thread counts, and wants the
// same bytes: partial sums must be merged in an order independent of threads.
func TestDeterminism(t *testing.T) {
	for _, name := range []string{"iris", "breast_cancer", "diabetes"} {
		for _, pen := range []string{"l2", "l1"} {
			t.Run(name+" "+pen, func(t *testing.T) {
				train, _ := load(t, name)
				set := map[string]string{"penalty": pen}
				a, _ := fit(t, set, train, learn.Options{Threads: 1}).MarshalBinary()
				b, _ := fit(t, set, train, learn.Options{Threads: 7}).MarshalBinary()
				if !bytes.Equal(a, b) {
					t.Fatal("two fits gave different models")
				}
			})
		}
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, name := range []string{"iris", "breast_cancer", "diabetes"} {
		t.Run(name, func(t *testing.T) {
			train, test := load(t, name)
			p := fit(t, nil, train, learn.Options{})
			b, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			q, err := Spec.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if q.Family() != "linear" || q.Outputs() != p.Outputs() {
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

func TestDecodeRejects(t *testing.T) {
	train, _ := load(t, "iris")
	good, _ := fit(t, nil, train, learn.Options{}).MarshalBinary()
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"wrong magic", []byte("XXXX")},
		{"truncated", good[:len(good)-3]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"future version", append([]byte("MSLN\x09\x00\x00\x00\x00\x00\x00\x00"), good[12:]...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.b); err == nil || !strings.HasPrefix(err.Error(), "linear: ") {
				t.Fatalf("got %v, want a linear: error", err)
			}
		})
	}
}

// synthetic is a larger classification problem, slow enough to cancel.
func synthetic(rows, cols, classes int) learn.Dataset {
	r := rand.New(rand.NewPCG(1, 2))
	d := learn.Dataset{X: &learn.Features{Rows: rows}, Y: make([]float64, rows), Classes: classes}
	for j := range cols {
		c := make([]float64, rows)
		for i := range c {
			c[i] = r.NormFloat64()
		}
		d.X.Cols = append(d.X.Cols, learn.Feature{Name: "f" + string(rune('a'+j%26)), Num: c})
	}
	for i := range rows {
		s := d.X.Cols[0].Num[i] + 0.5*d.X.Cols[1].Num[i] + r.NormFloat64()
		d.Y[i] = float64(min(classes-1, max(0, int(s+float64(classes)/2))))
	}
	return d
}

func TestCancel(t *testing.T) {
	d := synthetic(20000, 20, 4)
	for _, pen := range []string{"l2", "l1"} {
		t.Run("mid-fit "+pen, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cancelled time.Time
			l, _ := Spec.New(map[string]string{"penalty": pen, "max_iter": "100000", "tol": "0"})
			_, err := l.Fit(ctx, d, learn.Options{Progress: func(it learn.Iteration) {
				if it.Step == 2 {
					cancelled = time.Now()
					cancel()
				}
			}})
			if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "linear: ") {
				t.Fatalf("got %v, want a linear: error wrapping context.Canceled", err)
			}
			if cancelled.IsZero() {
				t.Fatal("progress was never reported")
			}
			if el := time.Since(cancelled); el > time.Second {
				t.Fatalf("returned %v after cancel", el)
			}
		})
	}
	t.Run("before fit", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		l, _ := Spec.New(nil)
		if _, err := l.Fit(ctx, d, learn.Options{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestProgress(t *testing.T) {
	tests := []struct {
		data, pen, metric string
	}{
		{"breast_cancer", "l2", "logloss"},
		{"iris", "l1", "logloss"},
		{"diabetes", "l2", "rmse"},
		{"diabetes", "l1", "rmse"},
	}
	for _, tc := range tests {
		t.Run(tc.data+" "+tc.pen, func(t *testing.T) {
			train, test := load(t, tc.data)
			var its []learn.Iteration
			fit(t, map[string]string{"penalty": tc.pen}, train, learn.Options{Valid: &test, Progress: func(it learn.Iteration) { its = append(its, it) }})
			if len(its) == 0 {
				t.Fatal("no progress")
			}
			last := its[len(its)-1]
			if last.Metric != tc.metric || math.IsNaN(last.Loss) || math.IsNaN(last.ValidLoss) || last.Step != len(its) {
				t.Fatalf("last iteration %+v of %d", last, len(its))
			}
			if first := its[0]; tc.metric == "logloss" && !(last.Loss < first.Loss) {
				t.Fatalf("loss went from %v to %v", first.Loss, last.Loss)
			}
		})
	}
}

func TestPredictMissingAndConcurrent(t *testing.T) {
	train, test := load(t, "iris")
	p := fit(t, nil, train, learn.Options{})
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
	holes := &learn.Features{Rows: 1, Cols: []learn.Feature{
		{Name: "a", Num: []float64{math.NaN()}}, {Name: "b", Codes: []int32{0}, Levels: 1},
		{Name: "c", Num: []float64{1}}, {Name: "d", Num: []float64{math.NaN()}},
	}}
	checkProbabilities(t, predict(p, holes), 3)
}

func TestSpec(t *testing.T) {
	v, err := Spec.Values(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"C": "1", "alpha": "1", "penalty": "l2", "max_iter": "200", "tol": "0.0001"} {
		if v[name] != want {
			t.Errorf("default %s = %q, want %q", name, v[name], want)
		}
	}
	if _, err := Spec.New(map[string]string{"penalty": "l3"}); !errors.Is(err, learn.ErrParam) {
		t.Errorf("penalty=l3: got %v", err)
	}
	if _, err := Spec.New(map[string]string{"C": "0"}); !errors.Is(err, learn.ErrParam) {
		t.Errorf("C=0: got %v", err)
	}
}
