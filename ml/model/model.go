// Package model holds Modelsmith's fitted Pipeline — the input schema, the
// fitted preprocessing (ml/prep) and the trained predictor — with its
// versioned, checksummed native codec and prediction for batches (in
// parallel) and for single rows (without per-row allocation). It also turns a
// target column into class indices or regression values (Labels, InferTask).
//
// It is a pure library: it must not import storage, app, views or Fyne.
package model

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/prep"
)

// The tasks.
const (
	Binary     = "binary"
	Multiclass = "multiclass"
	Regression = "regression"
)

// Input is one input column of a Pipeline.
type Input struct {
	Name string `json:"name"`
	// Type is numeric, categorical, text or datetime.
	Type string `json:"type"`
	// Levels are a categorical column's training levels.
	Levels []string `json:"levels,omitempty"`
}

// InputsOf is the input schema of a fitted Prep, in its column order.
func InputsOf(p *prep.Prep) []Input {
	var out []Input
	for _, in := range p.Inputs() {
		out = append(out, Input{Name: in.Name, Type: in.Kind.String(), Levels: in.Levels})
	}
	return out
}

// Pipeline is a fitted model: what it reads, how it transforms it and the
// predictor that scores the result — or an ensemble: a weighted sum of
// member pipelines (Members set, Prep and Predictor nil; see Member).
type Pipeline struct {
	Inputs  []Input // the input schema (feature columns, in training order)
	Target  string
	Task    string   // Binary, Multiclass or Regression
	Classes []string // class labels, sorted as Labels sorts them; index = class code
	Prep    *prep.Prep
	// Predictor scores the features Prep makes.
	Predictor learn.Predictor
	// Members, when set, make the Pipeline an ensemble: Prep and Predictor
	// are nil and the output is Σ Weight·member output.
	Members []Member
	// Meta is free-form: algorithm, params JSON, seed, dataset hash, code version...
	Meta map[string]string
}

// Outputs is the number of values Predict writes per row: 1 for regression,
// one probability per class for classification.
func (p *Pipeline) Outputs() int {
	if p.IsEnsemble() {
		return p.Members[0].Pipeline.Outputs()
	}
	return p.Predictor.Outputs()
}

// blockRows is the number of rows Predict transforms and scores at a time:
// enough to amortise the per-block work, small enough to keep the features of
// all workers in cache-friendly sizes and to check ctx often.
const blockRows = 4096

// Predict scores every row of f and returns Outputs() values per row,
// row-major. Columns are matched by name: extra columns and another order are
// fine, a missing input column is an error naming it. Blocks of rows are
// transformed and scored in parallel; ctx is checked between blocks.
func (p *Pipeline) Predict(ctx context.Context, f *data.Frame) ([]float64, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("model: predict: %w", err)
	}
	if p.IsEnsemble() {
		out, err := p.predictEnsemble(func(m *Pipeline) ([]float64, error) { return m.Predict(ctx, f) })
		if err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
		return out, nil
	}
	b, err := p.Prep.Bind(f)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	k := p.Outputs()
	n := b.Rows()
	out := make([]float64, n*k)
	blocks := (n + blockRows - 1) / blockRows
	workers := min(runtime.GOMAXPROCS(0), blocks)
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for !stop.Load() {
				i := int(next.Add(1) - 1)
				if i >= blocks {
					return
				}
				if ctx.Err() != nil {
					stop.Store(true)
					return
				}
				from, to := i*blockRows, min((i+1)*blockRows, n)
				x := b.Transform(from, to)
				p.Predictor.Predict(x, out[from*k:to*k])
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil && stop.Load() {
		return nil, fmt.Errorf("model: predict: %w", err)
	}
	return out, nil
}

func (p *Pipeline) check() error {
	if p.IsEnsemble() {
		if p.Prep != nil || p.Predictor != nil {
			return errors.New("model: an ensemble has members, not its own prep or predictor")
		}
		return p.checkEnsemble()
	}
	if p == nil || p.Prep == nil || p.Predictor == nil {
		return errors.New("model: pipeline has no prep or predictor")
	}
	if p.Predictor.Outputs() < 1 {
		return errors.New("model: predictor has no outputs")
	}
	return nil
}

// RowPredictor scores one row at a time, reusing its buffers: after the
// first call, Predict does not allocate. It is not safe for concurrent use;
// make one per goroutine.
type RowPredictor struct {
	p     *Pipeline
	row   *prep.Row
	cells []string // per Prep input, the cell from values
	from  []int    // per Prep input, its index in Pipeline.Inputs
	err   error
	// An ensemble's row predictor: one per member, their cells and outputs.
	members []*RowPredictor
	mcells  [][]string
	mfrom   [][]int // per member input, its index in the ensemble's Inputs
	mout    []float64
}

// NewRowPredictor makes a RowPredictor for p.
func (p *Pipeline) NewRowPredictor() *RowPredictor {
	r := &RowPredictor{p: p}
	if r.err = p.check(); r.err != nil {
		return r
	}
	idx := make(map[string]int, len(p.Inputs))
	for i, in := range p.Inputs {
		idx[in.Name] = i
	}
	if p.IsEnsemble() {
		for mi, m := range p.Members {
			from := make([]int, len(m.Pipeline.Inputs))
			for j, in := range m.Pipeline.Inputs {
				i, ok := idx[in.Name]
				if !ok {
					r.err = fmt.Errorf("model: input %q of ensemble member %d is not in the ensemble's inputs", in.Name, mi+1)
					return r
				}
				from[j] = i
			}
			r.members = append(r.members, m.Pipeline.NewRowPredictor())
			r.mcells = append(r.mcells, make([]string, len(from)))
			r.mfrom = append(r.mfrom, from)
		}
		r.mout = make([]float64, p.Outputs())
		return r
	}
	ins := p.Prep.Inputs()
	r.from = make([]int, len(ins))
	for j, in := range ins {
		i, ok := idx[in.Name]
		if !ok && in.Excluded == "" {
			r.err = fmt.Errorf("model: input %q of the prep is not in the pipeline's inputs", in.Name)
			return r
		}
		if !ok {
			i = -1
		}
		r.from[j] = i
	}
	r.cells = make([]string, len(ins))
	r.row = p.Prep.NewRow()
	return r
}

// Predict scores one row: values holds one cell per Pipeline.Inputs, as text
// as in a CSV file ("" and data.DefaultNATokens are missing). It writes
// Outputs() values to out.
func (r *RowPredictor) Predict(values []string, out []float64) error {
	if r.err != nil {
		return r.err
	}
	if len(values) != len(r.p.Inputs) {
		return fmt.Errorf("model: %d values for %d inputs", len(values), len(r.p.Inputs))
	}
	k := r.p.Outputs()
	if len(out) < k {
		return fmt.Errorf("model: output buffer of %d for %d outputs", len(out), k)
	}
	if r.members != nil {
		clear(out[:k])
		for mi, m := range r.members {
			cells := r.mcells[mi]
			for j, i := range r.mfrom[mi] {
				cells[j] = values[i]
			}
			if err := m.Predict(cells, r.mout); err != nil {
				return fmt.Errorf("ensemble member %d: %w", mi+1, err)
			}
			w := r.p.Members[mi].Weight
			for j := range k {
				out[j] += w * r.mout[j]
			}
		}
		return nil
	}
	for j, i := range r.from {
		if i >= 0 {
			r.cells[j] = values[i]
		} else {
			r.cells[j] = ""
		}
	}
	if err := r.row.Set(r.cells); err != nil {
		return fmt.Errorf("model: %w", err)
	}
	r.p.Predictor.Predict(r.row.Features(), out[:k])
	return nil
}
