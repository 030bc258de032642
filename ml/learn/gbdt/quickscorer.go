package gbdt

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
	"sync"
)

// qsModel is the QuickScorer form of a model whose trees have at most 64
// leaves each, used for one row at a time (a served request). See Lucchese
// et al., "QuickScorer: a Fast Algorithm to Rank Documents with Additive
// Ensembles of Regression Trees", SIGIR 2015.
//
// Each tree keeps the set of leaves the row may still reach, as 64 bits,
// leaves numbered left to right. A split the row does not pass (it goes
// right) rules out the leaves of its left subtree, so its mask clears them;
// once every split has been seen, the row's leaf is the lowest leaf left.
// Splits are visited feature by feature — a numeric feature's in increasing
// threshold order, stopping at the first threshold the value does not
// exceed — so scoring is a run of independent AND operations instead of the
// dependent, often mispredicted steps of a walk from the root.
type qsModel struct {
	num     [][]qsSplit // per feature, numeric splits by increasing threshold
	numNaN  [][]qsSplit // per feature, numeric splits sending a missing value right
	cat     [][]qsCat   // per feature, categorical splits
	init    []uint64    // per tree, its leaves all set
	leafOff []int32     // per tree, the index of its first leaf in leaves
	leaves  []float64   // leaf values, tree by tree, left to right
	scratch sync.Pool   // *[]uint64 of one set per tree
}

type qsSplit struct {
	thr  float32
	tree int32
	mask uint64 // the leaves of the split's left subtree cleared
}

type qsCat struct {
	tree        int32
	off         uint32 // the split's bitset in flatModel.catBits
	missingLeft bool
	mask        uint64
}

// maxQSLeaves is the most leaves a tree may have for the QuickScorer form.
const maxQSLeaves = 64

// quickScorer builds the QuickScorer form of fm, or returns nil when a tree
// has more than 64 leaves.
func quickScorer(fm *flatModel, nf int) *qsModel {
	q := &qsModel{num: make([][]qsSplit, nf), numNaN: make([][]qsSplit, nf), cat: make([][]qsCat, nf)}
	nodes := fm.nodes
	// visit numbers the leaves under node i from lo, records its splits, and
	// returns the number of leaves.
	var visit func(t int32, i int32, lo int) int
	visit = func(t int32, i int32, lo int) int {
		nd := &nodes[i]
		if nd.feat < 0 {
			if lo < maxQSLeaves {
				q.leaves = append(q.leaves, fm.vals[i])
			}
			return 1
		}
		nl := visit(t, nd.left, lo)
		nr := visit(t, nd.left+1, lo+nl)
		if lo+nl+nr > maxQSLeaves {
			return nl + nr
		}
		mask := ^(lowBits(nl) << lo)
		j := nd.feat & featMsk
		missingLeft := nd.feat&defFlag != 0
		if nd.feat&catFlag != 0 {
			q.cat[j] = append(q.cat[j], qsCat{tree: t, off: math.Float32bits(nd.thr), missingLeft: missingLeft, mask: mask})
			return nl + nr
		}
		q.num[j] = append(q.num[j], qsSplit{thr: nd.thr, tree: t, mask: mask})
		if !missingLeft {
			q.numNaN[j] = append(q.numNaN[j], qsSplit{thr: nd.thr, tree: t, mask: mask})
		}
		return nl + nr
	}
	for t, root := range fm.roots {
		q.leafOff = append(q.leafOff, int32(len(q.leaves)))
		n := visit(int32(t), root, 0)
		if n > maxQSLeaves {
			return nil
		}
		q.init = append(q.init, lowBits(n))
	}
	for j := range q.num {
		// Stable, so that equal thresholds keep tree order (any order
		// gives the same sets; this one is deterministic).
		slices.SortStableFunc(q.num[j], func(a, b qsSplit) int { return cmp.Compare(a.thr, b.thr) })
	}
	q.scratch.New = func() any { s := make([]uint64, len(q.init)); return &s }
	return q
}

// lowBits is a set of the n lowest bits, n <= 64.
func lowBits(n int) uint64 {
	if n >= 64 {
		return math.MaxUint64
	}
	return 1<<n - 1
}

// score adds the trees' leaves for one row x (loaded as loadBlock does) to
// acc, in tree order as the walks do, so that the sums are the same bits.
func (q *qsModel) score(fm *flatModel, x []float32, acc []float64, g int) {
	sp := q.scratch.Get().(*[]uint64)
	set := *sp
	copy(set, q.init)
	for j, v := range x[:len(q.num)] {
		if v != v {
			for _, s := range q.numNaN[j] {
				set[s.tree] &= s.mask
			}
		} else {
			for _, s := range q.num[j] {
				if !(s.thr < v) {
					break
				}
				set[s.tree] &= s.mask
			}
		}
		if cs := q.cat[j]; len(cs) > 0 {
			catBits := fm.catBits
			c := uint32(v)
			nan := v != v
			w := c >> 6
			for _, s := range cs {
				// Left when the code is in the split's set, or when it
				// is missing and missing values go left.
				var left bool
				if nan {
					left = s.missingLeft
				} else if w < uint32(catBits[s.off]) {
					left = catBits[s.off+1+w]>>(c&63)&1 != 0
				}
				keep := s.mask
				if left {
					keep = math.MaxUint64
				}
				set[s.tree] &= keep
			}
		}
	}
	for t, b := range set {
		acc[t%g] += q.leaves[q.leafOff[t]+int32(bits.TrailingZeros64(b))]
	}
	q.scratch.Put(sp)
}
