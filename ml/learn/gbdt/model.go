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

// flatModel is the prediction form: all trees' nodes in one array, 16 bytes a
// node, children as indices (negative: ^leaf index). The flags of a node live
// in the high bits of feat; a categorical node has no threshold, so its thr
// bits index cats, which locates its bitset in catBits.
type flatModel struct {
	nodes   []fnode
	leaves  []float64
	roots   []int32
	cats    []catSet
	catBits []uint64
}

type fnode struct {
	feat  int32
	thr   float32
	left  int32
	right int32
}

type catSet struct{ off, words int32 }

const (
	defFlag = 1 << 30
	catFlag = 1 << 29
	featMsk = catFlag - 1
)

func (m *Model) compile() *flatModel {
	f := &flatModel{}
	for _, t := range m.Trees {
		if len(t.Nodes) == 0 {
			f.leaves = append(f.leaves, 0)
			f.roots = append(f.roots, ^int32(len(f.leaves)-1))
			continue
		}
		f.roots = append(f.roots, f.add(t.Nodes, 0))
	}
	return f
}

func (f *flatModel) add(nodes []Node, i int) int32 {
	n := &nodes[i]
	if n.IsLeaf() {
		f.leaves = append(f.leaves, n.Value)
		return ^int32(len(f.leaves) - 1)
	}
	id := int32(len(f.nodes))
	nd := fnode{feat: int32(n.Feature), thr: n.Threshold}
	if n.DefaultLeft {
		nd.feat |= defFlag
	}
	if n.Categories != nil {
		nd.feat |= catFlag
		maxCode := int32(-1)
		if len(n.Categories) > 0 {
			maxCode = slices.Max(n.Categories)
		}
		cs := catSet{off: int32(len(f.catBits)), words: maxCode/64 + 1}
		f.catBits = append(f.catBits, make([]uint64, cs.words)...)
		for _, c := range n.Categories {
			if c >= 0 {
				f.catBits[cs.off+c/64] |= 1 << (uint(c) % 64)
			}
		}
		nd.thr = math.Float32frombits(uint32(len(f.cats)))
		f.cats = append(f.cats, cs)
	}
	f.nodes = append(f.nodes, nd)
	l := f.add(nodes, n.Left)
	r := f.add(nodes, n.Right)
	f.nodes[id].left, f.nodes[id].right = l, r
	return id
}

// Predict implements learn.Predictor: probabilities per class for
// classification, the value for regression, row-major into out. Features
// that are absent or of the wrong kind or length are read as missing.
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
	num := make([][]float64, len(m.Features))
	cat := make([][]int32, len(m.Features))
	levels := make([]int32, len(m.Features))
	for j, fi := range m.Features {
		levels[j] = int32(fi.Levels)
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
	in := predInput{num: num, cat: cat, levels: levels}
	const block = 256
	nBlocks := (rows + block - 1) / block
	workers := min(runtime.GOMAXPROCS(0), nBlocks, max(1, rows/4096))
	run := func(w int) {
		g := m.groups()
		acc := make([]float64, block*g)
		for b := w; b < nBlocks; b += workers {
			r0 := b * block
			r1 := min(r0+block, rows)
			m.predictBlock(fm, &in, r0, r1, acc, out)
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

type predInput struct {
	num    [][]float64 // nil: all missing (or categorical)
	cat    [][]int32
	levels []int32
}

func (m *Model) predictBlock(fm *flatModel, in *predInput, r0, r1 int, acc, out []float64) {
	g := m.groups()
	n := r1 - r0
	acc = acc[:n*g]
	for r := 0; r < n; r++ {
		copy(acc[r*g:(r+1)*g], m.BaseScore)
	}
	nodes := fm.nodes
	for t, root := range fm.roots {
		grp := t % g
		if root < 0 {
			v := fm.leaves[^root]
			for r := 0; r < n; r++ {
				acc[r*g+grp] += v
			}
			continue
		}
		for r := 0; r < n; r++ {
			row := r0 + r
			i := root
			for i >= 0 {
				nd := &nodes[i]
				f := nd.feat & featMsk
				var left bool
				if nd.feat&catFlag == 0 {
					col := in.num[f]
					if col == nil {
						left = nd.feat&defFlag != 0
					} else if x := col[row]; x != x {
						left = nd.feat&defFlag != 0
					} else {
						left = float32(x) <= nd.thr
					}
				} else {
					left = fm.catLeft(nd, in, f, row)
				}
				if left {
					i = nd.left
				} else {
					i = nd.right
				}
			}
			acc[r*g+grp] += fm.leaves[^i]
		}
	}
	m.transform(acc, out[r0*m.Outputs():r1*m.Outputs()], n)
}

func (fm *flatModel) catLeft(nd *fnode, in *predInput, f int32, row int) bool {
	col := in.cat[f]
	if col == nil {
		return nd.feat&defFlag != 0
	}
	c := col[row]
	if c < 0 || c >= in.levels[f] {
		return nd.feat&defFlag != 0
	}
	cs := fm.cats[math.Float32bits(nd.thr)]
	w := c / 64
	if w >= cs.words {
		return false
	}
	return fm.catBits[cs.off+w]&(1<<(uint(c)%64)) != 0
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
