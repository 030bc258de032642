package model

import (
	"errors"
	"fmt"
	"math"
)

// Member is one model of an ensemble Pipeline and its weight.
type Member struct {
	Weight   float64
	Pipeline *Pipeline
}

// An ensemble is a Pipeline whose Members are set and whose Prep and
// Predictor are nil. Its output is the weighted sum of its members' outputs,
//
//	out[r][k] = Σ_m Weight_m · member_m(r)[k],
//
// with the weights as stored (AutoML's greedy selection makes them sum to
// 1, so class probabilities stay probabilities). Each member is a plain
// (non-ensemble) Pipeline with its own Prep, reading the columns of the
// ensemble's Inputs by name; all members have the ensemble's task, classes
// and number of outputs. Predict, NewRowPredictor and the codec treat an
// ensemble like any Pipeline, so serving, evaluation, explanation and export
// need nothing special (ONNX export: one sub-graph per member, then a
// weighted sum).

// IsEnsemble reports whether p combines member pipelines.
func (p *Pipeline) IsEnsemble() bool { return p != nil && len(p.Members) > 0 }

func (p *Pipeline) checkEnsemble() error {
	k := -1
	sum := 0.0
	for i, m := range p.Members {
		if m.Pipeline == nil {
			return fmt.Errorf("model: ensemble member %d is missing", i+1)
		}
		if m.Pipeline.IsEnsemble() {
			return fmt.Errorf("model: ensemble member %d is an ensemble itself", i+1)
		}
		if err := m.Pipeline.check(); err != nil {
			return fmt.Errorf("model: ensemble member %d: %w", i+1, err)
		}
		if math.IsNaN(m.Weight) || math.IsInf(m.Weight, 0) || m.Weight < 0 {
			return fmt.Errorf("model: ensemble member %d has weight %v", i+1, m.Weight)
		}
		sum += m.Weight
		o := m.Pipeline.Predictor.Outputs()
		if k >= 0 && o != k {
			return fmt.Errorf("model: ensemble members have %d and %d outputs", k, o)
		}
		k = o
	}
	if !(sum > 0) {
		return errors.New("model: ensemble weights sum to 0")
	}
	return nil
}

// predictEnsemble is the weighted sum of the members' predictions.
func (p *Pipeline) predictEnsemble(predict func(*Pipeline) ([]float64, error)) ([]float64, error) {
	var out []float64
	for i, m := range p.Members {
		got, err := predict(m.Pipeline)
		if err != nil {
			return nil, fmt.Errorf("ensemble member %d: %w", i+1, err)
		}
		if out == nil {
			out = make([]float64, len(got))
		}
		for j, v := range got {
			out[j] += m.Weight * v
		}
	}
	return out, nil
}
