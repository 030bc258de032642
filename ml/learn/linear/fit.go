package linear

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"modelsmith/ml/learn"
)

// problem is one fit: the standardised training columns and the settings the
// solvers share.
type problem struct {
	z        [][]float64 // standardised, column-major
	y, w     []float64
	sw       float64 // Σw
	classes  int
	threads  int
	valid    *validSet
	progress func(learn.Iteration)
	maxIter  int
	tol      float64
}

func (p *problem) report(it learn.Iteration) {
	if p.progress != nil {
		p.progress(it)
	}
}

// ---- classification -------------------------------------------------------

// chunkRows is the size of the row blocks whose partial sums are merged in a
// fixed order, so a fit gives the same bits whatever the number of threads.
const chunkRows = 1024

// logistic evaluates the mean weighted logloss and its gradient over the
// parameters θ = [W (k×p, row-major) | b (k)]. k is 1 (sigmoid) for binary
// classification and the number of classes otherwise.
type logistic struct {
	// ctx is checked between row chunks so that a cancel does not wait for a
	// whole pass; the caller sees ctx.Err() and discards the partial result.
	ctx     context.Context
	p       *problem
	rows    []float64 // standardised features, row-major (n×nf)
	n, nf   int
	k       int
	workers int
	parts   [][]float64 // per chunk: gradient, then the loss in the last slot
	scores  [][]float64 // per worker
}

func newLogistic(ctx context.Context, p *problem) *logistic {
	n, nf := len(p.y), len(p.z)
	k := 1
	if p.classes > 2 {
		k = p.classes
	}
	lg := &logistic{ctx: ctx, p: p, rows: make([]float64, n*nf), n: n, nf: nf, k: k}
	for j, c := range p.z {
		for i, x := range c {
			lg.rows[i*nf+j] = x
		}
	}
	chunks := (n + chunkRows - 1) / chunkRows
	lg.parts = make([][]float64, chunks)
	for c := range lg.parts {
		lg.parts[c] = make([]float64, k*nf+k+1)
	}
	lg.workers = p.threads
	if lg.workers <= 0 {
		lg.workers = runtime.GOMAXPROCS(0)
	}
	lg.workers = min(lg.workers, chunks)
	lg.scores = make([][]float64, lg.workers)
	for i := range lg.scores {
		lg.scores[i] = make([]float64, k)
	}
	return lg
}

func (lg *logistic) dim() int { return lg.k*lg.nf + lg.k }

// eval returns the mean weighted logloss at theta and, if grad is not nil,
// writes its gradient there.
func (lg *logistic) eval(theta, grad []float64) float64 {
	var next atomic.Int64
	var wg sync.WaitGroup
	for wkr := range lg.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1)) - 1
				if c >= len(lg.parts) || lg.ctx.Err() != nil {
					return
				}
				lg.chunk(theta, c, lg.scores[wkr], grad != nil)
			}
		}()
	}
	wg.Wait()
	var f float64
	if grad != nil {
		clear(grad)
	}
	last := lg.dim()
	for _, part := range lg.parts {
		f += part[last]
		if grad != nil {
			for i := range grad {
				grad[i] += part[i]
			}
		}
	}
	if grad != nil {
		for i := range grad {
			grad[i] /= lg.p.sw
		}
	}
	return f / lg.p.sw
}

func (lg *logistic) chunk(theta []float64, c int, s []float64, withGrad bool) {
	part := lg.parts[c]
	clear(part)
	nf, k := lg.nf, lg.k
	bias := theta[k*nf:]
	gb := part[k*nf : k*nf+k]
	var loss float64
	for i := c * chunkRows; i < min(lg.n, (c+1)*chunkRows); i++ {
		wi := lg.p.w[i]
		if wi == 0 {
			continue
		}
		x := lg.rows[i*nf : (i+1)*nf]
		for cl := range k {
			v := bias[cl]
			for j, wj := range theta[cl*nf : (cl+1)*nf] {
				v += wj * x[j]
			}
			s[cl] = v
		}
		y := int(lg.p.y[i])
		if k == 1 {
			loss += wi * (softplus(s[0]) - float64(y)*s[0])
			s[0] = sigmoid(s[0]) - float64(y)
		} else {
			sy := s[y]
			loss += wi * (softmax(s) - sy)
			s[y]--
		}
		if !withGrad {
			continue
		}
		for cl := range k {
			r := wi * s[cl]
			g := part[cl*nf : (cl+1)*nf]
			for j, xj := range x {
				g[j] += r * xj
			}
			gb[cl] += r
		}
	}
	part[len(part)-1] = loss
}

// validLogloss is the mean weighted logloss of theta on the validation set.
func (p *problem) validLogloss(theta []float64, k int) float64 {
	vs := p.valid
	if vs == nil {
		return math.NaN()
	}
	nf := len(vs.z)
	s := make([]float64, k)
	var loss, sw float64
	for i, yv := range vs.y {
		wi := 1.0
		if vs.w != nil {
			wi = vs.w[i]
		}
		for cl := range k {
			v := theta[k*nf+cl]
			for j := range nf {
				v += theta[cl*nf+j] * vs.z[j][i]
			}
			s[cl] = v
		}
		y := int(yv)
		if k == 1 {
			loss += wi * (softplus(s[0]) - float64(y)*s[0])
		} else {
			sy := s[y]
			loss += wi * (softmax(s) - sy)
		}
		sw += wi
	}
	return loss / sw
}

// recorder reports each L-BFGS iteration and stops the run when ctx ends.
type recorder struct {
	ctx    context.Context
	p      *problem
	k      int
	lambda float64
	step   int
}

func (r *recorder) Init() error { return nil }

func (r *recorder) Record(loc *optimize.Location, op optimize.Operation, _ *optimize.Stats) error {
	if err := r.ctx.Err(); err != nil {
		return fmt.Errorf("linear: %w", err)
	}
	if op != optimize.MajorIteration || r.p.progress == nil {
		return nil
	}
	r.step++
	nw := r.k * len(r.p.z)
	var pen float64
	for _, v := range loc.X[:nw] {
		pen += v * v
	}
	r.p.report(learn.Iteration{
		Step: r.step, Total: r.p.maxIter, Metric: "logloss",
		Loss: loc.F - 0.5*r.lambda*pen, ValidLoss: r.p.validLogloss(loc.X, r.k),
	})
	return nil
}

// classifyL2 minimises C·Σ wᵢ·loglossᵢ + ½‖W‖², divided by C·Σw so that the
// gradient tolerance does not depend on the data size (scikit-learn does the
// same). The intercept is not penalised.
func (p *problem) classifyL2(ctx context.Context, m *Model, C float64) error {
	lg := newLogistic(ctx, p)
	dim, nw := lg.dim(), lg.k*lg.nf
	lambda := 1 / (C * p.sw)
	// L-BFGS asks for the value and the gradient at the same point one after
	// the other; one pass computes both, so the second call is served from here.
	lastX, lastG := make([]float64, dim), make([]float64, dim)
	lastF, have := 0.0, false
	fg := func(x []float64) float64 {
		if have && equal(x, lastX) {
			return lastF
		}
		f := lg.eval(x, lastG)
		for i, v := range x[:nw] {
			f += 0.5 * lambda * v * v
			lastG[i] += lambda * v
		}
		copy(lastX, x)
		lastF, have = f, true
		return f
	}
	prob := optimize.Problem{
		Func: fg,
		Grad: func(g, x []float64) { fg(x); copy(g, lastG) },
	}
	settings := &optimize.Settings{
		GradientThreshold: math.Max(p.tol, 1e-12),
		MajorIterations:   p.maxIter,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-15, Relative: 1e-15, Iterations: 25},
		Recorder:          &recorder{ctx: ctx, p: p, k: lg.k, lambda: lambda},
	}
	res, err := optimize.Minimize(prob, make([]float64, dim), settings, &optimize.LBFGS{})
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("linear: %w", cerr)
	}
	if res == nil {
		return fmt.Errorf("linear: L-BFGS: %w", err)
	}
	// A line search that can make no more progress ends the run with an
	// error, but the best point found is still the answer we want.
	for _, v := range res.X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("linear: L-BFGS diverged (%v); try a smaller C", err)
		}
	}
	m.coef = append([]float64(nil), res.X[:nw]...)
	m.intercept = append([]float64(nil), res.X[nw:]...)
	return nil
}

func equal(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// classifyL1 minimises mean logloss + ‖W‖₁/(C·Σw) (C·Σ logloss + ‖W‖₁ scaled,
// as scikit-learn's l1 penalty) by accelerated proximal gradient (FISTA) with
// backtracking and restarts: L-BFGS cannot handle the kink of |w| at zero,
// which is what makes the solution sparse.
func (p *problem) classifyL1(ctx context.Context, m *Model, C float64) error {
	lg := newLogistic(ctx, p)
	dim, nw := lg.dim(), lg.k*lg.nf
	lambda := 1 / (C * p.sw)
	x, yv, xn := make([]float64, dim), make([]float64, dim), make([]float64, dim)
	g, scratch := make([]float64, dim), make([]float64, dim)
	l1 := func(v []float64) float64 {
		var s float64
		for _, a := range v[:nw] {
			s += math.Abs(a)
		}
		return lambda * s
	}
	t, L := 1.0, 1.0
	prevObj := math.Inf(1)
	for step := 1; step <= p.maxIter; step++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("linear: %w", err)
		}
		fy := lg.eval(yv, g)
		var fx float64
		for range 60 {
			for i := range xn {
				xn[i] = yv[i] - g[i]/L
				if i < nw {
					xn[i] = soft(xn[i], lambda/L)
				}
			}
			fx = lg.eval(xn, scratch)
			var lin, quad float64
			for i := range xn {
				d := xn[i] - yv[i]
				lin += d * g[i]
				quad += d * d
			}
			if fx <= fy+lin+0.5*L*quad+1e-12*math.Abs(fy) {
				break
			}
			L *= 2
		}
		var maxDelta, maxX float64
		for i := range xn {
			maxDelta = math.Max(maxDelta, math.Abs(xn[i]-x[i]))
			maxX = math.Max(maxX, math.Abs(xn[i]))
		}
		obj := fx + l1(xn)
		tn := (1 + math.Sqrt(1+4*t*t)) / 2
		if obj > prevObj {
			tn = 1 // restart: momentum overshot
		}
		for i := range yv {
			yv[i] = xn[i] + (t-1)/tn*(xn[i]-x[i])
		}
		copy(x, xn)
		t, prevObj = tn, obj
		L *= 0.9 // let the step grow again where the curvature allows
		p.report(learn.Iteration{Step: step, Total: p.maxIter, Metric: "logloss", Loss: fx, ValidLoss: p.validLogloss(x, lg.k)})
		if maxDelta <= p.tol*math.Max(1, maxX) {
			break
		}
	}
	m.coef = append([]float64(nil), x[:nw]...)
	m.intercept = append([]float64(nil), x[nw:]...)
	return nil
}

func soft(v, t float64) float64 {
	switch {
	case v > t:
		return v - t
	case v < -t:
		return v + t
	}
	return 0
}

// ---- regression ----------------------------------------------------------

func (p *problem) yMean() float64 {
	var s float64
	for i, y := range p.y {
		s += p.w[i] * y
	}
	return s / p.sw
}

// validRMSE is the weighted RMSE of the linear model on the validation set.
func (p *problem) validRMSE(coef []float64, b float64) float64 {
	vs := p.valid
	if vs == nil {
		return math.NaN()
	}
	var se, sw float64
	for i, y := range vs.y {
		wi := 1.0
		if vs.w != nil {
			wi = vs.w[i]
		}
		v := b
		for j, c := range coef {
			v += c * vs.z[j][i]
		}
		se += wi * (y - v) * (y - v)
		sw += wi
	}
	return math.Sqrt(se / sw)
}

// ridge solves (ZᵀWZ + αI) w = ZᵀW(y−ȳ) on the standardised (so weighted-
// centred) features; the intercept is then ȳ. Cholesky is the fast path; a
// singular system (alpha 0 and collinear features) falls back to the
// minimum-norm least-squares solution by SVD.
func (p *problem) ridge(ctx context.Context, m *Model, alpha float64) error {
	n, nf := len(p.y), len(p.z)
	ybar := p.yMean()
	zw := mat.NewDense(n, nf, nil)
	yw := mat.NewVecDense(n, nil)
	for i := range n {
		sq := math.Sqrt(p.w[i])
		for j := range nf {
			zw.Set(i, j, sq*p.z[j][i])
		}
		yw.SetVec(i, sq*(p.y[i]-ybar))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("linear: %w", err)
	}
	a := mat.NewSymDense(nf, nil)
	a.SymOuterK(1, zw.T())
	for j := range nf {
		a.SetSym(j, j, a.At(j, j)+alpha)
	}
	var rhs mat.VecDense
	rhs.MulVec(zw.T(), yw)
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("linear: %w", err)
	}
	var coef mat.VecDense
	var ch mat.Cholesky
	solved := false
	if ch.Factorize(a) {
		solved = ch.SolveVecTo(&coef, &rhs) == nil
	}
	if !solved {
		var svd mat.SVD
		if !svd.Factorize(a, mat.SVDThin) {
			return errors.New("linear: ridge: the normal equations could not be solved")
		}
		svd.SolveVecTo(&coef, &rhs, max(1, svd.Rank(1e-12)))
	}
	m.coef = make([]float64, nf)
	for j := range nf {
		m.coef[j] = coef.AtVec(j)
	}
	m.intercept = []float64{ybar}
	var se float64
	for i := range n {
		v := ybar
		for j := range nf {
			v += m.coef[j] * p.z[j][i]
		}
		se += p.w[i] * (p.y[i] - v) * (p.y[i] - v)
	}
	p.report(learn.Iteration{Step: 1, Total: 1, Metric: "rmse", Loss: math.Sqrt(se / p.sw), ValidLoss: p.validRMSE(m.coef, ybar)})
	return nil
}

// lasso minimises (1/2Σw) Σ wᵢ(yᵢ−ŷᵢ)² + α‖w‖₁ by cyclic coordinate descent,
// scikit-learn's Lasso objective. It stops when a sweep changes no
// coefficient by more than tol × the largest coefficient.
func (p *problem) lasso(ctx context.Context, m *Model, alpha float64) error {
	n, nf := len(p.y), len(p.z)
	ybar := p.yMean()
	r := make([]float64, n)
	for i := range r {
		r[i] = p.y[i] - ybar
	}
	norm := make([]float64, nf)
	for j, c := range p.z {
		for i, x := range c {
			norm[j] += p.w[i] * x * x
		}
		norm[j] /= p.sw
	}
	coef := make([]float64, nf)
	for step := 1; step <= p.maxIter; step++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("linear: %w", err)
		}
		var maxDelta, maxW float64
		for j, c := range p.z {
			if norm[j] == 0 {
				continue
			}
			var rho float64
			for i, x := range c {
				rho += p.w[i] * x * r[i]
			}
			rho = rho/p.sw + norm[j]*coef[j]
			nwj := soft(rho, alpha) / norm[j]
			if d := nwj - coef[j]; d != 0 {
				for i, x := range c {
					r[i] -= d * x
				}
				maxDelta = math.Max(maxDelta, math.Abs(d))
				coef[j] = nwj
			}
			maxW = math.Max(maxW, math.Abs(nwj))
		}
		if p.progress != nil {
			var se float64
			for i, v := range r {
				se += p.w[i] * v * v
			}
			p.report(learn.Iteration{Step: step, Total: p.maxIter, Metric: "rmse", Loss: math.Sqrt(se / p.sw), ValidLoss: p.validRMSE(coef, ybar)})
		}
		if maxDelta <= p.tol*maxW {
			break
		}
	}
	m.coef = coef
	m.intercept = []float64{ybar}
	return nil
}
