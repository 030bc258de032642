package forest

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"modelsmith/ml/learn"
)

// Model is a trained forest; it implements learn.Predictor. Its fields are
// what an exporter (ONNX TreeEnsemble) needs; treat them as read-only.
//
// The prediction is the mean over trees of the leaf each row reaches: class
// probabilities for classification, the target mean for regression.
type Model struct {
	Classes  int // 0 for regression
	Features []FeatureInfo
	Trees    []Tree

	once sync.Once
	cats *catIndex

	rowOnce sync.Once
	row     *rowForm // built on the first one-row prediction
}

// FeatureInfo describes an input column as seen in training.
type FeatureInfo struct {
	Name        string
	Categorical bool
	Levels      int // categorical: codes >= Levels are unseen, so missing
}

// Tree is a binary tree kept flat: split nodes in Nodes (Nodes[0] is the
// root, children come after their parent) and leaf values in Values. A tree
// without nodes is a single leaf, leaf 0.
//
// Values holds LeafValues() float32 values per leaf: the probability of
// class 1 for binary classification, the probability of every class for
// multiclass, the mean target for regression.
type Tree struct {
	Nodes  []Node
	Values []float32
	// Sets are the left categories of categorical splits, sorted codes.
	Sets [][]int32
}

// Node is a split. Left and Right are node indices when >= 0, and leaf
// indices l encoded as ^l (that is -l-1) when negative.
//
// A numeric split (Set < 0) sends x left when float32(x) <= Threshold; a
// categorical split sends a code left when it is in Sets[Set]. Missing
// values (NaN, code -1, codes not below the feature's Levels) go left when
// DefaultLeft. Categories absent from the node in training follow missing
// values.
type Node struct {
	Feature     int32
	Threshold   float32
	Left, Right int32
	Set         int32
	DefaultLeft bool
}

// Family implements learn.Predictor.
func (m *Model) Family() string { return "forest" }

// Outputs implements learn.Predictor.
func (m *Model) Outputs() int {
	if m.Classes > 0 {
		return m.Classes
	}
	return 1
}

// LeafValues is the number of float32 values each leaf stores: 1 for
// regression and binary classification, Classes for multiclass.
func (m *Model) LeafValues() int { return leafValues(m.Classes) }

func leafValues(classes int) int {
	if classes > 2 {
		return classes
	}
	return 1
}

// NumNodes counts split nodes and leaves over all trees.
func (m *Model) NumNodes() (splits, leaves int) {
	k := m.LeafValues()
	for i := range m.Trees {
		splits += len(m.Trees[i].Nodes)
		leaves += len(m.Trees[i].Values) / k
	}
	return splits, leaves
}

// catIndex holds every categorical set as a bitset, for prediction.
type catIndex struct {
	base []int32  // per tree: index of its first set in sets
	sets []catSet // per set: its words in bits
	bits []uint64
}

type catSet struct{ off, words int32 }

func (m *Model) catIndex() *catIndex {
	m.once.Do(func() {
		if m.cats == nil {
			m.cats = compileCats(m.Trees)
		}
	})
	return m.cats
}

func compileCats(trees []Tree) *catIndex {
	ci := &catIndex{base: make([]int32, len(trees))}
	for t := range trees {
		ci.base[t] = int32(len(ci.sets))
		for _, s := range trees[t].Sets {
			maxCode := int32(-1)
			if len(s) > 0 {
				maxCode = slices.Max(s)
			}
			cs := catSet{off: int32(len(ci.bits)), words: maxCode/64 + 1}
			ci.bits = append(ci.bits, make([]uint64, cs.words)...)
			for _, c := range s {
				if c >= 0 {
					ci.bits[cs.off+c/64] |= 1 << (uint(c) % 64)
				}
			}
			ci.sets = append(ci.sets, cs)
		}
	}
	return ci
}

// predInput is X resolved against the model's features: nil columns are
// read as missing.
type predInput struct {
	num    [][]float64
	cat    [][]int32
	levels []int32
}

// Predict implements learn.Predictor: class probabilities for
// classification, the value for regression, row-major into out. Features
// that are absent or of the wrong kind or length are read as missing. Large
// batches are split into row blocks predicted in parallel.
func (m *Model) Predict(X *learn.Features, out []float64) {
	if X == nil || X.Rows <= 0 {
		return
	}
	ci := m.catIndex()
	k := m.Outputs()
	rows := min(X.Rows, len(out)/k)
	in := predInput{num: make([][]float64, len(m.Features)), cat: make([][]int32, len(m.Features)), levels: make([]int32, len(m.Features))}
	for j, fi := range m.Features {
		in.levels[j] = int32(fi.Levels)
		if j >= len(X.Cols) {
			continue
		}
		c := &X.Cols[j]
		if fi.Categorical && len(c.Codes) == X.Rows {
			in.cat[j] = c.Codes
		} else if !fi.Categorical && len(c.Num) == X.Rows {
			in.num[j] = c.Num
		}
	}
	if rows == 1 {
		m.predictRow(ci, &in, out)
		return
	}
	const block = 256
	nBlocks := (rows + block - 1) / block
	// A block costs a walk through every tree; a few blocks per worker pay
	// for starting it.
	workers := min(runtime.GOMAXPROCS(0), nBlocks, max(1, rows*len(m.Trees)/(1<<15)))
	run := func(w int) {
		leaves := make([]int32, block)
		for b := w; b < nBlocks; b += workers {
			r0 := b * block
			r1 := min(r0+block, rows)
			m.predictBlock(ci, &in, r0, r1, leaves, out)
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

func (m *Model) predictBlock(ci *catIndex, in *predInput, r0, r1 int, leaves []int32, out []float64) {
	k := m.Outputs()
	vpl := m.LeafValues()
	n := r1 - r0
	dst := out[r0*k : r1*k]
	clear(dst)
	leaves = leaves[:n]
	for t := range m.Trees {
		tr := &m.Trees[t]
		tree := treeWalker{nodes: tr.Nodes, ci: ci, base: ci.base[t]}
		for r := 0; r < n; r++ {
			leaves[r] = tree.leaf(in, r0+r)
		}
		vals := tr.Values
		if vpl == 1 {
			for r, l := range leaves {
				dst[r*k+k-1] += float64(vals[l])
			}
			continue
		}
		for r, l := range leaves {
			v := vals[int(l)*vpl : int(l+1)*vpl]
			o := dst[r*k : (r+1)*k]
			for c := range o {
				o[c] += float64(v[c])
			}
		}
	}
	m.average(dst, n)
}

type treeWalker struct {
	nodes []Node
	ci    *catIndex
	base  int32
}

// leaf returns the leaf that row reaches.
func (w *treeWalker) leaf(in *predInput, row int) int32 {
	if len(w.nodes) == 0 {
		return 0
	}
	i := int32(0)
	for i >= 0 {
		i = w.step(in, row, i)
	}
	return ^i
}

// step moves row from node i to its child (a leaf l is ^l).
func (w *treeWalker) step(in *predInput, row int, i int32) int32 {
	nd := &w.nodes[i]
	f := nd.Feature
	var left bool
	if nd.Set < 0 {
		col := in.num[f]
		if col == nil {
			left = nd.DefaultLeft
		} else if x := col[row]; x != x {
			left = nd.DefaultLeft
		} else {
			left = float32(x) <= nd.Threshold
		}
	} else {
		left = w.catLeft(nd, in, f, row)
	}
	if left {
		return nd.Left
	}
	return nd.Right
}

// rowForm is the trees laid out for one-row prediction: 12-byte nodes, a
// node's two children side by side (right = left+1), every tree in
// depth-first order in one array. Fully grown trees are megabytes of nodes,
// so a walk mostly waits on cache misses; half the bytes of Node, and
// children sharing a cache line, mean fewer of them.
type rowForm struct {
	nodes []rowNode
	roots []int32
}

// rowNode is a split or a leaf. feat holds the feature and flags: rowLeaf
// (left is then the leaf's index in the tree's Values), rowCat (thr's bits
// are then the index of the split's set in catIndex.sets) and rowMissLeft.
type rowNode struct {
	feat int32
	thr  float32
	left int32
}

const (
	rowLeaf     = -1 << 31
	rowMissLeft = 1 << 30
	rowCat      = 1 << 29
	rowFeat     = rowCat - 1
)

func (m *Model) rowForm(ci *catIndex) *rowForm {
	m.rowOnce.Do(func() {
		f := &rowForm{}
		for t := range m.Trees {
			tr := &m.Trees[t]
			root := int32(len(f.nodes))
			f.nodes = append(f.nodes, rowNode{feat: rowLeaf}) // an empty tree is leaf 0
			f.roots = append(f.roots, root)
			if len(tr.Nodes) > 0 {
				f.fill(tr, ci.base[t], 0, root)
			}
		}
		m.row = f
	})
	return m.row
}

// fill writes node i of tr (^leaf for a leaf) at slot.
func (f *rowForm) fill(tr *Tree, base, i, slot int32) {
	if i < 0 {
		f.nodes[slot] = rowNode{feat: rowLeaf, left: ^i}
		return
	}
	nd := &tr.Nodes[i]
	kids := int32(len(f.nodes))
	f.nodes = append(f.nodes, rowNode{}, rowNode{})
	r := rowNode{feat: nd.Feature, thr: nd.Threshold, left: kids}
	if nd.DefaultLeft {
		r.feat |= rowMissLeft
	}
	if nd.Set >= 0 {
		r.feat |= rowCat
		r.thr = math.Float32frombits(uint32(base + nd.Set))
	}
	f.nodes[slot] = r
	f.fill(tr, base, nd.Left, kids)
	f.fill(tr, base, nd.Right, kids+1)
}

// rowTrees is how many trees predictRow walks side by side.
const rowTrees = 8

// predictRow scores row 0 of in, as predictBlock does, on the rowForm. It
// walks eight trees side by side, so that eight cache misses are in flight
// instead of one. The leaves are added in tree order, so the sums are the
// same bits as predictBlock's.
func (m *Model) predictRow(ci *catIndex, in *predInput, out []float64) {
	k := m.Outputs()
	vpl := m.LeafValues()
	dst := out[:k]
	clear(dst)
	// The row as float32: a category's code, NaN when missing or unseen.
	var xBuf [64]float32
	x := xBuf[:]
	if len(m.Features) > len(x) {
		x = make([]float32, len(m.Features))
	}
	nan := float32(math.NaN())
	for j := range m.Features {
		x[j] = nan
		if col := in.num[j]; col != nil {
			x[j] = float32(col[0])
		} else if col := in.cat[j]; col != nil {
			if c := col[0]; c >= 0 && c < in.levels[j] {
				x[j] = float32(c)
			}
		}
	}
	rf := m.rowForm(ci)
	nodes, sets, bits := rf.nodes, ci.sets, ci.bits
	// step moves from split i to its child.
	step := func(i int32) int32 {
		nd := &nodes[i]
		f := nd.feat
		v := x[f&rowFeat]
		var right int32
		if f&rowCat == 0 {
			if !(v <= nd.thr) {
				right = 1
			}
		} else {
			// For NaN, c is garbage; the test below decides.
			c := uint32(v)
			cs := sets[math.Float32bits(nd.thr)]
			right = 1
			if w := c >> 6; w < uint32(cs.words) {
				right = int32(bits[cs.off+int32(w)]>>(c&63)&1) ^ 1
			}
		}
		if v != v {
			right = int32(uint32(f)>>30&1) ^ 1
		}
		return nd.left + right
	}
	var at [rowTrees]int32
	for t0 := 0; t0 < len(rf.roots); t0 += rowTrees {
		n := min(rowTrees, len(rf.roots)-t0)
		active := 0
		for j := range n {
			at[j] = rf.roots[t0+j]
			if nodes[at[j]].feat >= 0 {
				active++
			}
		}
		for active > 0 {
			for j := range n {
				i := at[j]
				if nodes[i].feat < 0 {
					continue
				}
				i = step(i)
				at[j] = i
				if nodes[i].feat < 0 {
					active--
				}
			}
		}
		for j := range n {
			l := nodes[at[j]].left
			vals := m.Trees[t0+j].Values
			if vpl == 1 {
				dst[k-1] += float64(vals[l])
				continue
			}
			for c, v := range vals[int(l)*vpl : int(l+1)*vpl] {
				dst[c] += float64(v)
			}
		}
	}
	m.average(dst, 1)
}

// average turns the sums of n rows' leaves into the outputs.
func (m *Model) average(dst []float64, n int) {
	inv := 1 / float64(max(len(m.Trees), 1))
	for i := range dst {
		dst[i] *= inv
	}
	if m.Classes == 2 {
		for r := 0; r < n; r++ {
			dst[2*r] = 1 - dst[2*r+1]
		}
	}
}

func (w *treeWalker) catLeft(nd *Node, in *predInput, f int32, row int) bool {
	col := in.cat[f]
	if col == nil {
		return nd.DefaultLeft
	}
	c := col[row]
	if c < 0 || c >= in.levels[f] {
		return nd.DefaultLeft
	}
	cs := w.ci.sets[w.base+nd.Set]
	word := c / 64
	if word >= cs.words {
		return false
	}
	return w.ci.bits[cs.off+word]&(1<<(uint(c)%64)) != 0
}

// Size is about how many bytes the trees take in memory.
func (m *Model) Size() int {
	const nodeBytes = int(unsafe.Sizeof(Node{}))
	n := 0
	for i := range m.Trees {
		t := &m.Trees[i]
		n += nodeBytes*len(t.Nodes) + 4*len(t.Values) + 24*len(t.Sets)
		for _, s := range t.Sets {
			n += 4 * len(s)
		}
	}
	return n
}
