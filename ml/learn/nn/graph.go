package nn

import (
	"errors"
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// trainer is the training graph of one Fit, compiled for one batch size:
// the caller writes a mini-batch into the input slices and calls step.
type trainer struct {
	vm     gorgonia.VM
	solver gorgonia.Solver
	params gorgonia.Nodes // w0, b0, w1, b1, ...
	cost   *gorgonia.Node

	inputs []input
	// x is the batch's standardised features, batch×p row-major. target is
	// the one-hot class times the row's weight share (classification,
	// batch×classes) or the standardised target (regression, batch×1);
	// weight is the row's weight share (regression only, batch×1). masks[l]
	// is hidden layer l's dropout mask, 0 or 1/(1−dropout) (nil without
	// dropout).
	x, target, weight []float64
	masks             [][]float64
}

// input is an input node and the tensor bound to it, whose backing slice
// the caller fills before each step.
type input struct {
	node *gorgonia.Node
	t    *tensor.Dense
}

// arch is what compile needs to know of the network.
type arch struct {
	sizes   []int // inputs, hidden..., outputs
	act     activation
	classes int // 0: regression
	dropout float64
	lr, l2  float64
	batch   int
	device  string
}

// compile builds the training graph and the machine that runs it, starting
// from the weights in w and b (layer by layer, as in Model). It is the one
// place that knows the device: a CUDA build would choose gorgonia's CUDA
// machine here.
func compile(a arch, w, b [][]float64) (tr *trainer, err error) {
	if a.device != "cpu" {
		return nil, fmt.Errorf("nn: device %q is not available in this build", a.device)
	}
	defer func() {
		if r := recover(); r != nil {
			tr, err = nil, fmt.Errorf("nn: building the training graph: %v", r)
		}
	}()
	g := gorgonia.NewGraph()
	tr = &trainer{}
	newInput := func(name string, rows, cols int) (*gorgonia.Node, []float64) {
		data := make([]float64, rows*cols)
		t := tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(data))
		n := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(rows, cols), gorgonia.WithName(name), gorgonia.WithValue(t))
		tr.inputs = append(tr.inputs, input{n, t})
		return n, data
	}
	nl := len(a.sizes) - 1
	var h *gorgonia.Node
	h, tr.x = newInput("x", a.batch, a.sizes[0])
	for l := range nl {
		in, out := a.sizes[l], a.sizes[l+1]
		wl := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(in, out), gorgonia.WithName(fmt.Sprintf("w%d", l)),
			gorgonia.WithValue(tensor.New(tensor.WithShape(in, out), tensor.WithBacking(append([]float64(nil), w[l]...)))))
		bl := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(1, out), gorgonia.WithName(fmt.Sprintf("b%d", l)),
			gorgonia.WithValue(tensor.New(tensor.WithShape(1, out), tensor.WithBacking(append([]float64(nil), b[l]...)))))
		tr.params = append(tr.params, wl, bl)
		z, err := gorgonia.Mul(h, wl)
		if err != nil {
			return nil, err
		}
		if z, err = gorgonia.BroadcastAdd(z, bl, nil, []byte{0}); err != nil {
			return nil, err
		}
		if l == nl-1 {
			h = z
			break
		}
		switch a.act {
		case relu:
			h, err = gorgonia.Rectify(z)
		case tanh:
			h, err = gorgonia.Tanh(z)
		default:
			h, err = gorgonia.Sigmoid(z)
		}
		if err != nil {
			return nil, err
		}
		if a.dropout > 0 {
			mask, data := newInput(fmt.Sprintf("mask%d", l), a.batch, out)
			tr.masks = append(tr.masks, data)
			if h, err = gorgonia.HadamardProd(h, mask); err != nil {
				return nil, err
			}
		}
	}
	if a.classes > 0 {
		// −Σ share·log p(class): the batch's weighted mean cross-entropy.
		var target *gorgonia.Node
		target, tr.target = newInput("target", a.batch, a.classes)
		logp, err := gorgonia.LogSoftMax(h, 1)
		if err != nil {
			return nil, err
		}
		if logp, err = gorgonia.HadamardProd(logp, target); err != nil {
			return nil, err
		}
		if tr.cost, err = gorgonia.Sum(logp); err != nil {
			return nil, err
		}
		if tr.cost, err = gorgonia.Neg(tr.cost); err != nil {
			return nil, err
		}
	} else {
		// Σ share·(ŷ − y)²: the batch's weighted mean squared error.
		var target, weight *gorgonia.Node
		target, tr.target = newInput("target", a.batch, 1)
		weight, tr.weight = newInput("weight", a.batch, 1)
		d, err := gorgonia.Sub(h, target)
		if err != nil {
			return nil, err
		}
		if d, err = gorgonia.Square(d); err != nil {
			return nil, err
		}
		if d, err = gorgonia.HadamardProd(d, weight); err != nil {
			return nil, err
		}
		if tr.cost, err = gorgonia.Sum(d); err != nil {
			return nil, err
		}
	}
	if _, err := gorgonia.Grad(tr.cost, tr.params...); err != nil {
		return nil, err
	}
	tr.vm = gorgonia.NewTapeMachine(g, gorgonia.BindDualValues(tr.params...))
	opts := []gorgonia.SolverOpt{gorgonia.WithLearnRate(a.lr)}
	if a.l2 > 0 {
		opts = append(opts, gorgonia.WithL2Reg(a.l2))
	}
	tr.solver = gorgonia.NewAdamSolver(opts...)
	return tr, nil
}

// step runs the graph on the batch in the input slices, takes one Adam step
// and returns the batch's loss. A panic inside gorgonia becomes an error.
func (tr *trainer) step() (loss float64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("nn: training step: %v", r)
		}
	}()
	for _, in := range tr.inputs {
		if err := gorgonia.Let(in.node, in.t); err != nil {
			return 0, fmt.Errorf("nn: training step: %w", err)
		}
	}
	if err := tr.vm.RunAll(); err != nil {
		return 0, fmt.Errorf("nn: training step: %w", err)
	}
	v, ok := tr.cost.Value().Data().(float64)
	if !ok {
		return 0, errors.New("nn: training step: the loss is not a float64 scalar")
	}
	if err := tr.solver.Step(gorgonia.NodesToValueGrads(tr.params)); err != nil {
		return 0, fmt.Errorf("nn: training step: %w", err)
	}
	tr.vm.Reset()
	return v, nil
}

// weights copies the current weights into w and b (shaped as in Model).
func (tr *trainer) weights(w, b [][]float64) error {
	for i, n := range tr.params {
		data, ok := n.Value().Data().([]float64)
		dst := w
		if i%2 == 1 {
			dst = b
		}
		if !ok || len(data) != len(dst[i/2]) {
			return fmt.Errorf("nn: reading the weights of %s", n.Name())
		}
		copy(dst[i/2], data)
	}
	return nil
}

// close releases the machine.
func (tr *trainer) close() { tr.vm.Close() }
