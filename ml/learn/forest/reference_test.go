package forest

import (
	"slices"
	"testing"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/learntest"
)

// referencePredict is the model's definition, walked node by node on the
// stored trees (Node, Sets): no bitsets, no compact form, no side-by-side
// walks. Predict must give exactly its bits.
func referencePredict(m *Model, X *learn.Features) []float64 {
	k := m.Outputs()
	vpl := m.LeafValues()
	out := make([]float64, X.Rows*k)
	for r := range X.Rows {
		dst := out[r*k : (r+1)*k]
		for t := range m.Trees {
			tr := &m.Trees[t]
			leaf := int32(0)
			if len(tr.Nodes) > 0 {
				i := int32(0)
				for i >= 0 {
					nd := &tr.Nodes[i]
					left := nd.DefaultLeft
					if j := int(nd.Feature); j < len(X.Cols) {
						c := &X.Cols[j]
						if nd.Set < 0 && c.Num != nil && c.Num[r] == c.Num[r] {
							left = float32(c.Num[r]) <= nd.Threshold
						}
						if nd.Set >= 0 && c.Codes != nil && c.Codes[r] >= 0 && int(c.Codes[r]) < m.Features[j].Levels {
							left = slices.Contains(tr.Sets[nd.Set], c.Codes[r])
						}
					}
					i = nd.Right
					if left {
						i = nd.Left
					}
				}
				leaf = ^i
			}
			for c := range vpl {
				dst[k-vpl+c] += float64(tr.Values[int(leaf)*vpl+c])
			}
		}
		inv := 1 / float64(max(len(m.Trees), 1))
		for i := range dst {
			dst[i] *= inv
		}
		if m.Classes == 2 {
			dst[0] = 1 - dst[1]
		}
	}
	return out
}

func checkMatchesReference(t *testing.T, m *Model, X *learn.Features) {
	t.Helper()
	want := referencePredict(m, X)
	got := predict(m, X)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("output %d (row %d): %v, the reference walk gives %v", i, i/m.Outputs(), got[i], want[i])
		}
	}
	learntest.CheckOneRowMatchesBatch(t, m, X)
}
