package explain

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"modelsmith/ml/learn"
)

// synthetic builds rows where the binary label is x0 > 0, plus two noise
// features (one numeric, one categorical) the model below never reads.
func synthetic(n int) (*learn.Features, []float64) {
	r := rand.New(rand.NewPCG(1, 2))
	x0 := make([]float64, n)
	x1 := make([]float64, n)
	c := make([]int32, n)
	y := make([]float64, n)
	for i := range n {
		x0[i] = r.NormFloat64()
		x1[i] = r.NormFloat64()
		c[i] = int32(r.IntN(4))
		if x0[i] > 0 {
			y[i] = 1
		}
	}
	return &learn.Features{Rows: n, Cols: []learn.Feature{
		{Name: "noise", Num: x1},
		{Name: "color", Codes: c, Levels: 4},
		{Name: "signal", Num: x0},
	}}, y
}

// onlySignal is a binary classifier that reads only the feature named
// "signal": P(class 1) = sigmoid(4·signal).
func onlySignal(X *learn.Features, out []float64) {
	var s []float64
	for _, c := range X.Cols {
		if c.Name == "signal" {
			s = c.Num
		}
	}
	for i, v := range s {
		p := 1 / (1 + math.Exp(-4*v))
		out[2*i], out[2*i+1] = 1-p, p
	}
}

func TestPermutationFindsTheOnlyFeatureThatMatters(t *testing.T) {
	X, y := synthetic(500)
	for _, metric := range []string{"roc_auc", "log_loss", "accuracy"} {
		t.Run(metric, func(t *testing.T) {
			imp, err := Permutation(context.Background(), onlySignal, 2, X, y, 2, metric, 5, 42)
			if err != nil {
				t.Fatal(err)
			}
			if len(imp) != 3 || imp[0].Feature != "signal" {
				t.Fatalf("got %+v, want signal first", imp)
			}
			if imp[0].Mean <= 0.1 {
				t.Errorf("signal importance %v, want a clear drop", imp[0].Mean)
			}
			for _, f := range imp[1:] {
				if f.Mean != 0 || f.Std != 0 {
					t.Errorf("%s: importance %+v, want exactly 0 for an unused feature", f.Feature, f)
				}
			}
			// Ties keep column order.
			if imp[1].Feature != "noise" || imp[2].Feature != "color" {
				t.Errorf("unused features in order %s, %s; want noise, color", imp[1].Feature, imp[2].Feature)
			}
		})
	}
}

// codeModel is a regression model that reads only the categorical feature:
// prediction = code.
func codeModel(X *learn.Features, out []float64) {
	for i, c := range X.Cols[1].Codes {
		out[i] = float64(c)
	}
}

func TestPermutationShufflesCategoricalCodes(t *testing.T) {
	X, _ := synthetic(300)
	y := make([]float64, X.Rows)
	for i, c := range X.Cols[1].Codes {
		y[i] = float64(c)
	}
	imp, err := Permutation(context.Background(), codeModel, 1, X, y, 0, "rmse", 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if imp[0].Feature != "color" || imp[0].Mean <= 0.5 || imp[1].Mean != 0 {
		t.Errorf("got %+v, want color first with a large RMSE increase", imp)
	}
}

func TestPermutationIsDeterministic(t *testing.T) {
	X, y := synthetic(400)
	// A model that reads every feature, so that every importance depends on
	// its permutations.
	all := func(X *learn.Features, out []float64) {
		for i := range X.Rows {
			z := 3*X.Cols[2].Num[i] + X.Cols[0].Num[i] + 0.5*float64(X.Cols[1].Codes[i])
			p := 1 / (1 + math.Exp(-z))
			out[2*i], out[2*i+1] = 1-p, p
		}
	}
	run := func(seed uint64) []Importance {
		imp, err := Permutation(context.Background(), all, 2, X, y, 2, "log_loss", 4, seed)
		if err != nil {
			t.Fatal(err)
		}
		return imp
	}
	a, b := run(9), run(9)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("two runs with one seed differ: %+v vs %+v", a, b)
		}
	}
	if c := run(10); c[0] == a[0] && c[1] == a[1] && c[2] == a[2] {
		t.Errorf("another seed gave identical importances %+v", c)
	}
	if a[0].Feature != "signal" {
		t.Errorf("got %+v, want signal first", a)
	}
	// The input is left as it was.
	X2, _ := synthetic(400)
	for j := range X.Cols {
		for i := range X.Rows {
			if X.Cols[j].IsCategorical() && X.Cols[j].Codes[i] != X2.Cols[j].Codes[i] ||
				!X.Cols[j].IsCategorical() && X.Cols[j].Num[i] != X2.Cols[j].Num[i] {
				t.Fatalf("feature %s row %d was modified", X.Cols[j].Name, i)
			}
		}
	}
}

func TestPermutationStopsWhenCancelled(t *testing.T) {
	X, y := synthetic(200)
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	slow := func(X *learn.Features, out []float64) {
		calls.Add(1) // the baseline cancels; workers must then stop
		onlySignal(X, out)
		cancel()
	}
	_, err := Permutation(ctx, slow, 2, X, y, 2, "roc_auc", 50, 1)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "explain: ") {
		t.Fatalf("got %v, want a wrapped context.Canceled", err)
	}
	// Each worker may finish the permutation it was scoring, no more.
	if n := calls.Load(); n > 1+int32(len(X.Cols)) {
		t.Errorf("%d predictions after cancellation", n)
	}
}

func TestPermutationRejectsBadInput(t *testing.T) {
	X, y := synthetic(50)
	ctx := context.Background()
	tests := []struct {
		name    string
		outputs int
		y       []float64
		classes int
		metric  string
		repeats int
		errHas  string
	}{
		{"unknown metric", 2, y, 2, "auc", 1, "valid: roc_auc"},
		{"regression metric for classes", 2, y, 2, "rmse", 1, `unknown binary metric "rmse"`},
		{"wrong outputs", 1, y, 2, "roc_auc", 1, "1 outputs per row"},
		{"no repeats", 2, y, 2, "roc_auc", 0, "0 repeats"},
		{"short targets", 2, y[:10], 2, "roc_auc", 1, "10 targets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Permutation(ctx, onlySignal, tt.outputs, X, tt.y, tt.classes, tt.metric, tt.repeats, 1)
			if err == nil || !strings.Contains(err.Error(), tt.errHas) || !strings.HasPrefix(err.Error(), "explain: ") {
				t.Fatalf("got %v, want an error containing %q", err, tt.errHas)
			}
		})
	}
}

func TestPartialDependence(t *testing.T) {
	X, _ := synthetic(1000)
	// Regression: 2·signal + 10·code + noise; PD over signal must be
	// 2·grid + mean of the rest.
	model := func(X *learn.Features, out []float64) {
		for i := range X.Rows {
			out[i] = 2*X.Cols[2].Num[i] + 10*float64(X.Cols[1].Codes[i]) + X.Cols[0].Num[i]
		}
	}
	var rest float64
	for i := range X.Rows {
		rest += 10*float64(X.Cols[1].Codes[i]) + X.Cols[0].Num[i]
	}
	rest /= float64(X.Rows)

	t.Run("numeric", func(t *testing.T) {
		grid, mean, err := PartialDependence(context.Background(), model, 1, X, "signal", 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(grid) != 20 || len(mean) != 20 {
			t.Fatalf("grid of %d, means of %d; want 20", len(grid), len(mean))
		}
		for g := range grid {
			if g > 0 && grid[g] <= grid[g-1] {
				t.Fatalf("grid not increasing: %v", grid)
			}
			if want := 2*grid[g] + rest; math.Abs(mean[g][0]-want) > 1e-9 {
				t.Errorf("PD at %v = %v, want %v", grid[g], mean[g][0], want)
			}
		}
		// The grid spans roughly the 5th..95th percentile of a standard normal.
		if grid[0] < -2 || grid[0] > -1.3 || grid[19] > 2 || grid[19] < 1.3 {
			t.Errorf("grid from %v to %v, want about ±1.64", grid[0], grid[19])
		}
	})
	t.Run("categorical grid is the level codes", func(t *testing.T) {
		grid, mean, err := PartialDependence(context.Background(), model, 1, X, "color", 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(grid) != 4 {
			t.Fatalf("grid %v, want the 4 codes", grid)
		}
		for g := 1; g < 4; g++ {
			if d := mean[g][0] - mean[g-1][0]; math.Abs(d-10) > 1e-9 {
				t.Errorf("step %d→%d is %v, want 10", g-1, g, d)
			}
		}
	})
	t.Run("few distinct values are the grid", func(t *testing.T) {
		few := &learn.Features{Rows: 5, Cols: []learn.Feature{{Name: "x", Num: []float64{3, 1, math.NaN(), 3, 2}}}}
		grid, _, err := PartialDependence(context.Background(), func(X *learn.Features, out []float64) { copy(out, X.Cols[0].Num) }, 1, few, "x", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(grid) != 3 || grid[0] != 1 || grid[1] != 2 || grid[2] != 3 {
			t.Errorf("grid %v, want [1 2 3]", grid)
		}
	})
	t.Run("classification gives a mean per class", func(t *testing.T) {
		_, mean, err := PartialDependence(context.Background(), onlySignal, 2, X, "signal", 5)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mean {
			if len(m) != 2 || math.Abs(m[0]+m[1]-1) > 1e-12 {
				t.Errorf("means %v, want two probabilities summing to 1", m)
			}
		}
		if mean[0][1] >= mean[4][1] {
			t.Errorf("P(1) does not rise with signal: %v", mean)
		}
	})
	t.Run("errors", func(t *testing.T) {
		if _, _, err := PartialDependence(context.Background(), model, 1, X, "nope", 10); err == nil || !strings.HasPrefix(err.Error(), "explain: ") {
			t.Errorf("unknown feature: got %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := PartialDependence(ctx, model, 1, X, "signal", 10); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: got %v", err)
		}
	})
}

func TestPermutationStopsBetweenFeatures(t *testing.T) {
	const cols = 40
	r := rand.New(rand.NewPCG(3, 4))
	X := &learn.Features{Rows: 100}
	for j := range cols {
		v := make([]float64, X.Rows)
		for i := range v {
			v[i] = r.NormFloat64()
		}
		X.Cols = append(X.Cols, learn.Feature{Name: string(rune('a' + j%26)), Num: v})
	}
	y := make([]float64, X.Rows)
	for i := range y {
		y[i] = X.Cols[0].Num[i]
	}
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	model := func(X *learn.Features, out []float64) {
		if calls.Add(1) == 5 {
			cancel()
		}
		copy(out, X.Cols[0].Num)
	}
	_, err := Permutation(ctx, model, 1, X, y, 0, "mae", 3, 1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	// Without cancellation it would predict 1 + 40·3 times.
	if n := calls.Load(); n > 5+int32(runtime.GOMAXPROCS(0)) {
		t.Errorf("%d predictions; cancellation was not noticed between permutations", n)
	}
}
