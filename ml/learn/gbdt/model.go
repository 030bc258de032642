package gbdt

import (
	"math"
	"runtime"
	"slices"
	"sync"

	"modelsmith/ml/learn"
)

// Objectives.
const (
	ObjLogloss = "logloss"
	ObjSoftmax = "softmax"
	ObjL2      = "l2"
)

// Model is a trained ensemble; it implements learn.Predictor. Its fields are
// what an exporter (ONNX TreeEnsemble) needs; treat them as read-only.
//
// The raw score of output group g is BaseScore[g] plus the leaf values of the
// trees t with t % len(BaseScore) == g. Logloss turns the single raw score f
// into probabilities (1-σ(f), σ(f)); softmax normalises the Classes scores;
// l2 returns the raw score.
type Model struct {
	Objective string
	Classes   int // 0 for regression
	BaseScore []float64
	Features  []FeatureInfo
	Trees     []Tree

	flat *flatModel
}

// FeatureInfo describes an input column as seen in training.
type FeatureInfo struct {
	Name        string
	Categorical bool
	Levels      int // categorical: codes >= Levels are unseen, so missing
}

// Tree is a binary tree; Nodes[0] is the root and children come after their
// parent.
type Tree struct {
	Nodes []Node
}

// Node is a split or a leaf (Feature < 0).
//
// A numeric split sends x left when float32(x) <= Threshold. A categorical
// split sends a code left when it is in Categories (sorted). Missing values,
// and codes that are -1 or not below the feature's Levels, go left when
// DefaultLeft. Cover is the hessian sum of the training rows that reached the
// node (for explanations).
type Node struct {
	Feature     int
	Threshold   float32
	Categories  []int32
	Left, Right int
	DefaultLeft bool
	Value       float64 // leaf value, learning rate applied
	Cover       float64
}

// IsLeaf reports whether n is a leaf.
func (n *Node) IsLeaf() bool { return n.Feature < 0 }

// Family implements learn.Predictor.
func (m *Model) Family() string { return "gbdt" }

// Outputs implements learn.Predictor.
func (m *Model) Outputs() int {
	if m.Classes > 0 {
		return m.Classes
	}
	return 1
}

func (m *Model) groups() int { return len(m.BaseScore) }

// flatModel is the prediction form: every tree's nodes, leaves included, in
// one array of 12-byte nodes, a node's two children side by side (right =
// left+1) so that the walk picks a child with arithmetic rather than a
// branch. The flags of a node live in the high bits of feat. A categorical
// node has no threshold, so its thr bits hold the offset of its bitset in
// catBits: the number of words, then the words, bit c set sending code c
// left.
//
// A leaf has the sign bit and the default-left bit, threshold +Inf and
// itself as left child: walked like a split it sends every value, missing
// included, back to itself. So a walk may take more steps than the leaf's
// depth and stay put, which lets predictRow walk several trees in lockstep
// without testing for leaves; the batch walk stops at the sign bit instead.
// vals holds the leaves' values by node index.
type flatModel struct {
	nodes   []fnode
	vals    []float64
	roots   []int32
	depth   []uint8 // per tree, the steps from the root to its deepest leaf
	catBits []uint64
	qs      *qsModel // nil when a tree has more than 64 leaves
}

type fnode struct {
	feat int32
	thr  float32
	left int32
}

const (
	leafFlag = -1 << 31
	defFlag  = 1 << 30
	catFlag  = 1 << 29
	featMsk  = catFlag - 1
)

func (m *Model) compile() *flatModel {
	f := &flatModel{}
	for _, t := range m.Trees {
		root := int32(len(f.nodes))
		f.nodes = append(f.nodes, fnode{})
		f.vals = append(f.vals, 0)
		f.roots = append(f.roots, root)
		depth := 0
		if len(t.Nodes) == 0 {
			f.leaf(root, 0)
		} else {
			depth = f.fill(m.Features, t.Nodes, 0, root)
		}
		f.depth = append(f.depth, uint8(min(depth, math.MaxUint8)))
	}
	f.qs = quickScorer(f, len(m.Features))
	return f
}

func (f *flatModel) leaf(slot int32, value float64) {
	f.nodes[slot] = fnode{feat: leafFlag | defFlag, thr: float32(math.Inf(1)), left: slot}
	f.vals[slot] = value
}

// fill writes node i of a tree at slot and returns the depth of its subtree.
func (f *flatModel) fill(feats []FeatureInfo, nodes []Node, i int, slot int32) int {
	n := &nodes[i]
	if n.IsLeaf() {
		f.leaf(slot, n.Value)
		return 0
	}
	kids := int32(len(f.nodes))
	f.nodes = append(f.nodes, fnode{}, fnode{})
	f.vals = append(f.vals, 0, 0)
	nd := fnode{feat: int32(n.Feature), thr: n.Threshold, left: kids}
	if n.DefaultLeft {
		nd.feat |= defFlag
	}
	if n.Categories != nil {
		nd.feat |= catFlag
		maxCode := int32(-1)
		if len(n.Categories) > 0 {
			maxCode = slices.Max(n.Categories)
		}
		words := int(maxCode)/64 + 1
		off := len(f.catBits)
		f.catBits = append(f.catBits, make([]uint64, 1+words)...)
		f.catBits[off] = uint64(words)
		for _, c := range n.Categories {
			if c >= 0 {
				f.catBits[off+1+int(c)/64] |= 1 << (uint(c) % 64)
			}
		}
		nd.thr = math.Float32frombits(uint32(off))
	}
	f.nodes[slot] = nd
	return 1 + max(f.fill(feats, nodes, n.Left, kids), f.fill(feats, nodes, n.Right, kids+1))
}

// predictBlock is the block size: 256 rows of inputs as float32, row-major,
// stay in L1 while every tree walks them.
const predictBlock = 256

// Predict implements learn.Predictor: probabilities per class for
// classification, the value for regression, row-major into out. Features
// that are absent or of the wrong kind or length are read as missing. Large
// batches are split over GOMAXPROCS goroutines; nothing is allocated per row.
func (m *Model) Predict(X *learn.Features, out []float64) {
	fm := m.flat
	if fm == nil {
		fm = m.compile()
	}
	if X == nil || X.Rows <= 0 {
		return
	}
	k := m.Outputs()
	rows := min(X.Rows, len(out)/k)
	nf := len(m.Features)
	num := make([][]float64, nf)
	cat := make([][]int32, nf)
	for j, fi := range m.Features {
		if j >= len(X.Cols) {
			continue
		}
		c := &X.Cols[j]
		if fi.Categorical && len(c.Codes) == X.Rows {
			cat[j] = c.Codes
		} else if !fi.Categorical && len(c.Num) == X.Rows {
			num[j] = c.Num
		}
	}
	if rows == 1 {
		// One row (a served request): QuickScorer, or the trees walked four
		// at a time.
		var accBuf [8]float64
		var xBuf [32]float32
		acc, xb := accBuf[:], xBuf[:]
		if g := m.groups(); g > len(acc) {
			acc = make([]float64, g)
		}
		if nf > len(xb) {
			xb = make([]float32, nf)
		}
		m.loadBlock(xb, num, cat, 0, 1)
		m.predictRow(fm, xb, acc)
		m.transform(acc, out[:k], 1)
		return
	}
	nBlocks := (rows + predictBlock - 1) / predictBlock
	workers := min(runtime.GOMAXPROCS(0), nBlocks, max(1, rows/4096))
	run := func(w int) {
		// A block is at most predictBlock rows; a single row (a served
		// request) needs buffers for one row, not 256.
		blk := min(rows, predictBlock)
		acc := make([]float64, blk*m.groups())
		xb := make([]float32, blk*max(nf, 1))
		for b := w; b < nBlocks; b += workers {
			r0 := b * predictBlock
			r1 := min(r0+predictBlock, rows)
			m.loadBlock(xb, num, cat, r0, r1)
			m.predictBlock(fm, xb, r1-r0, acc)
			m.transform(acc, out[r0*k:r1*k], r1-r0)
		}
	}
	if workers <= 1 {
		run(0)
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() { run(w) })
	}
	wg.Wait()
}

// loadBlock writes rows r0..r1 row-major as float32: NaN for a missing value,
// and for a categorical feature the code, or NaN when it is -1 or unseen.
func (m *Model) loadBlock(xb []float32, num [][]float64, cat [][]int32, r0, r1 int) {
	nf := len(m.Features)
	nan := float32(math.NaN())
	for j, fi := range m.Features {
		switch {
		case num[j] != nil:
			for r, v := range num[j][r0:r1] {
				xb[r*nf+j] = float32(v)
			}
		case cat[j] != nil:
			lv := int32(fi.Levels)
			for r, c := range cat[j][r0:r1] {
				v := nan
				if c >= 0 && c < lv {
					v = float32(c)
				}
				xb[r*nf+j] = v
			}
		default:
			for r := 0; r < r1-r0; r++ {
				xb[r*nf+j] = nan
			}
		}
	}
}

func (m *Model) predictBlock(fm *flatModel, xb []float32, n int, acc []float64) {
	g := m.groups()
	nf := len(m.Features)
	acc = acc[:n*g]
	for r := 0; r < n; r++ {
		copy(acc[r*g:(r+1)*g], m.BaseScore)
	}
	nodes := fm.nodes
	catBits := fm.catBits
	for t, root := range fm.roots {
		grp := t % g
		for r := 0; r < n; r++ {
			x := xb[r*nf : r*nf+nf]
			i := root
			for {
				nd := &nodes[i]
				f := nd.feat
				if f < 0 {
					acc[r*g+grp] += fm.vals[i]
					break
				}
				v := x[f&featMsk]
				var right int32
				if f&catFlag == 0 {
					if !(v <= nd.thr) {
						right = 1
					}
				} else {
					// For NaN, c is garbage; the NaN test below decides.
					c := uint32(v)
					off := math.Float32bits(nd.thr)
					right = 1
					if w := c >> 6; w < uint32(catBits[off]) {
						right = int32(catBits[off+1+w]>>(c&63)&1) ^ 1
					}
				}
				if v != v {
					right = int32(uint32(f)>>30&1) ^ 1
				}
				i = nd.left + right
			}
		}
	}
}

// predictRow sets acc to the raw scores of one row x: BaseScore plus the
// trees' leaves, found by QuickScorer when every tree has at most 64 leaves.
// A walk is a chain of dependent loads; walking four trees in lockstep lets
// the processor overlap them, and since a leaf loops to itself (see
// flatModel) each group simply takes the steps of its deepest tree, with no
// branch on reaching a leaf.
func (m *Model) predictRow(fm *flatModel, x []float32, acc []float64) {
	g := m.groups()
	copy(acc[:g], m.BaseScore)
	if fm.qs != nil {
		fm.qs.score(fm, x, acc, g)
		return
	}
	nodes, catBits, vals, roots := fm.nodes, fm.catBits, fm.vals, fm.roots
	// step is predictBlock's split test, written out again: as one shared
	// function it is over Go's inlining budget, and the call costs the
	// batch walk 4% (BenchmarkPredictFlights) and this walk more.
	step := func(i int32) int32 {
		nd := &nodes[i]
		f := nd.feat
		v := x[f&featMsk]
		var right int32
		if f&catFlag == 0 {
			if !(v <= nd.thr) {
				right = 1
			}
		} else {
			c := uint32(v)
			off := math.Float32bits(nd.thr)
			right = 1
			if w := c >> 6; w < uint32(catBits[off]) {
				right = int32(catBits[off+1+w]>>(c&63)&1) ^ 1
			}
		}
		if v != v {
			right = int32(uint32(f)>>30&1) ^ 1
		}
		return nd.left + right
	}
	t := 0
	for ; t+4 <= len(roots); t += 4 {
		d := max(fm.depth[t], fm.depth[t+1], fm.depth[t+2], fm.depth[t+3])
		i0, i1, i2, i3 := roots[t], roots[t+1], roots[t+2], roots[t+3]
		for range d {
			i0, i1, i2, i3 = step(i0), step(i1), step(i2), step(i3)
		}
		// Added one by one, in tree order, as the batch walk does: the
		// same row gives the same bits either way.
		acc[t%g] += vals[i0]
		acc[(t+1)%g] += vals[i1]
		acc[(t+2)%g] += vals[i2]
		acc[(t+3)%g] += vals[i3]
	}
	for ; t < len(roots); t++ {
		i := roots[t]
		for range fm.depth[t] {
			i = step(i)
		}
		acc[t%g] += vals[i]
	}
}

// transform turns raw scores into outputs.
func (m *Model) transform(acc, out []float64, n int) {
	switch m.Objective {
	case ObjLogloss:
		for r := 0; r < n; r++ {
			p := sigmoid(acc[r])
			out[2*r] = 1 - p
			out[2*r+1] = p
		}
	case ObjSoftmax:
		k := m.Classes
		for r := 0; r < n; r++ {
			softmax(acc[r*k:(r+1)*k], out[r*k:(r+1)*k])
		}
	default:
		copy(out[:n], acc[:n])
	}
}

func sigmoid(f float64) float64 {
	return 1 / (1 + math.Exp(-f))
}

func softmax(z, out []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v)
	}
	s := 0.0
	for i, v := range z {
		e := math.Exp(v - mx)
		out[i] = e
		s += e
	}
	for i := range out {
		out[i] /= s
	}
}
