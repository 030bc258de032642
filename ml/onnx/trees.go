package onnx

import (
	"fmt"
	"math"

	"modelsmith/ml/learn/forest"
	"modelsmith/ml/learn/gbdt"
)

// Node modes of ai.onnx.ml TreeEnsemble (opset 5).
const (
	modeLEQ    = 0
	modeMember = 6
)

// ensemble collects the attributes of one ai.onnx.ml TreeEnsemble node.
// Leaves are listed apart from split nodes; a child index refers to one or
// the other as its *leafs flag says.
type ensemble struct {
	roots                            []int64
	feature, trueID, falseID         []int64
	trueLeaf, falseLeaf, missingTrue []int64
	modes                            []byte
	splits, members                  []float64
	leafTarget                       []int64
	leafWeight                       []float64
	targets                          int
}

func (e *ensemble) leaf(target int, w float64) int64 {
	e.leafTarget = append(e.leafTarget, int64(target))
	e.leafWeight = append(e.leafWeight, w)
	return int64(len(e.leafWeight) - 1)
}

// split adds a split node (children to be set) and returns its index. A
// categorical split sends a code in set to the true branch; an empty set
// becomes code <= -1, which no code is.
func (e *ensemble) split(feature int, threshold float64, categorical bool, set []int32, missingTrue bool) int64 {
	e.feature = append(e.feature, int64(feature))
	e.trueID = append(e.trueID, 0)
	e.falseID = append(e.falseID, 0)
	e.trueLeaf = append(e.trueLeaf, 0)
	e.falseLeaf = append(e.falseLeaf, 0)
	e.missingTrue = append(e.missingTrue, b2i(missingTrue))
	switch {
	case categorical && len(set) > 0:
		e.modes = append(e.modes, modeMember)
		e.splits = append(e.splits, 0)
		for _, c := range set {
			e.members = append(e.members, float64(c))
		}
		e.members = append(e.members, math.NaN())
	case categorical:
		e.modes = append(e.modes, modeLEQ)
		e.splits = append(e.splits, -1)
	default:
		e.modes = append(e.modes, modeLEQ)
		e.splits = append(e.splits, threshold)
	}
	return int64(len(e.feature) - 1)
}

func (e *ensemble) setChild(n int64, isTrue bool, id int64, leaf bool) {
	if isTrue {
		e.trueID[n], e.trueLeaf[n] = id, b2i(leaf)
	} else {
		e.falseID[n], e.falseLeaf[n] = id, b2i(leaf)
	}
}

// walkChildren adds the subtrees under split node n, its left child on the
// true branch, by walk, which adds a node (with what is under it) by its
// index in the source tree and returns its id and whether it is a leaf.
func walkChildren[I int | int32](e *ensemble, n int64, left, right I, walk func(I) (int64, bool, error)) error {
	for _, side := range []struct {
		child  I
		isTrue bool
	}{{left, true}, {right, false}} {
		id, leaf, err := walk(side.child)
		if err != nil {
			return err
		}
		e.setChild(n, side.isTrue, id, leaf)
	}
	return nil
}

// addTree adds a tree by walk (see walkChildren) from its node 0, the root.
func addTree[I int | int32](e *ensemble, walk func(I) (int64, bool, error)) error {
	root, _, err := walk(0)
	if err != nil {
		return err
	}
	e.roots = append(e.roots, root)
	return nil
}

// singleLeaf adds a tree that is one leaf: onnxruntime reads a root whose
// two branches are the same leaf as a leaf.
func (e *ensemble) singleLeaf(target int, w float64) {
	l := e.leaf(target, w)
	n := e.split(0, 0, false, nil, false)
	e.setChild(n, true, l, true)
	e.setChild(n, false, l, true)
	e.roots = append(e.roots, n)
}

// add emits the ensemble as a TreeEnsemble node on x and returns its output
// [N, targets] double.
func (e *ensemble) add(b *builder, x string) string {
	return b.mlop("TreeEnsemble", []string{x},
		intAttr("n_targets", int64(e.targets)),
		intAttr("aggregate_function", 1), // SUM
		intAttr("post_transform", 0),     // NONE
		intsAttr("tree_roots", e.roots),
		intsAttr("nodes_featureids", e.feature),
		tensorAttr("nodes_splits", tensor{Type: tDouble, Dims: []int64{int64(len(e.splits))}, Doubles: e.splits}),
		tensorAttr("nodes_modes", tensor{Type: tUint8, Dims: []int64{int64(len(e.modes))}, Bytes: e.modes}),
		intsAttr("nodes_truenodeids", e.trueID),
		intsAttr("nodes_trueleafs", e.trueLeaf),
		intsAttr("nodes_falsenodeids", e.falseID),
		intsAttr("nodes_falseleafs", e.falseLeaf),
		intsAttr("nodes_missing_value_tracks_true", e.missingTrue),
		tensorAttr("membership_values", tensor{Type: tDouble, Dims: []int64{int64(len(e.members))}, Doubles: e.members}),
		intsAttr("leaf_targetids", e.leafTarget),
		tensorAttr("leaf_weights", tensor{Type: tDouble, Dims: []int64{int64(len(e.leafWeight))}, Doubles: e.leafWeight}),
	)
}

func b2i(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// float32Inputs rounds the numeric features to float32 (kept as double), as
// the tree learners compare float32(x) <= threshold; codes are small whole
// numbers, unchanged.
func float32Inputs(b *builder, x string) string {
	return b.cast(b.cast(x, tFloat), tDouble)
}

// checkFeatures checks that the trees' features are the prep's.
func checkFeatures(family string, n, features int) error {
	if n != features {
		return fmt.Errorf("onnx: export: %s model has %d features, the prep makes %d", family, n, features)
	}
	return nil
}

// exportGBDT: raw scores per output group by a TreeEnsemble (SUM of the
// trees of each group plus the base score), then the objective's link.
func exportGBDT(b *builder, m *gbdt.Model, x string, features int) (string, error) {
	if err := checkFeatures("gbdt", len(m.Features), features); err != nil {
		return "", err
	}
	g := len(m.BaseScore)
	if g == 0 {
		return "", fmt.Errorf("onnx: export: gbdt model has no base score")
	}
	e := &ensemble{targets: g}
	for t := range m.Trees {
		tr := &m.Trees[t]
		grp := t % g
		if len(tr.Nodes) == 0 {
			e.singleLeaf(grp, 0)
			continue
		}
		if tr.Nodes[0].IsLeaf() {
			e.singleLeaf(grp, tr.Nodes[0].Value)
			continue
		}
		var walk func(i int) (int64, bool, error)
		walk = func(i int) (int64, bool, error) {
			if i < 0 || i >= len(tr.Nodes) {
				return 0, false, fmt.Errorf("onnx: export: gbdt tree %d: node %d out of range", t, i)
			}
			nd := &tr.Nodes[i]
			if nd.IsLeaf() {
				return e.leaf(grp, nd.Value), true, nil
			}
			if nd.Feature >= len(m.Features) {
				return 0, false, fmt.Errorf("onnx: export: gbdt tree %d: feature %d out of range", t, nd.Feature)
			}
			cat := m.Features[nd.Feature].Categorical
			if cat != (nd.Categories != nil) {
				return 0, false, fmt.Errorf("onnx: export: gbdt tree %d: split kind does not match feature %q", t, m.Features[nd.Feature].Name)
			}
			n := e.split(nd.Feature, float64(nd.Threshold), cat, validCodes(nd.Categories, m.Features[nd.Feature].Levels), nd.DefaultLeft)
			if err := walkChildren(e, n, nd.Left, nd.Right, walk); err != nil {
				return 0, false, err
			}
			return n, false, nil
		}
		if err := addTree(e, walk); err != nil {
			return "", err
		}
	}
	raw := b.add(e.add(b, float32Inputs(b, x)), b.doubles(m.BaseScore, int64(g)))
	switch m.Objective {
	case gbdt.ObjLogloss:
		if m.Classes != 2 || g != 1 {
			return "", fmt.Errorf("onnx: export: gbdt logloss with %d classes and %d scores", m.Classes, g)
		}
		return b.binaryProbs(b.sigmoid(raw)), nil
	case gbdt.ObjSoftmax:
		if m.Classes != g {
			return "", fmt.Errorf("onnx: export: gbdt softmax with %d classes and %d scores", m.Classes, g)
		}
		return b.softmax(raw), nil
	case gbdt.ObjL2:
		return raw, nil
	}
	return "", fmt.Errorf("onnx: export: gbdt objective %q has no ONNX form", m.Objective)
}

// validCodes drops codes the learner reads as missing (negative or not
// below levels): a missing value takes the default direction, never the
// set.
func validCodes(set []int32, levels int) []int32 {
	var out []int32
	for _, c := range set {
		if c >= 0 && int(c) < levels {
			out = append(out, c)
		}
	}
	return out
}

// exportForest: the sum over trees of the leaf values, divided by the
// number of trees. A TreeEnsemble leaf feeds one target, so for multiclass
// each tree is emitted once per class with that class's leaf values.
func exportForest(b *builder, m *forest.Model, x string, features int) (string, error) {
	if err := checkFeatures("forest", len(m.Features), features); err != nil {
		return "", err
	}
	if len(m.Trees) == 0 {
		return "", fmt.Errorf("onnx: export: forest model has no trees")
	}
	vpl := m.LeafValues()
	e := &ensemble{targets: vpl}
	for t := range m.Trees {
		tr := &m.Trees[t]
		for c := range vpl {
			value := func(l int) (float64, error) {
				if l < 0 || (l+1)*vpl > len(tr.Values) {
					return 0, fmt.Errorf("onnx: export: forest tree %d: leaf %d out of range", t, l)
				}
				return float64(tr.Values[l*vpl+c]), nil
			}
			if len(tr.Nodes) == 0 {
				v, err := value(0)
				if err != nil {
					return "", err
				}
				e.singleLeaf(c, v)
				continue
			}
			var walk func(i int32) (int64, bool, error)
			walk = func(i int32) (int64, bool, error) {
				if i < 0 {
					v, err := value(int(^i))
					if err != nil {
						return 0, false, err
					}
					return e.leaf(c, v), true, nil
				}
				if int(i) >= len(tr.Nodes) {
					return 0, false, fmt.Errorf("onnx: export: forest tree %d: node %d out of range", t, i)
				}
				nd := &tr.Nodes[i]
				if nd.Feature < 0 || int(nd.Feature) >= len(m.Features) {
					return 0, false, fmt.Errorf("onnx: export: forest tree %d: feature %d out of range", t, nd.Feature)
				}
				fi := m.Features[nd.Feature]
				cat := nd.Set >= 0
				if cat != fi.Categorical || cat && int(nd.Set) >= len(tr.Sets) {
					return 0, false, fmt.Errorf("onnx: export: forest tree %d: bad split on feature %q", t, fi.Name)
				}
				var set []int32
				if cat {
					set = validCodes(tr.Sets[nd.Set], fi.Levels)
				}
				n := e.split(int(nd.Feature), float64(nd.Threshold), cat, set, nd.DefaultLeft)
				if err := walkChildren(e, n, nd.Left, nd.Right, walk); err != nil {
					return 0, false, err
				}
				return n, false, nil
			}
			if err := addTree(e, walk); err != nil {
				return "", err
			}
		}
	}
	mean := b.mul(e.add(b, float32Inputs(b, x)), b.scalar(1/float64(len(m.Trees))))
	switch {
	case m.Classes == 2:
		return b.binaryProbs(mean), nil
	case m.Classes > 2 || m.Classes == 0:
		return mean, nil
	}
	return "", fmt.Errorf("onnx: export: forest with %d classes", m.Classes)
}
