package onnx

import (
	"fmt"
	"math"

	"modelsmith/ml/learn/bayes"
	"modelsmith/ml/learn/knn"
	"modelsmith/ml/learn/linear"
	"modelsmith/ml/learn/nn"
)

// standardised returns (x - mean) / scale with missing values as 0, which
// is how the linear, kNN and MLP models read a missing feature.
func standardised(b *builder, x string, mean, scale []float64) string {
	p := int64(len(mean))
	z := b.div(b.sub(x, b.doubles(mean, 1, p)), b.doubles(scale, 1, p))
	return b.where(b.isNaN(z), b.scalar(0), z)
}

// transpose turns k rows of p values into p rows of k.
func transpose(w []float64, k, p int) []float64 {
	out := make([]float64, len(w))
	for c := range k {
		for j := range p {
			out[j*k+c] = w[c*p+j]
		}
	}
	return out
}

func exportLinear(b *builder, m linear.Exported, x string, features int) (string, error) {
	p, k := len(m.Mean), len(m.Intercept)
	if p != features || len(m.Scale) != p || len(m.Coef) != k*p || k == 0 {
		return "", fmt.Errorf("onnx: export: linear model with %d features, %d coefficients and %d intercepts for %d prep features", p, len(m.Coef), k, features)
	}
	z := standardised(b, x, m.Mean, m.Scale)
	s := b.add(b.op("MatMul", []string{z, b.doubles(transpose(m.Coef, k, p), int64(p), int64(k))}), b.doubles(m.Intercept, 1, int64(k)))
	switch {
	case m.Classes == 0 && k == 1:
		return s, nil
	case m.Classes == 2 && k == 1:
		return b.binaryProbs(b.sigmoid(s)), nil
	case m.Classes > 2 && k == m.Classes:
		return b.softmax(s), nil
	}
	return "", fmt.Errorf("onnx: export: linear model with %d classes and %d scores", m.Classes, k)
}

func exportNN(b *builder, m nn.Exported, x string, features int) (string, error) {
	L := len(m.W)
	if len(m.Sizes) != L+1 || len(m.B) != L || L == 0 || m.Sizes[0] != features || len(m.Mean) != features || len(m.Scale) != features {
		return "", fmt.Errorf("onnx: export: nn model with layers %v for %d prep features", m.Sizes, features)
	}
	a := standardised(b, x, m.Mean, m.Scale)
	for l := range L {
		in, out := m.Sizes[l], m.Sizes[l+1]
		if len(m.W[l]) != in*out || len(m.B[l]) != out {
			return "", fmt.Errorf("onnx: export: nn layer %d: %d weights and %d biases for %d×%d", l, len(m.W[l]), len(m.B[l]), in, out)
		}
		a = b.add(b.op("MatMul", []string{a, b.doubles(m.W[l], int64(in), int64(out))}), b.doubles(m.B[l], 1, int64(out)))
		if l == L-1 {
			break
		}
		switch m.Activation {
		case "relu":
			a = b.op("Relu", []string{a})
		case "tanh":
			a = b.op("Tanh", []string{a})
		case "sigmoid":
			a = b.sigmoid(a)
		default:
			return "", fmt.Errorf("onnx: export: nn activation %q has no ONNX form", m.Activation)
		}
	}
	if m.Classes == 0 {
		if m.Sizes[L] != 1 {
			return "", fmt.Errorf("onnx: export: nn regression with %d outputs", m.Sizes[L])
		}
		return b.add(b.mul(a, b.scalar(m.YScale)), b.scalar(m.YMean)), nil
	}
	if m.Sizes[L] != m.Classes {
		return "", fmt.Errorf("onnx: export: nn with %d classes and %d outputs", m.Classes, m.Sizes[L])
	}
	return b.softmax(a), nil
}

// exportKNN computes every query's squared distance to every training row
// ([N, M] doubles, so memory grows with batch × training rows), takes the K
// smallest (TopK keeps the earlier row on a tie, as the app does) and
// combines their votes.
func exportKNN(b *builder, m knn.Exported, x string, features int) (string, error) {
	p := len(m.Mean)
	if p != features || len(m.Scale) != p || p == 0 || len(m.X) != len(m.Y)*p || len(m.Y) == 0 || m.W != nil && len(m.W) != len(m.Y) {
		return "", fmt.Errorf("onnx: export: knn model with %d features and %d training values for %d prep features", p, len(m.X), features)
	}
	M := len(m.Y)
	k := min(m.K, M)
	if k < 1 {
		return "", fmt.Errorf("onnx: export: knn with k=%d", m.K)
	}
	q := b.div(b.sub(x, b.doubles(m.Mean, 1, int64(p))), b.doubles(m.Scale, 1, int64(p)))
	q = b.op("Unsqueeze", []string{q, b.int64s([]int64{1}, 1)}) // [N, 1, p]
	diff := b.sub(q, b.doubles(m.X, 1, int64(M), int64(p)))     // [N, M, p]
	sq := b.mul(diff, diff)
	sq = b.where(b.isNaN(sq), b.scalar(0), sq) // a missing query value is left out
	d := b.op("ReduceSum", []string{sq, b.int64s([]int64{2}, 1)}, intAttr("keepdims", 0))
	top := b.fresh("TopK")
	idx := b.fresh("TopK_idx")
	b.g.Nodes = append(b.g.Nodes, node{
		Inputs: []string{d, b.int64s([]int64{int64(k)}, 1)}, Outputs: []string{top, idx}, Name: top, Op: "TopK",
		Attrs: []attribute{intAttr("axis", 1), intAttr("largest", 0), intAttr("sorted", 1)},
	})
	w := b.scalar(1)
	if m.W != nil {
		w = b.op("Gather", []string{b.doubles(m.W, int64(M)), idx}, intAttr("axis", 0)) // [N, k]
	}
	if m.Distance {
		// Exact matches (distance 0) vote alone; otherwise weight / distance.
		zero := b.op("Equal", []string{top, b.scalar(0)})
		anyZero := b.op("ReduceMax", []string{b.cast(zero, tDouble), b.int64s([]int64{1}, 1)}, intAttr("keepdims", 1))
		inv := b.div(w, b.op("Sqrt", []string{top}))
		exact := b.mul(w, b.cast(zero, tDouble))
		w = b.where(b.op("Greater", []string{anyZero, b.scalar(0)}), exact, inv)
	} else if m.W == nil {
		w = b.op("Expand", []string{w, b.op("Shape", []string{top})})
	}
	sw := b.op("ReduceSum", []string{w, b.int64s([]int64{1}, 1)}, intAttr("keepdims", 1)) // [N, 1]
	if m.Classes == 0 {
		y := b.op("Gather", []string{b.doubles(m.Y, int64(M)), idx}, intAttr("axis", 0))
		s := b.op("ReduceSum", []string{b.mul(w, y), b.int64s([]int64{1}, 1)}, intAttr("keepdims", 1))
		return b.div(s, sw), nil
	}
	C := m.Classes
	onehot := make([]float64, M*C)
	for r, y := range m.Y {
		c := int(y)
		if c < 0 || c >= C || float64(c) != y {
			return "", fmt.Errorf("onnx: export: knn training row %d has class %v of %d", r, y, C)
		}
		onehot[r*C+c] = 1
	}
	votes := b.op("Gather", []string{b.doubles(onehot, int64(M), int64(C)), idx}, intAttr("axis", 0)) // [N, k, C]
	wk := b.op("Unsqueeze", []string{w, b.int64s([]int64{2}, 1)})                                     // [N, k, 1]
	s := b.op("ReduceSum", []string{b.mul(votes, wk), b.int64s([]int64{1}, 1)}, intAttr("keepdims", 0))
	return b.div(s, sw), nil
}

func exportBayes(b *builder, m bayes.Exported, x string, features int) (string, error) {
	k := m.Classes
	p := features
	if k < 2 || len(m.LogPrior) != k {
		return "", fmt.Errorf("onnx: export: bayes model with %d classes and %d priors", k, len(m.LogPrior))
	}
	prior := b.doubles(m.LogPrior, 1, int64(k))
	var joint string
	if m.Multinomial {
		if len(m.LogProb) != k*p {
			return "", fmt.Errorf("onnx: export: multinomial bayes with %d log probabilities for %d classes × %d features", len(m.LogProb), k, p)
		}
		for _, v := range m.LogProb {
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return "", fmt.Errorf("onnx: export: multinomial bayes with an infinite log probability (smoothing alpha 0): 0·log 0 has no exact ONNX form")
			}
		}
		// Missing and negative counts are left out, as are zeros (0·a = 0).
		keep := b.op("Greater", []string{x, b.scalar(0)})
		xc := b.where(keep, x, b.scalar(0))
		joint = b.add(prior, b.op("MatMul", []string{xc, b.doubles(transpose(m.LogProb, k, p), int64(p), int64(k))}))
	} else {
		if len(m.Mean) != k*p || len(m.LogNorm) != k*p || len(m.HalfInv) != k*p {
			return "", fmt.Errorf("onnx: export: gaussian bayes with %d means for %d classes × %d features", len(m.Mean), k, p)
		}
		xq := b.op("Unsqueeze", []string{x, b.int64s([]int64{1}, 1)}) // [N, 1, p]
		t := b.sub(xq, b.doubles(m.Mean, 1, int64(k), int64(p)))      // [N, k, p]
		term := b.sub(b.doubles(m.LogNorm, 1, int64(k), int64(p)), b.mul(b.mul(t, t), b.doubles(m.HalfInv, 1, int64(k), int64(p))))
		missing := b.isNaN(xq)
		term = b.where(missing, b.scalar(0), term)
		joint = b.add(prior, b.op("ReduceSum", []string{term, b.int64s([]int64{2}, 1)}, intAttr("keepdims", 0)))
	}
	// A row no class explains (every log joint −Inf) gets equal shares.
	mx := b.op("ReduceMax", []string{joint, b.int64s([]int64{1}, 1)}, intAttr("keepdims", 1))
	bad := b.op("Or", []string{b.op("IsInf", []string{mx}), b.isNaN(mx)})
	return b.where(bad, b.scalar(1/float64(k)), b.softmax(joint)), nil
}
