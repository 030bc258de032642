package nn

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"modelsmith/ml/learn"
)

// rows is a data set ready for the network: standardised features
// row-major, the target (class index, or standardised value) and weights.
type rows struct {
	n, p int
	z    []float64 // n×p
	y    []float64
	w    []float64
}

func (r *rows) row(i int) []float64 { return r.z[i*r.p : (i+1)*r.p] }

// subset returns the rows in idx, in that order.
func (r *rows) subset(idx []int) *rows {
	s := &rows{n: len(idx), p: r.p, z: make([]float64, 0, len(idx)*r.p), y: make([]float64, len(idx)), w: make([]float64, len(idx))}
	for k, i := range idx {
		s.z = append(s.z, r.row(i)...)
		s.y[k], s.w[k] = r.y[i], r.w[i]
	}
	return s
}

// numericColumns returns X's columns, refusing what the network cannot use,
// so the user hears which feature to fix rather than getting NaN weights.
func numericColumns(X *learn.Features) ([][]float64, error) {
	cols := make([][]float64, len(X.Cols))
	for j := range X.Cols {
		c := &X.Cols[j]
		if c.IsCategorical() {
			return nil, fmt.Errorf("nn: feature %q is categorical; encode it first", c.Name)
		}
		for i, x := range c.Num {
			if math.IsNaN(x) {
				return nil, fmt.Errorf("nn: feature %q has missing values; impute first", c.Name)
			}
			if math.IsInf(x, 0) {
				return nil, fmt.Errorf("nn: feature %q is infinite in row %d", c.Name, i+1)
			}
		}
		cols[j] = c.Num
	}
	return cols, nil
}

// weightsOf returns d's row weights (all 1 if absent) after checking them.
func weightsOf(d *learn.Dataset) ([]float64, error) {
	w := d.W
	if w == nil {
		w = make([]float64, d.X.Rows)
		for i := range w {
			w[i] = 1
		}
	}
	var sw float64
	for i, x := range w {
		if x < 0 || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("nn: weight of row %d is %v: weights must be finite and non-negative", i+1, x)
		}
		sw += x
	}
	if sw <= 0 {
		return nil, fmt.Errorf("nn: all row weights are zero")
	}
	return w, nil
}

// standardise returns the weighted mean and (population) standard deviation
// of each column; a constant column gets scale 1 so it standardises to zeros.
func standardise(cols [][]float64, w []float64) (mean, scale []float64) {
	mean = make([]float64, len(cols))
	scale = make([]float64, len(cols))
	for j, c := range cols {
		mean[j], scale[j] = moments(c, w)
	}
	return mean, scale
}

func moments(c, w []float64) (mu, sd float64) {
	var s, sw float64
	for i, x := range c {
		s += w[i] * x
		sw += w[i]
	}
	mu = s / sw
	var v float64
	for i, x := range c {
		v += w[i] * (x - mu) * (x - mu)
	}
	sd = math.Sqrt(v / sw)
	if !(sd > 1e-12*math.Max(1, math.Abs(mu))) || math.IsInf(sd, 0) {
		sd = 1
	}
	return mu, sd
}

// prepare standardises d with m's scalers.
func (m *Model) prepare(d *learn.Dataset, cols [][]float64, w []float64) *rows {
	n, p := d.X.Rows, len(cols)
	r := &rows{n: n, p: p, z: make([]float64, n*p), y: make([]float64, n), w: w}
	for j, c := range cols {
		for i, x := range c {
			r.z[i*p+j] = (x - m.mean[j]) / m.scale[j]
		}
	}
	for i, y := range d.Y {
		if m.classes == 0 {
			y = (y - m.ymean) / m.yscale
		}
		r.y[i] = y
	}
	return r
}

// minSplitRows is the fewest training rows from which Fit holds out 10 %
// for early stopping; below it every row trains and no epoch is judged.
const minSplitRows = 50

func (l *Learner) fit(ctx context.Context, d learn.Dataset, opts learn.Options) (learn.Predictor, error) {
	cols, err := numericColumns(d.X)
	if err != nil {
		return nil, err
	}
	w, err := weightsOf(&d)
	if err != nil {
		return nil, err
	}
	m := &Model{classes: d.Classes, yscale: 1}
	m.act = activation(activationOf(l.Activation))
	m.mean, m.scale = standardise(cols, w)
	outputs := max(d.Classes, 1)
	if d.Classes == 0 {
		m.ymean, m.yscale = moments(d.Y, w)
	}
	m.sizes = append(append([]int{len(cols)}, l.Hidden...), outputs)
	all := m.prepare(&d, cols, w)

	rng := rand.New(rand.NewPCG(opts.Seed, 0x6e6e2d6d6c70))
	train, valid := all, (*rows)(nil)
	switch {
	case opts.Valid != nil:
		if valid, err = m.prepareValid(opts.Valid); err != nil {
			return nil, err
		}
	case l.EarlyStoppingRounds > 0 && all.n >= minSplitRows:
		perm := rng.Perm(all.n)
		nv := all.n / 10
		valid, train = all.subset(perm[:nv]), all.subset(perm[nv:])
	}

	m.w, m.b = glorot(m.sizes, rng)
	batch := min(l.BatchSize, train.n)
	tr, err := compile(arch{sizes: m.sizes, act: m.act, classes: d.Classes, dropout: l.Dropout,
		lr: l.LearningRate, l2: l.L2, batch: batch, device: l.Device}, m.w, m.b)
	if err != nil {
		return nil, err
	}
	defer tr.close()
	if err := l.train(ctx, m, tr, train, valid, rng, opts.Progress); err != nil {
		return nil, err
	}
	return m, nil
}

// glorot draws every layer's weights uniformly in ±√(6/(in+out)), biases 0.
func glorot(sizes []int, rng *rand.Rand) (w, b [][]float64) {
	for l := range len(sizes) - 1 {
		in, out := sizes[l], sizes[l+1]
		lim := math.Sqrt(6 / float64(in+out))
		wl := make([]float64, in*out)
		for i := range wl {
			wl[i] = (2*rng.Float64() - 1) * lim
		}
		w, b = append(w, wl), append(b, make([]float64, out))
	}
	return w, b
}

// train runs the epochs, keeping in m the weights of the best validation
// loss (or the last epoch's without validation or early stopping).
func (l *Learner) train(ctx context.Context, m *Model, tr *trainer, train, valid *rows, rng *rand.Rand, progress func(learn.Iteration)) error {
	batch := len(tr.x) / train.p
	order := make([]int, train.n)
	for i := range order {
		order[i] = i
	}
	metric := "logloss"
	if m.classes == 0 {
		metric = "rmse"
	}
	keep := 1 / (1 - l.Dropout)
	curW, curB := cloneLayers(m.w), cloneLayers(m.b)
	best, bestEpoch := math.Inf(1), 0
	for epoch := 1; epoch <= l.Epochs; epoch++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		var sum, sumW float64
		for start := 0; start < train.n; start += batch {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("nn: %w", err)
			}
			bw := l.fill(tr, train, order, start, batch)
			if bw == 0 {
				continue
			}
			for _, mask := range tr.masks {
				for i := range mask {
					mask[i] = 0
					if rng.Float64() >= l.Dropout {
						mask[i] = keep
					}
				}
			}
			loss, err := tr.step()
			if err != nil {
				return err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("nn: training diverged in epoch %d (loss %v); lower learning_rate", epoch, loss)
			}
			sum += loss * bw
			sumW += bw
		}
		if err := tr.weights(curW, curB); err != nil {
			return err
		}
		it := learn.Iteration{Step: epoch, Total: l.Epochs, Metric: metric, Loss: sum / sumW, ValidLoss: math.NaN()}
		if m.classes == 0 {
			it.Loss = math.Sqrt(it.Loss) * m.yscale
		}
		if valid != nil {
			it.ValidLoss = m.loss(curW, curB, valid)
		}
		if progress != nil {
			progress(it)
		}
		switch {
		case valid == nil || l.EarlyStoppingRounds == 0:
			copyLayers(m.w, curW)
			copyLayers(m.b, curB)
		case it.ValidLoss < best:
			best, bestEpoch = it.ValidLoss, epoch
			copyLayers(m.w, curW)
			copyLayers(m.b, curB)
		case epoch-bestEpoch >= l.EarlyStoppingRounds:
			return nil
		}
	}
	return nil
}

// fill writes the batch of rows order[start:start+batch] into the graph's
// inputs and returns its total weight. A short last batch is padded with
// rows of weight zero, which change neither the loss nor the gradient.
func (l *Learner) fill(tr *trainer, r *rows, order []int, start, batch int) float64 {
	var bw float64
	for k := range batch {
		if start+k < r.n {
			bw += r.w[order[start+k]]
		}
	}
	if bw == 0 {
		return 0
	}
	classes := len(tr.target) / batch
	clear(tr.target)
	for k := range batch {
		pos := start + k
		share := 0.0
		if pos >= r.n {
			pos -= r.n // padding: any real row, weighted zero
		} else {
			share = r.w[order[pos]] / bw
		}
		i := order[pos]
		copy(tr.x[k*r.p:(k+1)*r.p], r.row(i))
		if tr.weight == nil {
			tr.target[k*classes+int(r.y[i])] = share
		} else {
			tr.target[k], tr.weight[k] = r.y[i], share
		}
	}
	return bw
}

// loss is the weighted logloss or RMSE (in the target's units) of the
// network with weights w, b on r.
func (m *Model) loss(w, b [][]float64, r *rows) float64 {
	net := network{act: m.act, sizes: m.sizes, w: w, b: b}
	wd := net.width()
	a, z := make([]float64, wd), make([]float64, wd)
	var sum, sw float64
	for i := range r.n {
		in := a[:r.p]
		copy(in, r.row(i))
		s := net.forward(in, a, z)
		var li float64
		if m.classes == 0 {
			d := (s[0] - r.y[i]) * m.yscale
			li = d * d
		} else {
			li = logSumExp(s) - s[int(r.y[i])]
		}
		sum += r.w[i] * li
		sw += r.w[i]
	}
	if m.classes == 0 {
		return math.Sqrt(sum / sw)
	}
	return sum / sw
}

func logSumExp(s []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = math.Max(mx, v)
	}
	var sum float64
	for _, v := range s {
		sum += math.Exp(v - mx)
	}
	return mx + math.Log(sum)
}

// prepareValid checks the validation set and standardises it like training.
func (m *Model) prepareValid(v *learn.Dataset) (*rows, error) {
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("nn: validation set: %w", err)
	}
	if len(v.X.Cols) != m.sizes[0] {
		return nil, fmt.Errorf("nn: validation set has %d features, training %d", len(v.X.Cols), m.sizes[0])
	}
	if v.Classes != m.classes {
		return nil, fmt.Errorf("nn: validation set has %d classes, training %d", v.Classes, m.classes)
	}
	cols, err := numericColumns(v.X)
	if err != nil {
		return nil, fmt.Errorf("nn: validation set: %s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	w, err := weightsOf(v)
	if err != nil {
		return nil, fmt.Errorf("nn: validation set: %s", strings.TrimPrefix(err.Error(), "nn: "))
	}
	return m.prepare(v, cols, w), nil
}

func cloneLayers(v [][]float64) [][]float64 {
	out := make([][]float64, len(v))
	for i, x := range v {
		out[i] = append([]float64(nil), x...)
	}
	return out
}

func copyLayers(dst, src [][]float64) {
	for i := range dst {
		copy(dst[i], src[i])
	}
}
