package forest

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/binning"
)

// binSampleRows is the sample binning.Build draws cut points from (as gbdt).
const binSampleRows = 200_000

// Fit implements learn.Learner.
func (l *Learner) Fit(ctx context.Context, train learn.Dataset, opts learn.Options) (learn.Predictor, error) {
	if err := train.Validate(); err != nil {
		return nil, fmt.Errorf("forest: %w", err)
	}
	for i, w := range train.W {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("forest: weight of row %d is %v: weights must be finite and not negative", i+1, w)
		}
	}
	p := l.p
	crit, err := criterionFor(p.Criterion, train.Classes)
	if err != nil {
		return nil, err
	}
	if opts.Valid != nil {
		if err := opts.Valid.Validate(); err != nil {
			return nil, fmt.Errorf("forest: validation set: %w", err)
		}
		if len(opts.Valid.X.Cols) != len(train.X.Cols) || opts.Valid.Classes != train.Classes {
			return nil, fmt.Errorf("forest: validation set has %d features and %d classes, training %d and %d",
				len(opts.Valid.X.Cols), opts.Valid.Classes, len(train.X.Cols), train.Classes)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("forest: %w", err)
	}
	bm, err := binning.Build(train.X, p.MaxBin, binSampleRows, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("forest: %w", err)
	}
	t, err := newTrainer(p, crit, bm, train, opts.Seed)
	if err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		t.track = true
		if opts.Valid != nil {
			t.vm = bm.Apply(opts.Valid.X)
			t.valid = opts.Valid
		}
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return t.run(ctx, threads, opts.Progress)
}

// trainer holds what every tree reads; growers only read it.
type trainer struct {
	p        Params
	crit     string
	seed     uint64
	bm       *binning.Matrix
	n, nf    int
	classes  int
	stride   int // histogram values per bin: count, then class weights or (w, w*y)
	vpl      int // values per leaf
	mtry     int
	maxDepth int
	y        []int32   // classification: class of each row
	yc       []float64 // regression: target minus ymean
	ymean    float64
	w        []float64 // user weights, or nil
	yTrain   []float64
	codes    [][][]int32 // per categorical feature, the codes of each bin
	// countFree: min_samples_leaf is 1 and every weight positive, so
	// histograms need no row counts.
	countFree bool

	track bool // compute out-of-bag and validation curves
	vm    *binning.Matrix
	valid *learn.Dataset
}

func newTrainer(p Params, crit string, bm *binning.Matrix, d learn.Dataset, seed uint64) (*trainer, error) {
	t := &trainer{p: p, crit: crit, seed: seed, bm: bm, n: d.X.Rows, nf: len(bm.Cols), classes: d.Classes, w: d.W, yTrain: d.Y}
	mtry, err := featuresPerSplit(p.MaxFeatures, t.nf, d.Classes > 0)
	if err != nil {
		return nil, err
	}
	t.mtry = mtry
	t.maxDepth = p.MaxDepth
	if t.maxDepth <= 0 {
		t.maxDepth = math.MaxInt
	}
	t.vpl = leafValues(d.Classes)
	if d.Classes > 0 {
		t.stride = 1 + d.Classes
		t.y = make([]int32, t.n)
		for i, v := range d.Y {
			t.y[i] = int32(v)
		}
	} else {
		t.stride = 3
		s := 0.0
		for _, v := range d.Y {
			s += v
		}
		// Centring keeps the sums of squares behind split scores small, so
		// that they do not swamp the differences between splits.
		t.ymean = s / float64(t.n)
		t.yc = make([]float64, t.n)
		for i, v := range d.Y {
			t.yc[i] = v - t.ymean
		}
	}
	t.countFree = p.MinSamplesLeaf == 1
	for _, w := range d.W {
		if !(w > 0) {
			t.countFree = false
			break
		}
	}
	t.codes = make([][][]int32, t.nf)
	for j := range bm.Cols {
		if bm.Cols[j].Categorical {
			t.codes[j] = bm.Cols[j].BinCodes()
		}
	}
	return t, nil
}

func (t *trainer) metric() string {
	if t.classes > 0 {
		return "logloss"
	}
	return "rmse"
}

// grown is one finished tree, with the leaves its out-of-bag rows and the
// validation rows reach when curves are tracked.
type grown struct {
	tree     Tree
	oobRows  []int32
	oobLeaf  []int32
	validLef []int32
}

// run grows the trees on a pool of workers and reports progress in tree
// order from this goroutine.
func (t *trainer) run(ctx context.Context, threads int, progress func(learn.Iteration)) (*Model, error) {
	total := t.p.NEstimators
	workers := max(1, min(threads, total))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]*grown, total)
	done := make(chan int, workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr error
	var errOnce sync.Once
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			g := newGrower(t)
			for {
				if ctx.Err() != nil {
					return
				}
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				res, err := g.grow(ctx, i)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					cancel()
					return
				}
				results[i] = res
				select {
				case done <- i:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	acc := newCurves(t)
	ready := make([]bool, total)
	reported := 0
	var stopErr error
	var limit <-chan time.Time
	if t.p.TimeLimit > 0 {
		timer := time.NewTimer(time.Duration(t.p.TimeLimit * float64(time.Second)))
		defer timer.Stop()
		limit = timer.C
	}
	// At the time limit, keep the trees reported so far: at least one.
	expired, timedOut := false, false
	for reported < total && stopErr == nil && !timedOut {
		select {
		case <-limit:
			limit, expired = nil, true
			timedOut = reported > 0
		case i := <-done:
			ready[i] = true
			for reported < total && ready[reported] {
				r := results[reported]
				reported++
				if progress != nil {
					loss, vloss := acc.add(r)
					progress(learn.Iteration{Step: reported, Total: total, Metric: t.metric(), Loss: loss, ValidLoss: vloss})
				}
				// The curves are kept; the per-tree row lists are not.
				r.oobRows, r.oobLeaf, r.validLef = nil, nil, nil
			}
			timedOut = expired && reported > 0
		case <-ctx.Done():
			stopErr = ctx.Err()
		}
	}
	cancel()
	wg.Wait()
	if timedOut {
		total = reported
		results = results[:reported]
	}
	if firstErr != nil && reported < total {
		stopErr = firstErr
	}
	if reported < total {
		return nil, fmt.Errorf("forest: fit stopped after %d of %d trees: %w", reported, total, stopErr)
	}
	m := &Model{Classes: t.classes, Trees: make([]Tree, total)}
	for i, r := range results {
		m.Trees[i] = r.tree
	}
	for j := range t.bm.Cols {
		c := &t.bm.Cols[j]
		m.Features = append(m.Features, FeatureInfo{Name: c.Name, Categorical: c.Categorical, Levels: c.Levels})
	}
	m.catIndex()
	return m, nil
}

// curves accumulates out-of-bag and validation predictions tree by tree.
type curves struct {
	t      *trainer
	oobSum []float64
	oobN   []int32
	vSum   []float64
	trees  int
	pred   []float64
}

func newCurves(t *trainer) *curves {
	c := &curves{t: t, pred: make([]float64, max(t.classes, 1))}
	if !t.track {
		return c
	}
	if t.p.Bootstrap {
		c.oobSum = make([]float64, t.n*t.vpl)
		c.oobN = make([]int32, t.n)
	}
	if t.vm != nil {
		c.vSum = make([]float64, t.vm.Rows*t.vpl)
	}
	return c
}

// add takes in tree r and returns the out-of-bag and validation losses of
// the forest so far (NaN where there is none).
func (c *curves) add(r *grown) (oob, valid float64) {
	c.trees++
	oob, valid = math.NaN(), math.NaN()
	t := c.t
	vpl := t.vpl
	vals := r.tree.Values
	if c.oobSum != nil {
		for k, row := range r.oobRows {
			l := int(r.oobLeaf[k])
			s := c.oobSum[int(row)*vpl : int(row+1)*vpl]
			for j := range s {
				s[j] += float64(vals[l*vpl+j])
			}
			c.oobN[row]++
		}
		loss, sw := 0.0, 0.0
		for row := 0; row < t.n; row++ {
			if n := c.oobN[row]; n > 0 {
				w := 1.0
				if t.w != nil {
					w = t.w[row]
				}
				loss += w * c.rowLoss(c.oobSum[row*vpl:(row+1)*vpl], float64(n), t.yTrain[row])
				sw += w
			}
		}
		if sw > 0 {
			oob = c.finish(loss / sw)
		}
	}
	if c.vSum != nil {
		for row, l := range r.validLef {
			s := c.vSum[row*vpl : (row+1)*vpl]
			for j := range s {
				s[j] += float64(vals[int(l)*vpl+j])
			}
		}
		loss, sw := 0.0, 0.0
		for row, y := range t.valid.Y {
			w := 1.0
			if t.valid.W != nil {
				w = t.valid.W[row]
			}
			loss += w * c.rowLoss(c.vSum[row*vpl:(row+1)*vpl], float64(c.trees), y)
			sw += w
		}
		if sw > 0 {
			valid = c.finish(loss / sw)
		}
	}
	return oob, valid
}

// rowLoss is the logloss or squared error of the mean of n trees' sums.
func (c *curves) rowLoss(sum []float64, n, y float64) float64 {
	switch {
	case c.t.classes == 0:
		d := sum[0]/n - y
		return d * d
	case c.t.classes == 2:
		p := sum[0] / n
		if y == 0 {
			p = 1 - p
		}
		return -math.Log(max(p, 1e-15))
	}
	return -math.Log(max(sum[int(y)]/n, 1e-15))
}

func (c *curves) finish(meanLoss float64) float64 {
	if c.t.classes == 0 {
		return math.Sqrt(meanLoss)
	}
	return meanLoss
}
