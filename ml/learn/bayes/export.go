package bayes

import "slices"

// Exported is a fitted model's parameters for exporters (ml/onnx); the
// slices are copies, classes×features row-major. The log joint of class c
// is LogPrior[c] plus, per present feature j: Gaussian,
// LogNorm[c,j] − (x_j − Mean[c,j])² · HalfInv[c,j]; multinomial,
// x_j · LogProb[c,j] for x_j > 0. Missing values (and negative values in
// the multinomial model) are left out; probabilities are the softmax of the
// log joints, equal shares when every log joint is −Inf.
type Exported struct {
	Multinomial bool
	Classes     int
	LogPrior    []float64
	Mean        []float64 // Gaussian
	LogNorm     []float64 // Gaussian: −½log(2πv)
	HalfInv     []float64 // Gaussian: 1/(2v)
	LogProb     []float64 // multinomial: log P(feature | class)
}

// Export returns the model's parameters.
func (m *Model) Export() Exported {
	e := Exported{Multinomial: m.multinomial, Classes: m.classes, LogPrior: slices.Clone(m.logPrior)}
	if m.multinomial {
		e.LogProb = slices.Clone(m.a)
	} else {
		e.Mean, e.LogNorm, e.HalfInv = slices.Clone(m.a), slices.Clone(m.logNorm), slices.Clone(m.halfInv)
	}
	return e
}
