package gbdt

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/binning"
)

// binSampleRows is the sample binning.Build draws cut points from.
const binSampleRows = 200_000

// Categorical split settings, LightGBM's defaults: categories are ordered by
// sum_grad / (sum_hess + catSmooth), at most maxCatThreshold of them go to one
// side, and catL2 is added to the L2 penalty of categorical splits, which
// otherwise overfit on rare levels.
const (
	catSmooth       = 10
	catL2           = 10
	maxCatThreshold = 32
)

// Fit implements learn.Learner.
func (l *Learner) Fit(ctx context.Context, train learn.Dataset, opts learn.Options) (learn.Predictor, error) {
	if err := train.Validate(); err != nil {
		return nil, fmt.Errorf("gbdt: %w", err)
	}
	p := l.p
	obj, err := objectiveFor(p.Objective, train.Classes)
	if err != nil {
		return nil, err
	}
	if opts.Valid != nil {
		if err := opts.Valid.Validate(); err != nil {
			return nil, fmt.Errorf("gbdt: validation set: %w", err)
		}
		if len(opts.Valid.X.Cols) != len(train.X.Cols) || opts.Valid.Classes != train.Classes {
			return nil, fmt.Errorf("gbdt: validation set has %d features and %d classes, training %d and %d",
				len(opts.Valid.X.Cols), opts.Valid.Classes, len(train.X.Cols), train.Classes)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gbdt: %w", err)
	}
	bm, err := binning.Build(train.X, p.MaxBin, binSampleRows, opts.Seed)
	if err != nil {
		return nil, fmt.Errorf("gbdt: %w", err)
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	t := newTrainer(p, obj, bm, train, threads)
	if opts.Valid != nil {
		t.setValid(bm.Apply(opts.Valid.X), opts.Valid)
	}
	return t.run(ctx, opts)
}

func objectiveFor(name string, classes int) (string, error) {
	switch name {
	case "", "auto":
		switch {
		case classes == 0:
			return ObjL2, nil
		case classes == 2:
			return ObjLogloss, nil
		default:
			return ObjSoftmax, nil
		}
	case ObjLogloss:
		if classes != 2 {
			return "", fmt.Errorf("gbdt: %w: objective logloss needs 2 classes, the data has %d", learn.ErrParam, classes)
		}
	case ObjSoftmax:
		if classes < 2 {
			return "", fmt.Errorf("gbdt: %w: objective softmax needs classes, the data is a regression", learn.ErrParam)
		}
	case ObjL2:
		if classes != 0 {
			return "", fmt.Errorf("gbdt: %w: objective l2 needs a numeric target, the data has %d classes", learn.ErrParam, classes)
		}
	default:
		return "", fmt.Errorf("gbdt: %w: objective %q", learn.ErrParam, name)
	}
	return name, nil
}

// binStat is one histogram bin.
type binStat struct {
	g, h float64
	n    int64
}

// split is the best split found for a leaf.
type split struct {
	gain    float64
	feat    int
	thrBin  int // numeric: value bins <= thrBin go left
	cat     bool
	catSet  [4]uint64 // categorical: bins that go left
	defLeft bool
	lg, lh  float64
	ln      int64
}

func (s *split) goesLeft(bin uint8, missing uint8) bool {
	if bin == missing {
		return s.defLeft
	}
	if s.cat {
		return s.catSet[bin>>6]&(1<<(bin&63)) != 0
	}
	return int(bin) <= s.thrBin
}

// leaf is a leaf of the tree being grown: its rows are idx[a:b].
type leaf struct {
	node  int
	a, b  int
	depth int
	hist  []binStat
	g, h  float64
	best  split
}

type trainer struct {
	p       Params
	obj     string
	bm      *binning.Matrix
	n, nf   int
	k       int // trees per round
	classes int
	threads int
	y, w    []float64
	// inSample marks the rows of a subsampled round (reused; all false
	// between trees).
	inSample []bool

	offs  []int // histogram offset of each feature
	nbins int

	score []float64 // raw scores, row-major n x k
	grad  []float32 // class-major k x n
	hess  []float32

	idx, tmpIdx []int32
	tmpR        []int32
	og, oh      []float32 // grad/hess gathered in idx order for a histogram
	cg, ch      []float32 // this tree's grad/hess (one class's part)
	featOn      []bool
	featList    []int
	pool        [][]binStat
	scratch     []binStat

	vm     *binning.Matrix
	vy, vw []float64
	vscore []float64

	codes [][][]int32 // per categorical feature, the codes of each bin

	base  []float64
	trees []Tree
}

func newTrainer(p Params, obj string, bm *binning.Matrix, d learn.Dataset, threads int) *trainer {
	n := d.X.Rows
	t := &trainer{p: p, obj: obj, bm: bm, n: n, nf: len(bm.Cols), threads: threads, y: d.Y, w: d.W, classes: d.Classes}
	t.k = 1
	if obj == ObjSoftmax {
		t.k = d.Classes
	}
	t.offs = make([]int, t.nf+1)
	for j := range bm.Cols {
		t.offs[j+1] = t.offs[j] + bm.Cols[j].NumBins
	}
	t.nbins = t.offs[t.nf]
	t.score = make([]float64, n*t.k)
	t.grad = make([]float32, n*t.k)
	t.hess = make([]float32, n*t.k)
	t.idx = make([]int32, n)
	t.tmpIdx = make([]int32, n)
	t.tmpR = make([]int32, n)
	t.og = make([]float32, n)
	t.oh = make([]float32, n)
	t.featOn = make([]bool, t.nf)
	t.base = t.baseScore()
	for r := 0; r < n; r++ {
		copy(t.score[r*t.k:(r+1)*t.k], t.base)
	}
	return t
}

func (t *trainer) setValid(vm *binning.Matrix, v *learn.Dataset) {
	t.vm, t.vy, t.vw = vm, v.Y, v.W
	t.vscore = make([]float64, vm.Rows*t.k)
	for r := 0; r < vm.Rows; r++ {
		copy(t.vscore[r*t.k:(r+1)*t.k], t.base)
	}
}

func (t *trainer) weight(r int) float64 {
	if t.w == nil {
		return 1
	}
	return t.w[r]
}

func (t *trainer) baseScore() []float64 {
	sw := 0.0
	switch t.obj {
	case ObjL2:
		s := 0.0
		for r, y := range t.y {
			w := t.weight(r)
			s += w * y
			sw += w
		}
		if sw <= 0 {
			return []float64{0}
		}
		return []float64{s / sw}
	case ObjLogloss:
		s := 0.0
		for r, y := range t.y {
			w := t.weight(r)
			s += w * y
			sw += w
		}
		p := clamp(s/sw, 1e-15, 1-1e-15)
		if sw <= 0 {
			p = 0.5
		}
		return []float64{math.Log(p / (1 - p))}
	}
	cnt := make([]float64, t.k)
	for r, y := range t.y {
		w := t.weight(r)
		cnt[int(y)] += w
		sw += w
	}
	base := make([]float64, t.k)
	for c := range base {
		p := 1.0 / float64(t.k)
		if sw > 0 {
			p = clamp(cnt[c]/sw, 1e-15, 1)
		}
		base[c] = math.Log(p)
	}
	return base
}

func clamp(x, lo, hi float64) float64 { return max(lo, min(hi, x)) }

func (t *trainer) metric() string {
	if t.obj == ObjL2 {
		return "rmse"
	}
	return "logloss"
}

// run is the boosting loop. The training loss of round i is computed in the
// gradient pass of round i+1, from the same scores; progress for a round is
// therefore reported just before the next round's trees are grown.
func (t *trainer) run(ctx context.Context, opts learn.Options) (*Model, error) {
	p := t.p
	total := p.NEstimators
	validLoss := math.NaN()
	bestLoss, bestRound := math.Inf(1), -1
	report := func(step int, loss float64) {
		if opts.Progress != nil {
			opts.Progress(learn.Iteration{Step: step, Total: total, Metric: t.metric(), Loss: loss, ValidLoss: validLoss})
		}
	}
	// The training loss costs a logarithm per row, about a quarter of a
	// round on large data: compute it every few rounds only (Loss is NaN in
	// the others), which still draws a learning curve of 20 points or more.
	every := min(max(total/20, 1), 5)
	rounds := 0
	stopped := false
	started := time.Now()
	for round := 0; round < total; round++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("gbdt: fit stopped after %d rounds: %w", round, err)
		}
		if p.TimeLimit > 0 && round > 0 && time.Since(started).Seconds() >= p.TimeLimit {
			total = round
			break
		}
		loss := t.gradients(opts.Progress != nil && round%every == 0)
		if round > 0 {
			report(round, loss)
		}
		if p.EarlyStoppingRounds > 0 && t.vm != nil && bestRound >= 0 && round-1-bestRound >= p.EarlyStoppingRounds {
			stopped = true
			break
		}
		rng := rand.New(rand.NewPCG(opts.Seed, uint64(round)+0x9e3779b97f4a7c15))
		rows := t.sampleRows(rng)
		t.sampleFeatures(rng)
		for c := 0; c < t.k; c++ {
			tree, err := t.grow(ctx, c, rows)
			if err != nil {
				return nil, fmt.Errorf("gbdt: fit stopped in round %d: %w", round+1, err)
			}
			t.trees = append(t.trees, tree)
		}
		rounds = round + 1
		if t.vm != nil {
			validLoss = t.validLoss()
			if validLoss < bestLoss {
				bestLoss, bestRound = validLoss, round
			}
		}
	}
	if !stopped {
		report(rounds, t.gradients(opts.Progress != nil))
	}
	if p.EarlyStoppingRounds > 0 && t.vm != nil && bestRound >= 0 {
		t.trees = t.trees[:(bestRound+1)*t.k]
	}
	m := &Model{Objective: t.obj, Classes: t.classes, BaseScore: t.base, Trees: t.trees}
	for j := range t.bm.Cols {
		c := &t.bm.Cols[j]
		m.Features = append(m.Features, FeatureInfo{Name: c.Name, Categorical: c.Categorical, Levels: c.Levels})
	}
	m.flat = m.compile()
	return m, nil
}

// sampleRows fills idx with the rows of this round's trees, in increasing
// order, and returns how many there are.
func (t *trainer) sampleRows(rng *rand.Rand) int {
	if t.p.Subsample >= 1 {
		for i := range t.idx {
			t.idx[i] = int32(i)
		}
		return t.n
	}
	m := 0
	for i := 0; i < t.n; i++ {
		if rng.Float64() < t.p.Subsample {
			t.idx[m] = int32(i)
			m++
		}
	}
	if m == 0 {
		t.idx[0] = int32(rng.IntN(t.n))
		m = 1
	}
	return m
}

func (t *trainer) sampleFeatures(rng *rand.Rand) {
	t.featList = t.featList[:0]
	if t.p.ColsampleByTree >= 1 {
		for j := range t.featOn {
			t.featOn[j] = true
			t.featList = append(t.featList, j)
		}
		return
	}
	want := max(1, int(math.Ceil(t.p.ColsampleByTree*float64(t.nf))))
	perm := rng.Perm(t.nf)
	for j := range t.featOn {
		t.featOn[j] = false
	}
	for _, j := range perm[:want] {
		t.featOn[j] = true
	}
	for j := range t.featOn {
		if t.featOn[j] {
			t.featList = append(t.featList, j)
		}
	}
}

// gradients computes grad and hess from the scores and, when withLoss, returns
// the current training loss (weighted mean logloss, or RMSE); the loss's
// logarithms cost as much as the gradients, so nobody listening means NaN.
// Blocks of fixed size are summed in order, so the loss does not depend on the
// number of threads.
func (t *trainer) gradients(withLoss bool) float64 {
	const block = 1 << 14
	nb := (t.n + block - 1) / block
	part := make([]float64, 2*nb)
	parallel(t.threads, nb, func(b int) {
		r0, r1 := b*block, min((b+1)*block, t.n)
		loss, sw := t.gradRange(r0, r1, withLoss)
		part[2*b], part[2*b+1] = loss, sw
	})
	loss, sw := 0.0, 0.0
	for b := 0; b < nb; b++ {
		loss += part[2*b]
		sw += part[2*b+1]
	}
	if sw <= 0 || !withLoss {
		return math.NaN()
	}
	if t.obj == ObjL2 {
		return math.Sqrt(loss / sw)
	}
	return loss / sw
}

func (t *trainer) gradRange(r0, r1 int, withLoss bool) (loss, sw float64) {
	n := t.n
	switch t.obj {
	case ObjL2:
		for r := r0; r < r1; r++ {
			w := t.weight(r)
			d := t.score[r] - t.y[r]
			t.grad[r] = float32(w * d)
			t.hess[r] = float32(w)
			loss += w * d * d
			sw += w
		}
	case ObjLogloss:
		for r := r0; r < r1; r++ {
			w := t.weight(r)
			f := t.score[r]
			// One exponential serves both σ(f) and the loss
			// log(1+e^f) - y f = max(f,0) + log(1+e^-|f|) - y f.
			e := expNeg(-math.Abs(f))
			p := 1 / (1 + e)
			if f < 0 {
				p = e / (1 + e)
			}
			y := t.y[r]
			t.grad[r] = float32(w * (p - y))
			t.hess[r] = float32(max(w*p*(1-p), 1e-16))
			if withLoss {
				loss += w * (math.Max(f, 0) + math.Log(1+e) - y*f)
			}
			sw += w
		}
	default:
		k := t.k
		pr := make([]float64, k)
		factor := float64(k) / float64(k-1)
		for r := r0; r < r1; r++ {
			w := t.weight(r)
			softmax(t.score[r*k:(r+1)*k], pr)
			y := int(t.y[r])
			for c := 0; c < k; c++ {
				pc := pr[c]
				g := pc
				if c == y {
					g -= 1
				}
				t.grad[c*n+r] = float32(w * g)
				t.hess[c*n+r] = float32(max(w*factor*pc*(1-pc), 1e-16))
			}
			if withLoss {
				loss -= w * math.Log(max(pr[y], 1e-15))
			}
			sw += w
		}
	}
	return loss, sw
}

func (t *trainer) validLoss() float64 {
	k := t.k
	loss, sw := 0.0, 0.0
	pr := make([]float64, k)
	for r, y := range t.vy {
		w := 1.0
		if t.vw != nil {
			w = t.vw[r]
		}
		switch t.obj {
		case ObjL2:
			d := t.vscore[r] - y
			loss += w * d * d
		case ObjLogloss:
			f := t.vscore[r]
			loss += w * (math.Max(f, 0) + math.Log1p(math.Exp(-math.Abs(f))) - y*f)
		default:
			softmax(t.vscore[r*k:(r+1)*k], pr)
			loss -= w * math.Log(max(pr[int(y)], 1e-15))
		}
		sw += w
	}
	if sw <= 0 {
		return math.NaN()
	}
	if t.obj == ObjL2 {
		return math.Sqrt(loss / sw)
	}
	return loss / sw
}

// expNeg is e^x for x <= 0, to about 1e-9 relative error: plenty for
// gradients stored as float32, and several times faster than math.Exp, which
// otherwise dominates a logloss round. It is plain arithmetic, so it gives
// the same result on every machine.
func expNeg(x float64) float64 {
	if x < -700 || x != x {
		return 0
	}
	t := x * math.Log2E
	n := math.Floor(t)
	y := (t - n) * math.Ln2 // [0, ln 2)
	p := 1 + y*(1+y*(1.0/2+y*(1.0/6+y*(1.0/24+y*(1.0/120+y*(1.0/720+y*(1.0/5040+y*(1.0/40320+y*(1.0/362880)))))))))
	return math.Float64frombits(math.Float64bits(p) + uint64(int64(n))<<52)
}
