package nn

import "slices"

// Exported is a fitted perceptron's parameters for exporters (ml/onnx); the
// slices are copies. The input x is standardised to (x − Mean) / Scale (a
// missing value becomes 0); layer l computes a·W[l] + B[l] with W[l]
// Sizes[l]×Sizes[l+1] row-major, followed by Activation ("relu", "tanh" or
// "sigmoid") on every layer but the last. Classification takes the softmax
// of the last layer; regression returns score·YScale + YMean.
type Exported struct {
	Classes       int
	Activation    string
	Sizes         []int
	W, B          [][]float64
	Mean, Scale   []float64
	YMean, YScale float64
}

// Export returns the model's parameters.
func (m *Model) Export() Exported {
	e := Exported{
		Classes: m.classes, Activation: activationNames[m.act], Sizes: slices.Clone(m.sizes),
		Mean: slices.Clone(m.mean), Scale: slices.Clone(m.scale), YMean: m.ymean, YScale: m.yscale,
	}
	for l := range m.w {
		e.W = append(e.W, slices.Clone(m.w[l]))
		e.B = append(e.B, slices.Clone(m.b[l]))
	}
	return e
}
