package linear

import "slices"

// Exported is a fitted model's parameters for exporters (ml/onnx); the
// slices are copies. The score of output c is Intercept[c] plus
// Σ_j Coef[c*len(Mean)+j] · (x_j − Mean[j]) / Scale[j], a missing x_j adding
// nothing. Regression returns the score; binary classification has one score
// s (P(class 1) = σ(s)); multiclass takes the softmax of Classes scores.
type Exported struct {
	Classes   int
	Mean      []float64
	Scale     []float64
	Coef      []float64
	Intercept []float64
}

// Export returns the model's parameters.
func (m *Model) Export() Exported {
	return Exported{
		Classes: m.classes, Mean: slices.Clone(m.mean), Scale: slices.Clone(m.scale),
		Coef: slices.Clone(m.coef), Intercept: slices.Clone(m.intercept),
	}
}
