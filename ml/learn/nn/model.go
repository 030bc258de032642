package nn

import (
	"math"
	"runtime"
	"strconv"
	"sync"

	"modelsmith/ml/learn"
)

// activation is a hidden layer's nonlinearity; its value is what the codec
// stores.
type activation uint8

const (
	relu activation = iota
	tanh
	sigmoid
	numActivations
)

var activationNames = [numActivations]string{"relu", "tanh", "sigmoid"}

// activationOf returns the activation named s, or -1.
func activationOf(s string) int {
	for i, n := range activationNames {
		if n == s {
			return i
		}
	}
	return -1
}

func (a activation) apply(v []float64) {
	switch a {
	case relu:
		for i, x := range v {
			if !(x > 0) {
				v[i] = 0
			}
		}
	case tanh:
		for i, x := range v {
			v[i] = math.Tanh(x)
		}
	case sigmoid:
		for i, x := range v {
			v[i] = sigmoidOf(x)
		}
	}
}

func sigmoidOf(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Model is a fitted multilayer perceptron: plain float64 weights and a Go
// forward pass. It is immutable, so safe for concurrent use.
type Model struct {
	network
	classes int // 0 for regression
	// mean and scale standardise the features.
	mean, scale []float64
	// ymean and yscale undo the standardisation of a regression target
	// (0 and 1 for classification).
	ymean, yscale float64

	scratch sync.Pool // of *[]float64, two buffers of the widest layer
}

// network is the layers of a perceptron.
type network struct {
	act activation
	// sizes are the layer widths: inputs, hidden layers, outputs (1 for
	// regression, classes otherwise).
	sizes []int
	// w[l] is layer l's weights, sizes[l] rows of sizes[l+1], row-major;
	// b[l] its biases.
	w, b [][]float64
}

// Outputs is 1 for regression, the number of classes otherwise.
func (m *Model) Outputs() int { return m.sizes[len(m.sizes)-1] }

// Family is "nn".
func (m *Model) Family() string { return family }

// width is the widest layer.
func (n *network) width() int {
	w := 0
	for _, s := range n.sizes {
		w = max(w, s)
	}
	return w
}

// rowsPerTask is how many rows one goroutine takes: few enough to spread a
// big batch over the cores, many enough that starting it costs little.
const rowsPerTask = 512

// Predict writes one value per row (regression) or the class probabilities.
// A missing value (NaN, or a categorical column where a numeric one was
// trained) counts as the training mean. Big batches are split across
// goroutines (at most GOMAXPROCS). It panics if X has a different number of
// features than the training data or out has the wrong length: both are
// programming errors that the pipeline's schema check rules out.
func (m *Model) Predict(X *learn.Features, out []float64) {
	p, o := m.sizes[0], m.Outputs()
	if len(X.Cols) != p || len(out) != X.Rows*o {
		panic("nn: Predict: got " + strconv.Itoa(len(X.Cols)) + " features and " + strconv.Itoa(len(out)) +
			" outputs for " + strconv.Itoa(X.Rows) + " rows; want " + strconv.Itoa(p) + " features and " + strconv.Itoa(o) + " per row")
	}
	tasks := min((X.Rows+rowsPerTask-1)/rowsPerTask, runtime.GOMAXPROCS(0))
	if tasks <= 1 {
		m.predictRows(X, out, 0, X.Rows)
		return
	}
	var wg sync.WaitGroup
	per := (X.Rows + tasks - 1) / tasks
	for lo := 0; lo < X.Rows; lo += per {
		hi := min(lo+per, X.Rows)
		wg.Go(func() { m.predictRows(X, out, lo, hi) })
	}
	wg.Wait()
}

// predictRows runs the forward pass for rows [lo, hi) with one scratch
// buffer, so it allocates nothing per row.
func (m *Model) predictRows(X *learn.Features, out []float64, lo, hi int) {
	buf, _ := m.scratch.Get().(*[]float64)
	if buf == nil {
		s := make([]float64, 2*m.width())
		buf = &s
	}
	defer m.scratch.Put(buf)
	wd := len(*buf) / 2
	a, z := (*buf)[:wd], (*buf)[wd:]
	p, o := m.sizes[0], m.Outputs()
	for i := lo; i < hi; i++ {
		in := a[:p]
		for j := range p {
			in[j] = 0
			if col := X.Cols[j].Num; len(col) == X.Rows {
				if x := col[i]; !math.IsNaN(x) {
					in[j] = (x - m.mean[j]) / m.scale[j]
				}
			}
		}
		res := m.forward(in, a, z)
		m.finish(res, out[i*o:(i+1)*o])
	}
}

// forward runs the layers on the standardised input in (which aliases a's
// start) using a and z as alternating buffers, and returns the output
// layer's scores, which alias one of them.
func (n *network) forward(in, a, z []float64) []float64 {
	cur := in
	last := len(n.w) - 1
	for l, w := range n.w {
		nout := n.sizes[l+1]
		next := z[:nout]
		copy(next, n.b[l])
		for k, x := range cur {
			if x == 0 {
				continue // common after relu, and exact
			}
			row := w[k*nout : (k+1)*nout]
			for c, wv := range row {
				next[c] += x * wv
			}
		}
		if l < last {
			n.act.apply(next)
		}
		cur = next
		a, z = z, a
	}
	return cur
}

// finish turns output scores into what Predict reports: the target in its
// own units, or class probabilities.
func (m *Model) finish(scores, out []float64) {
	if m.classes == 0 {
		out[0] = scores[0]*m.yscale + m.ymean
		return
	}
	copy(out, scores)
	softmax(out)
}

// softmax turns scores into probabilities in place and returns log Σ exp.
func softmax(s []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range s {
		mx = math.Max(mx, v)
	}
	var sum float64
	for i, v := range s {
		s[i] = math.Exp(v - mx)
		sum += s[i]
	}
	for i := range s {
		s[i] /= sum
	}
	return mx + math.Log(sum)
}
