package knn

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

// TestScores checks the model on real data. Run: go test ./ml/learn/knn -run TestScores -v
func TestScores(t *testing.T) {
	dist := map[string]string{"weights": "distance"}
	tests := []struct {
		name, data string
		set        map[string]string
		metric     string
		min        float64
	}{
		{"uniform vote on iris", "iris", nil, "accuracy", 0.9},
		{"distance vote on iris", "iris", dist, "accuracy", 0.9},
		{"uniform vote on breast cancer", "breast_cancer", nil, "auc", 0.97},
		{"distance vote on breast cancer", "breast_cancer", dist, "auc", 0.97},
		{"mean of 5 on diabetes", "diabetes", nil, "r2", 0.3},
		{"mean of 20 on diabetes", "diabetes", map[string]string{"n_neighbors": "20"}, "r2", 0.3},
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

func TestNeighbours(t *testing.T) {
	train := learn.Dataset{
		X: &learn.Features{Rows: 4, Cols: []learn.Feature{{Name: "x", Num: []float64{0, 1, 2, 3}}}},
		Y: []float64{0, 10, 20, 30},
	}
	tests := []struct {
		name    string
		set     map[string]string
		q, want float64
	}{
		{"uniform mean of two", map[string]string{"n_neighbors": "2"}, 1.4, 15},
		{"inverse-distance mean of two", map[string]string{"n_neighbors": "2", "weights": "distance"}, 1.4, (10/0.4 + 20/0.6) / (1/0.4 + 1/0.6)},
		{"exact match wins", map[string]string{"n_neighbors": "3", "weights": "distance"}, 1, 10},
		{"tie keeps the earlier row", map[string]string{"n_neighbors": "1"}, 1.5, 10},
		{"k above rows uses all", map[string]string{"n_neighbors": "10"}, 0, 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := fit(t, tc.set, train, learn.Options{})
			got := predict(p, &learn.Features{Rows: 1, Cols: []learn.Feature{{Name: "x", Num: []float64{tc.q}}}})
			if math.Abs(got[0]-tc.want) > 1e-9 {
				t.Fatalf("got %v, want %v", got[0], tc.want)
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
		}, `knn: feature "x" is categorical; encode it first`},
		{"missing value", func(d *learn.Dataset) { d.X.Cols[1].Num[2] = math.NaN() }, `knn: feature "x" has missing values; impute first`},
		{"infinite value", func(d *learn.Dataset) { d.X.Cols[1].Num[2] = math.Inf(-1) }, `knn: feature "x" is infinite`},
		{"label out of range", func(d *learn.Dataset) { d.Y[0] = 2 }, "knn: learn: target of row 1"},
		{"negative weight", func(d *learn.Dataset) { d.W = []float64{1, -1, 1, 1} }, "knn: weight of row 2"},
		{"zero weights", func(d *learn.Dataset) { d.W = []float64{0, 0, 0, 0} }, "knn: all row weights are zero"},
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

// TestDeterminism wants the same predictions whatever the thread count.
func TestDeterminism(t *testing.T) {
	for _, name := range []string{"breast_cancer", "diabetes"} {
		t.Run(name, func(t *testing.T) {
			train, test := load(t, name)
			set := map[string]string{"weights": "distance"}
			a := predict(fit(t, set, train, learn.Options{Threads: 1}), test.X)
			b := predict(fit(t, set, train, learn.Options{Threads: 7}), test.X)
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("prediction %d: %v with 1 thread, %v with 7", i, a[i], b[i])
				}
			}
		})
	}
}

func TestCodecRoundTrip(t *testing.T) {
	for _, name := range []string{"iris", "breast_cancer", "diabetes"} {
		t.Run(name, func(t *testing.T) {
			train, test := load(t, name)
			train.W = make([]float64, train.X.Rows)
			for i := range train.W {
				train.W[i] = float64(1 + i%3)
			}
			p := fit(t, map[string]string{"weights": "distance"}, train, learn.Options{})
			b, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			q, err := Spec.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if q.Family() != "knn" || q.Outputs() != p.Outputs() {
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
		{"wrong magic", []byte("MSLN")},
		{"truncated", good[:len(good)-3]},
		{"trailing bytes", append(append([]byte(nil), good...), 0)},
		{"future version", append([]byte("MSKN\x09\x00\x00\x00\x00\x00\x00\x00"), good[12:]...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.b); err == nil || !strings.HasPrefix(err.Error(), "knn: ") {
				t.Fatalf("got %v, want a knn: error", err)
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
			c[i] = r.NormFloat64()
		}
		d.X.Cols = append(d.X.Cols, learn.Feature{Name: "f", Num: c})
	}
	for i := range rows {
		s := d.X.Cols[0].Num[i] + r.NormFloat64()
		d.Y[i] = float64(min(max(classes, 2)-1, max(0, int(s+1))))
	}
	return d
}

// TestCancel cancels the validation pass, the only slow part of a fit.
func TestCancel(t *testing.T) {
	train, valid := synthetic(30000, 20, 3), synthetic(30000, 20, 3)
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	time.AfterFunc(50*time.Millisecond, cancel)
	l, _ := Spec.New(nil)
	_, err := l.Fit(ctx, train, learn.Options{Valid: &valid})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "knn: ") {
		t.Fatalf("got %v, want a knn: error wrapping context.Canceled", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("returned after %v", el)
	}
}

func TestProgress(t *testing.T) {
	for _, name := range []string{"iris", "diabetes"} {
		t.Run(name, func(t *testing.T) {
			train, test := load(t, name)
			var its []learn.Iteration
			fit(t, nil, train, learn.Options{Valid: &test, Progress: func(it learn.Iteration) { its = append(its, it) }})
			if len(its) != 1 || math.IsNaN(its[0].ValidLoss) || its[0].ValidLoss <= 0 {
				t.Fatalf("progress %+v", its)
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
	holes := &learn.Features{Rows: 2, Cols: []learn.Feature{
		{Name: "a", Num: []float64{math.NaN(), math.NaN()}}, {Name: "b", Codes: []int32{0, 0}, Levels: 1},
		{Name: "c", Num: []float64{1, math.NaN()}}, {Name: "d", Num: []float64{math.NaN(), math.NaN()}},
	}}
	checkProbabilities(t, predict(p, holes), 3)
}

func TestPredictAllocations(t *testing.T) {
	train, test := load(t, "breast_cancer")
	p := fit(t, nil, train, learn.Options{Threads: 1})
	out := make([]float64, test.X.Rows*2)
	per := testing.AllocsPerRun(10, func() { p.Predict(test.X, out) })
	if per > 10 {
		t.Fatalf("%v allocations for %d rows: want a fixed few per call", per, test.X.Rows)
	}
}

func TestSpec(t *testing.T) {
	v, err := Spec.Values(nil)
	if err != nil {
		t.Fatal(err)
	}
	if v["n_neighbors"] != "5" || v["weights"] != "uniform" {
		t.Fatalf("defaults %v", v)
	}
	if _, err := Spec.New(map[string]string{"n_neighbors": "0"}); !errors.Is(err, learn.ErrParam) {
		t.Errorf("n_neighbors=0: got %v", err)
	}
}

func BenchmarkPredict(b *testing.B) {
	train, test := synthetic(10000, 20, 3), synthetic(1000, 20, 3)
	p := fit(b, nil, train, learn.Options{})
	out := make([]float64, test.X.Rows*p.Outputs())
	b.ReportAllocs()
	for b.Loop() {
		p.Predict(test.X, out)
	}
}
