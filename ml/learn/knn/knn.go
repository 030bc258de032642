// Package knn is Modelsmith's k-nearest-neighbours family: classification by
// a (uniform or distance-weighted) vote of the k closest training rows, which
// gives class probabilities, and regression by their (weighted) mean.
//
// It takes numeric features only: categorical features must be encoded and
// missing values imputed first (ml/prep does both); Fit names the feature at
// fault otherwise. Features are standardised inside the model (training mean
// and standard deviation are stored), so distances weigh every feature alike
// and raw numeric columns work too. At prediction time a missing value leaves
// its feature out of the distance.
//
// The model keeps the standardised training matrix: its size is about
// 8·rows·(features+2) bytes, and a prediction costs rows·features per query
// row (brute force, parallel across query rows). That suits the small and
// medium tables it is meant for; AutoML should not offer it for large ones.
//
// It is a pure library: it must not import storage, app, views or Fyne.
package knn

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"sync"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/wire"
)

const family = "knn"

var params = []learn.Param{
	{Name: "n_neighbors", Kind: "int", Default: "5", Min: 1, Max: 1000,
		Help: "how many nearest training rows vote (or are averaged)"},
	{Name: "weights", Kind: "choice", Default: "uniform", Choices: []string{"uniform", "distance"},
		Help: "uniform: every neighbour counts the same; distance: a neighbour counts 1/distance (exact matches win outright)"},
}

// Spec describes the family for the CLI, the GUI and AutoML.
var Spec = learn.Spec{
	Name:   family,
	Help:   "k-nearest neighbours on standardised numeric features: vote for classification, mean for regression.",
	Params: params,
	New:    newLearner,
	Decode: func(b []byte) (learn.Predictor, error) { return Decode(b) },
}

func newLearner(values map[string]string) (learn.Learner, error) {
	v, err := learn.Spec{Name: family, Params: params}.Values(values)
	if err != nil {
		return nil, err
	}
	return &Learner{Neighbors: learn.Int(v, "n_neighbors"), Distance: v["weights"] == "distance"}, nil
}

// Learner builds a k-nearest-neighbours model.
type Learner struct {
	Neighbors int  // k
	Distance  bool // weight votes by 1/distance
}

// Model is a fitted k-nearest-neighbours model. It is immutable, so safe for
// concurrent use.
type Model struct {
	classes  int // 0 for regression
	k        int
	distance bool
	mean     []float64
	scale    []float64
	x        []float64 // standardised training rows, row-major
	y        []float64
	w        []float64 // row weights; nil means all 1
	threads  int       // from Options; not stored (0: all cores)
}

// Fit stores the standardised training rows. Rows of weight zero are dropped:
// they could never count in a vote.
func (l *Learner) Fit(ctx context.Context, d learn.Dataset, opts learn.Options) (learn.Predictor, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	if l.Neighbors < 1 {
		return nil, fmt.Errorf("knn: %w: n_neighbors=%d: want at least 1", learn.ErrParam, l.Neighbors)
	}
	cols, err := numericColumns(d.X)
	if err != nil {
		return nil, err
	}
	keep := make([]int, 0, d.X.Rows)
	for i := range d.X.Rows {
		if d.W == nil {
			keep = append(keep, i)
			continue
		}
		w := d.W[i]
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("knn: weight of row %d is %v: weights must be finite and non-negative", i+1, w)
		}
		if w > 0 {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("knn: all row weights are zero")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("knn: %w", err)
	}
	p := len(cols)
	m := &Model{classes: d.Classes, k: l.Neighbors, distance: l.Distance, threads: opts.Threads,
		mean: make([]float64, p), scale: make([]float64, p),
		x: make([]float64, len(keep)*p), y: make([]float64, len(keep))}
	for j, c := range cols {
		m.mean[j], m.scale[j] = meanStd(c, keep)
		for r, i := range keep {
			m.x[r*p+j] = (c[i] - m.mean[j]) / m.scale[j]
		}
	}
	for r, i := range keep {
		m.y[r] = d.Y[i]
	}
	if d.W != nil {
		m.w = make([]float64, len(keep))
		for r, i := range keep {
			m.w[r] = d.W[i]
		}
	}
	// There are no training iterations; one report tells a progress display
	// that the fit is done, with the validation loss when asked for.
	if opts.Progress != nil || opts.Valid != nil {
		valid, err := m.validLoss(ctx, opts.Valid)
		if err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(learn.Iteration{Step: 1, Total: 1, Metric: m.metric(), Loss: math.NaN(), ValidLoss: valid})
		}
	}
	return m, nil
}

func (m *Model) metric() string {
	if m.classes == 0 {
		return "rmse"
	}
	return "logloss"
}

// numericColumns returns X's columns, refusing what the model cannot use, so
// the user hears which feature to fix rather than getting poor neighbours.
func numericColumns(X *learn.Features) ([][]float64, error) {
	cols := make([][]float64, len(X.Cols))
	for j := range X.Cols {
		c := &X.Cols[j]
		if c.IsCategorical() {
			return nil, fmt.Errorf("knn: feature %q is categorical; encode it first", c.Name)
		}
		for i, x := range c.Num {
			if math.IsNaN(x) {
				return nil, fmt.Errorf("knn: feature %q has missing values; impute first", c.Name)
			}
			if math.IsInf(x, 0) {
				return nil, fmt.Errorf("knn: feature %q is infinite in row %d", c.Name, i+1)
			}
		}
		cols[j] = c.Num
	}
	return cols, nil
}

// meanStd is the mean and population standard deviation of c's kept rows; a
// constant column gets scale 1 so it standardises to zeros.
func meanStd(c []float64, keep []int) (float64, float64) {
	var s float64
	for _, i := range keep {
		s += c[i]
	}
	mu := s / float64(len(keep))
	var v float64
	for _, i := range keep {
		v += (c[i] - mu) * (c[i] - mu)
	}
	sd := math.Sqrt(v / float64(len(keep)))
	if !(sd > 1e-12*math.Max(1, math.Abs(mu))) || math.IsInf(sd, 0) {
		sd = 1
	}
	return mu, sd
}

func (m *Model) validLoss(ctx context.Context, v *learn.Dataset) (float64, error) {
	if v == nil {
		return math.NaN(), nil
	}
	if err := v.Validate(); err != nil {
		return 0, fmt.Errorf("knn: validation set: %w", err)
	}
	if len(v.X.Cols) != len(m.mean) || v.Classes != m.classes {
		return 0, fmt.Errorf("knn: validation set has %d features and %d classes; training %d and %d", len(v.X.Cols), v.Classes, len(m.mean), m.classes)
	}
	o := m.Outputs()
	out := make([]float64, v.X.Rows*o)
	if err := m.predict(ctx, v.X, out); err != nil {
		return 0, err
	}
	var loss, sw float64
	for i, y := range v.Y {
		wi := 1.0
		if v.W != nil {
			wi = v.W[i]
		}
		if m.classes == 0 {
			loss += wi * (y - out[i]) * (y - out[i])
		} else {
			loss -= wi * math.Log(math.Max(out[i*o+int(y)], 1e-15))
		}
		sw += wi
	}
	if m.classes == 0 {
		return math.Sqrt(loss / sw), nil
	}
	return loss / sw, nil
}

// Outputs is 1 for regression, the number of classes otherwise.
func (m *Model) Outputs() int {
	if m.classes == 0 {
		return 1
	}
	return m.classes
}

// Family is "knn".
func (m *Model) Family() string { return family }

// Predict writes one value per row (regression) or the class probabilities,
// working on query rows in parallel. A missing value (NaN, or a categorical
// column where a numeric one was trained) leaves that feature out of the
// distances for that row. It panics if X has a different number of features
// than the training data or out has the wrong length: both are programming
// errors that the pipeline's schema check rules out.
func (m *Model) Predict(X *learn.Features, out []float64) {
	if len(X.Cols) != len(m.mean) || len(out) != X.Rows*m.Outputs() {
		panic("knn: Predict: got " + strconv.Itoa(len(X.Cols)) + " features and " + strconv.Itoa(len(out)) +
			" outputs for " + strconv.Itoa(X.Rows) + " rows; want " + strconv.Itoa(len(m.mean)) + " features and " +
			strconv.Itoa(m.Outputs()) + " per row")
	}
	_ = m.predict(context.Background(), X, out)
}

// blockRows is how many query rows a worker takes at a time and how often it
// checks for cancellation.
const blockRows = 64

func (m *Model) predict(ctx context.Context, X *learn.Features, out []float64) error {
	blocks := (X.Rows + blockRows - 1) / blockRows
	workers := m.threads
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, blocks)
	var mu sync.Mutex
	next := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			s := m.newScratch()
			for ctx.Err() == nil {
				mu.Lock()
				b := next
				next++
				mu.Unlock()
				if b >= blocks {
					return
				}
				for i := b * blockRows; i < min(X.Rows, (b+1)*blockRows); i++ {
					m.predictRow(X, i, s, out[i*m.Outputs():(i+1)*m.Outputs()])
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("knn: %w", err)
	}
	return nil
}

// neighbor is a candidate: squared distance and training row.
type neighbor struct {
	d   float64
	row int
}

// scratch is one worker's memory, reused for every row it predicts.
type scratch struct {
	q    []float64
	dims []int // features present in the query row
	heap []neighbor
}

func (m *Model) newScratch() *scratch {
	return &scratch{q: make([]float64, len(m.mean)), dims: make([]int, 0, len(m.mean)), heap: make([]neighbor, 0, min(m.k, len(m.y)))}
}

func (m *Model) predictRow(X *learn.Features, i int, s *scratch, out []float64) {
	p := len(m.mean)
	s.dims = s.dims[:0]
	for j := range p {
		col := X.Cols[j].Num
		if len(col) != X.Rows || math.IsNaN(col[i]) {
			continue
		}
		s.q[j] = (col[i] - m.mean[j]) / m.scale[j]
		s.dims = append(s.dims, j)
	}
	k := min(m.k, len(m.y))
	h := s.heap[:0]
	for r := range len(m.y) {
		x := m.x[r*p : (r+1)*p]
		// Once k rows are held, a row is abandoned as soon as its partial
		// distance reaches the worst held one; ties keep the earlier row.
		limit := math.Inf(1)
		if len(h) == k {
			limit = h[0].d
		}
		var d float64
		if len(s.dims) == p {
			d = sqDist(s.q, x, limit)
		} else {
			for _, j := range s.dims {
				t := s.q[j] - x[j]
				d += t * t
				if d >= limit {
					break
				}
			}
		}
		if d >= limit {
			continue
		}
		if len(h) < k {
			h = append(h, neighbor{d, r})
			up(h, len(h)-1)
		} else {
			h[0] = neighbor{d, r}
			down(h, 0)
		}
	}
	s.heap = h
	m.combine(h, out)
}

// sqDist is the squared distance between q and x, or some partial sum at
// least limit. Checking the limit every four terms rather than every term
// keeps the loop cheap in the common case of rows that are not abandoned.
func sqDist(q, x []float64, limit float64) float64 {
	x = x[:len(q)]
	var d float64
	j := 0
	for ; j+4 <= len(q); j += 4 {
		a, b, c, e := q[j]-x[j], q[j+1]-x[j+1], q[j+2]-x[j+2], q[j+3]-x[j+3]
		d += a*a + b*b + c*c + e*e
		if d >= limit {
			return d
		}
	}
	for ; j < len(q); j++ {
		t := q[j] - x[j]
		d += t * t
	}
	return d
}

// less orders the max-heap: farther first, and among equals the later row,
// so the earlier row survives a tie.
func less(a, b neighbor) bool { return a.d > b.d || a.d == b.d && a.row > b.row }

func up(h []neighbor, i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !less(h[i], h[parent]) {
			return
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func down(h []neighbor, i int) {
	for {
		l, best := 2*i+1, i
		if l < len(h) && less(h[l], h[best]) {
			best = l
		}
		if r := l + 1; r < len(h) && less(h[r], h[best]) {
			best = r
		}
		if best == i {
			return
		}
		h[i], h[best] = h[best], h[i]
		i = best
	}
}

// combine turns the neighbours into probabilities or a mean. The heap is
// filled by a sequential scan, so its order, and so the rounding of these
// sums, is the same on every run.
func (m *Model) combine(h []neighbor, out []float64) {
	exact := false
	if m.distance {
		for _, n := range h {
			if n.d == 0 {
				exact = true // 1/0: exact matches decide alone, as in scikit-learn
				break
			}
		}
	}
	weight := func(n neighbor) float64 {
		w := 1.0
		if m.w != nil {
			w = m.w[n.row]
		}
		switch {
		case exact && n.d != 0:
			return 0
		case m.distance && !exact:
			w /= math.Sqrt(n.d)
		}
		return w
	}
	if m.classes == 0 {
		var s, sw float64
		for _, n := range h {
			w := weight(n)
			s += w * m.y[n.row]
			sw += w
		}
		out[0] = s / sw
		return
	}
	clear(out)
	var sw float64
	for _, n := range h {
		w := weight(n)
		out[int(m.y[n.row])] += w
		sw += w
	}
	for c := range out {
		out[c] /= sw
	}
}

const (
	magic   = "MSKN"
	version = 1
)

// MarshalBinary encodes the model: a magic, a version, then the fields.
func (m *Model) MarshalBinary() ([]byte, error) {
	e := wire.Encoder{B: append(make([]byte, 0, 64+8*(len(m.x)+len(m.y)+len(m.w)+2*len(m.mean))), magic...)}
	e.U64(version)
	e.U64(uint64(m.classes))
	e.U64(uint64(m.k))
	dist := uint64(0)
	if m.distance {
		dist = 1
	}
	e.U64(dist)
	e.Floats(m.mean)
	e.Floats(m.scale)
	e.Floats(m.x)
	e.Floats(m.y)
	e.Floats(m.w)
	return e.B, nil
}

// Decode reverses MarshalBinary. It returns an error, never panics, on bytes
// that are not a model it can use.
func Decode(b []byte) (*Model, error) {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("knn: decode: not a knn model")
	}
	d := wire.NewDecoder(b[len(magic):], "knn")
	if v := d.U64(); d.Err == nil && v != version {
		return nil, fmt.Errorf("knn: decode: model format version %d; this build reads version %d", v, version)
	}
	classes, k, dist := d.U64(), d.U64(), d.U64()
	m := &Model{mean: d.Floats(), scale: d.Floats(), x: d.Floats(), y: d.Floats(), w: d.Floats()}
	if d.Err != nil {
		return nil, d.Err
	}
	if len(d.B) != 0 {
		return nil, fmt.Errorf("knn: decode: %d bytes after the model", len(d.B))
	}
	if classes == 1 || classes > 1<<20 || k < 1 || k > 1<<20 || dist > 1 {
		return nil, fmt.Errorf("knn: decode: bad settings")
	}
	m.classes, m.k, m.distance = int(classes), int(k), dist == 1
	p, n := len(m.mean), len(m.y)
	if p == 0 || n == 0 || len(m.scale) != p || len(m.x) != n*p || len(m.w) != 0 && len(m.w) != n {
		return nil, fmt.Errorf("knn: decode: inconsistent shapes")
	}
	if len(m.w) == 0 {
		m.w = nil
	}
	for _, v := range [][]float64{m.mean, m.scale, m.x, m.y, m.w} {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("knn: decode: non-finite value")
			}
		}
	}
	for j := range p {
		if !(m.scale[j] > 0) {
			return nil, fmt.Errorf("knn: decode: non-positive scale")
		}
	}
	for r, y := range m.y {
		if m.classes > 0 && (y < 0 || y >= float64(m.classes) || y != math.Trunc(y)) {
			return nil, fmt.Errorf("knn: decode: row %d has class %v", r, y)
		}
		if m.w != nil && !(m.w[r] > 0) {
			return nil, fmt.Errorf("knn: decode: row %d has weight %v", r, m.w[r])
		}
	}
	return m, nil
}
