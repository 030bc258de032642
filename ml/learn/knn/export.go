package knn

import "slices"

// Exported is a fitted model's parameters for exporters (ml/onnx); the
// slices are copies. A query is standardised with Mean and Scale (a missing
// value leaves its dimension out of every distance); its K nearest training
// rows X (standardised, row-major, len(Mean) per row) by squared Euclidean
// distance, ties to the earlier row, vote with weight W[row] (1 when W is
// nil), divided by the distance when Distance (exact matches then vote
// alone). Regression averages Y; classification gives each class the share
// of the votes of the rows whose Y is its index.
type Exported struct {
	Classes  int
	K        int
	Distance bool
	Mean     []float64
	Scale    []float64
	X        []float64
	Y        []float64
	W        []float64
}

// Export returns the model's parameters.
func (m *Model) Export() Exported {
	return Exported{
		Classes: m.classes, K: m.k, Distance: m.distance, Mean: slices.Clone(m.mean), Scale: slices.Clone(m.scale),
		X: slices.Clone(m.x), Y: slices.Clone(m.y), W: slices.Clone(m.w),
	}
}
