// Package explain says what a trained model relies on, for any model that
// can predict: permutation importance (how much the score drops when one
// feature's values are shuffled) and partial dependence (how the average
// prediction moves as one feature is swept over a grid).
//
// Both treat the model as a black box, a predict function with the shape of
// learn.Predictor.Predict, so they work for every family and for ensembles;
// that function must be safe for concurrent use, as Predictor.Predict is,
// because features (or grid points) are evaluated in parallel.
//
// It is a library: it may import ml/learn and ml/metrics, and must not import
// storage, app, views or Fyne.
package explain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"modelsmith/ml/learn"
	"modelsmith/ml/metrics"
)

// PredictFunc writes outputs values per row of X into out, row-major, as
// learn.Predictor.Predict does.
type PredictFunc = func(X *learn.Features, out []float64)

// Importance is the permutation importance of one feature: the drop in
// score when its values are shuffled, averaged over repeats (Mean) with the
// spread between repeats (Std, population standard deviation as
// scikit-learn's permutation_importance reports). The drop is oriented so
// that positive always means the feature helps, for losses too; a feature
// the model ignores scores exactly 0, and a negative value means shuffling
// happened to help (noise, or a feature that hurts).
type Importance struct {
	Feature   string
	Mean, Std float64
}

// Permutation computes the permutation importance of every feature of X for
// the named metric (see metrics.Metrics) on targets y; classes is 0 for
// regression or the class count, and outputs the predictor's values per row.
//
// Numeric features are shuffled in Num, categorical ones in Codes. Each
// feature is shuffled repeats times with its own random stream derived from
// seed and the feature's position, so the result is the same for a seed
// whatever the number of cores and the order in which workers pick
// features. Features are scored in parallel; each worker shares X's columns
// and copies only the one it shuffles. ctx is checked between
// permutations; the result is sorted by Mean, largest first (ties keep X's
// column order).
func Permutation(ctx context.Context, predict PredictFunc, outputs int, X *learn.Features, y []float64, classes int, metric string, repeats int, seed uint64) ([]Importance, error) {
	if err := (learn.Dataset{X: X, Y: y, Classes: classes}).Validate(); err != nil {
		return nil, fmt.Errorf("explain: permutation importance: %w", err)
	}
	task, err := metrics.TaskOf(classes)
	if err != nil {
		return nil, fmt.Errorf("explain: permutation importance: %w", err)
	}
	m, err := metrics.Lookup(metric, task)
	if err != nil {
		return nil, fmt.Errorf("explain: permutation importance: %w", err)
	}
	if want := max(classes, 1); outputs != want {
		return nil, fmt.Errorf("explain: permutation importance: %d outputs per row, want %d for %s", outputs, want, task)
	}
	if repeats < 1 {
		return nil, fmt.Errorf("explain: permutation importance: %d repeats, want at least 1", repeats)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("explain: permutation importance: %w", err)
	}

	n := X.Rows
	out := make([]float64, n*outputs)
	predict(X, out)
	base, err := m.Score(y, out, classes)
	if err != nil {
		return nil, fmt.Errorf("explain: permutation importance: baseline score: %w", err)
	}

	drops := make([][]float64, len(X.Cols))
	err = forEach(ctx, len(X.Cols), func() func(j int) error {
		// Per worker: its own view of X (the Cols slice is copied, the
		// columns are shared) and its own buffers.
		view := &learn.Features{Rows: n, Cols: slices.Clone(X.Cols)}
		out := make([]float64, n*outputs)
		var num []float64
		var codes []int32
		return func(j int) error {
			orig := X.Cols[j]
			defer func() { view.Cols[j] = orig }()
			rng := rand.New(rand.NewPCG(seed, uint64(j)))
			d := make([]float64, repeats)
			for r := range repeats {
				if err := ctx.Err(); err != nil {
					return err
				}
				if orig.IsCategorical() {
					if codes == nil {
						codes = make([]int32, n)
					}
					copy(codes, orig.Codes)
					rng.Shuffle(n, func(a, b int) { codes[a], codes[b] = codes[b], codes[a] })
					view.Cols[j].Codes = codes
				} else {
					if num == nil {
						num = make([]float64, n)
					}
					copy(num, orig.Num)
					rng.Shuffle(n, func(a, b int) { num[a], num[b] = num[b], num[a] })
					view.Cols[j].Num = num
				}
				predict(view, out)
				s, err := m.Score(y, out, classes)
				if err != nil {
					return fmt.Errorf("feature %q shuffled: %w", orig.Name, err)
				}
				if m.HigherIsBetter {
					d[r] = base - s
				} else {
					d[r] = s - base
				}
			}
			drops[j] = d
			return nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("explain: permutation importance: %w", err)
	}

	imp := make([]Importance, len(X.Cols))
	for j, d := range drops {
		var mean, ss float64
		for _, x := range d {
			mean += x
		}
		mean /= float64(len(d))
		for _, x := range d {
			ss += (x - mean) * (x - mean)
		}
		imp[j] = Importance{Feature: X.Cols[j].Name, Mean: mean, Std: math.Sqrt(ss / float64(len(d)))}
	}
	sort.SliceStable(imp, func(a, b int) bool { return imp[a].Mean > imp[b].Mean })
	return imp, nil
}

// forEach runs task(i) for i in 0..n-1 on up to GOMAXPROCS workers; newWorker
// is called once per worker to set up its buffers. It stops handing out
// work at the first error or when ctx is done, and returns that error.
func forEach(ctx context.Context, n int, newWorker func() func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := newWorker()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := task(i); err != nil {
					cancel(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The cause is the first task error, or the parent's ctx.Err().
	return context.Cause(ctx)
}

// PartialDependence sweeps one feature over a grid and returns, for each
// grid value, the mean of each output over all rows of X with that feature
// set to the value (mean[g] has outputs values). Averaging over the real
// rows keeps the other features' joint distribution, which is what makes
// the curve the model's average response rather than its response at one
// made-up point.
//
// A numeric feature's grid is at most gridPoints quantiles of its observed
// values from the 5th to the 95th percentile (the tails hold too few rows to
// say much), or its distinct values if there are no more than gridPoints.
// Quantiles rather than an even spacing put the points where the data is.
// A categorical feature's grid is its level codes 0..Levels-1; gridPoints
// is then ignored.
//
// It costs one prediction over X per grid point; pass a sample of rows for
// large data. Grid points are evaluated in parallel and ctx is checked
// between them.
func PartialDependence(ctx context.Context, predict PredictFunc, outputs int, X *learn.Features, feature string, gridPoints int) (grid []float64, mean [][]float64, err error) {
	if X == nil || X.Rows == 0 {
		return nil, nil, fmt.Errorf("explain: partial dependence: no rows")
	}
	if outputs < 1 {
		return nil, nil, fmt.Errorf("explain: partial dependence: %d outputs per row, want at least 1", outputs)
	}
	j := slices.IndexFunc(X.Cols, func(c learn.Feature) bool { return c.Name == feature })
	if j < 0 {
		return nil, nil, fmt.Errorf("explain: partial dependence: no feature %q", feature)
	}
	col := X.Cols[j]
	if len(col.Num)+len(col.Codes) != X.Rows || (col.Num == nil) == (col.Codes == nil) {
		return nil, nil, fmt.Errorf("explain: partial dependence: feature %q must hold one numeric or one categorical value per row", feature)
	}
	if col.IsCategorical() {
		if col.Levels < 1 {
			return nil, nil, fmt.Errorf("explain: partial dependence: categorical feature %q has no levels", feature)
		}
		grid = make([]float64, col.Levels)
		for l := range grid {
			grid[l] = float64(l)
		}
	} else {
		if gridPoints < 2 {
			return nil, nil, fmt.Errorf("explain: partial dependence: %d grid points, want at least 2", gridPoints)
		}
		grid = quantileGrid(col.Num, gridPoints)
		if len(grid) == 0 {
			return nil, nil, fmt.Errorf("explain: partial dependence: feature %q has no values", feature)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("explain: partial dependence: %w", err)
	}

	n := X.Rows
	mean = make([][]float64, len(grid))
	err = forEach(ctx, len(grid), func() func(g int) error {
		view := &learn.Features{Rows: n, Cols: slices.Clone(X.Cols)}
		out := make([]float64, n*outputs)
		var num []float64
		var codes []int32
		if col.IsCategorical() {
			codes = make([]int32, n)
			view.Cols[j].Codes = codes
		} else {
			num = make([]float64, n)
			view.Cols[j].Num = num
		}
		return func(g int) error {
			if codes != nil {
				for i := range codes {
					codes[i] = int32(grid[g])
				}
			} else {
				for i := range num {
					num[i] = grid[g]
				}
			}
			predict(view, out)
			m := make([]float64, outputs)
			for i := range n {
				for o, v := range out[i*outputs : (i+1)*outputs] {
					m[o] += v
				}
			}
			for o := range m {
				m[o] /= float64(n)
			}
			mean[g] = m
			return nil
		}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("explain: partial dependence: %w", err)
	}
	return grid, mean, nil
}

// quantileGrid returns up to points increasing values: the distinct
// non-missing values of x if there are at most points of them, else
// quantiles from 5% to 95% (linear interpolation, as numpy's default),
// with duplicates removed.
func quantileGrid(x []float64, points int) []float64 {
	v := make([]float64, 0, len(x))
	for _, f := range x {
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			v = append(v, f)
		}
	}
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	if distinct := slices.Compact(slices.Clone(v)); len(distinct) <= points {
		return distinct
	}
	const lo, hi = 0.05, 0.95
	grid := make([]float64, points)
	for g := range grid {
		q := lo + (hi-lo)*float64(g)/float64(points-1)
		pos := q * float64(len(v)-1)
		i := int(pos)
		frac := pos - float64(i)
		if i+1 < len(v) {
			grid[g] = v[i] + frac*(v[i+1]-v[i])
		} else {
			grid[g] = v[i]
		}
	}
	return slices.Compact(grid)
}
