package forest

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"modelsmith/ml/learn/binning"
)

// smallNode is the row count below which a node's bins are found by sorting
// its rows rather than through a 256-bin histogram.
const smallNode = 32

// ctxEvery is how many nodes a tree grows between checks of ctx.
const ctxEvery = 2048

// binSet is a set of bins, one bit each.
type binSet [4]uint64

func (s *binSet) add(b int)         { s[b>>6] |= 1 << (uint(b) & 63) }
func (s *binSet) has(b uint8) bool  { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *binSet) hasInt(b int) bool { return s[b>>6]&(1<<(uint(b)&63)) != 0 }
func (s *binSet) union(o *binSet) {
	s[0], s[1], s[2], s[3] = s[0]|o[0], s[1]|o[1], s[2]|o[2], s[3]|o[3]
}
func (s *binSet) addRange(a, b int) {
	for i := a; i <= b; i++ {
		s.add(i)
	}
}

// candidate is the best split found so far in a node.
type candidate struct {
	ok      bool
	score   float64
	feat    int
	cat     bool
	thrBin  int    // numeric: bins <= thrBin go left
	inf     bool   // numeric: every value left, missing right
	left    binSet // categorical: value bins that go left
	present binSet // categorical: value bins present in the node
	defLeft bool
	learnt  bool // the node had missing values, so defLeft was chosen by score
	wl, wr  float64
}

// pending is a node waiting to be grown: rows idx[a:b], and where to link it.
type pending struct {
	a, b   int
	depth  int
	parent int32 // -1 for the root
	left   bool
}

// grower grows trees one after another; each worker owns one.
type grower struct {
	t   *trainer
	rng *rand.Rand

	idx  []int32   // in-bag rows, partitioned node by node
	oy   []int32   // class of idx[i] (classification)
	ow   []float64 // weight of idx[i]
	owy  []float64 // weight times centred target of idx[i] (regression)
	cnt  []int32   // times each row was drawn
	w    []float64 // weight of each row in this tree
	perm []int     // feature order, shuffled a little at every node

	hist   []float64 // dense histogram of one feature
	cbins  []int     // bins of the node's non-empty value bins, in order
	cstats []float64 // their stats, stride each
	mstats []float64 // stats of the missing bin
	tot    []float64 // stats of the node
	L, L2  []float64
	R      []float64
	order  []int
	keys   []float64
	sorted []uint32

	best  candidate
	stack []pending

	nodes  []Node
	rules  []binSet // per node, the bins that go left (missing bin included)
	values []float32
	sets   [][]int32
}

func newGrower(t *trainer) *grower {
	s := t.stride
	g := &grower{
		t:      t,
		idx:    make([]int32, t.n),
		ow:     make([]float64, t.n),
		cnt:    make([]int32, t.n),
		w:      make([]float64, t.n),
		perm:   make([]int, t.nf),
		hist:   make([]float64, 256*s),
		cstats: make([]float64, 256*s),
		mstats: make([]float64, s),
		tot:    make([]float64, s),
		L:      make([]float64, s),
		L2:     make([]float64, s),
		R:      make([]float64, s),
		sorted: make([]uint32, smallNode),
	}
	for j := range g.perm {
		g.perm[j] = j
	}
	if t.classes > 0 {
		g.oy = make([]int32, t.n)
	} else {
		g.owy = make([]float64, t.n)
	}
	return g
}

// grow builds tree ti.
func (g *grower) grow(ctx context.Context, ti int) (*grown, error) {
	t := g.t
	g.rng = rand.New(rand.NewPCG(t.seed, uint64(ti)*0x9e3779b97f4a7c15+0x666f72657374))
	for j := range g.perm {
		g.perm[j] = j
	}
	m := g.sample()
	// Targets and weights travel with the row indices through partitions,
	// so that histogram loops read them sequentially.
	for i, r := range g.idx[:m] {
		g.ow[i] = g.w[r]
		if t.classes > 0 {
			g.oy[i] = t.y[r]
		} else {
			g.owy[i] = g.w[r] * t.yc[r]
		}
	}
	g.nodes, g.rules, g.values, g.sets = g.nodes[:0], g.rules[:0], g.values[:0], g.sets[:0]
	g.stack = append(g.stack[:0], pending{a: 0, b: m, parent: -1})
	for count := 0; len(g.stack) > 0; count++ {
		if count%ctxEvery == ctxEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p := g.stack[len(g.stack)-1]
		g.stack = g.stack[:len(g.stack)-1]
		g.node(p)
	}
	res := &grown{tree: Tree{
		Nodes:  slices.Clone(g.nodes),
		Values: slices.Clone(g.values),
	}}
	if len(g.sets) > 0 {
		res.tree.Sets = slices.Clone(g.sets)
	}
	if t.track {
		g.trackRows(res)
	}
	return res, nil
}

// sample draws the tree's rows and weights, and returns how many distinct
// rows it has (idx[:m]).
func (g *grower) sample() int {
	t := g.t
	m := 0
	if !t.p.Bootstrap {
		for i := range g.idx {
			g.idx[i] = int32(i)
			g.w[i] = 1
			if t.w != nil {
				g.w[i] = t.w[i]
			}
		}
		return t.n
	}
	clear(g.cnt)
	for range t.n {
		g.cnt[g.rng.IntN(t.n)]++
	}
	for i, c := range g.cnt {
		g.w[i] = float64(c)
		if t.w != nil {
			g.w[i] *= t.w[i]
		}
		if c > 0 {
			g.idx[m] = int32(i)
			m++
		}
	}
	return m
}

// trackRows finds the leaves of the out-of-bag and validation rows.
func (g *grower) trackRows(res *grown) {
	t := g.t
	if t.p.Bootstrap {
		for r, c := range g.cnt {
			if c == 0 {
				res.oobRows = append(res.oobRows, int32(r))
				res.oobLeaf = append(res.oobLeaf, g.binnedLeaf(t.bm.Cols, r))
			}
		}
	}
	if t.vm != nil {
		res.validLef = make([]int32, t.vm.Rows)
		for r := range res.validLef {
			res.validLef[r] = g.binnedLeaf(t.vm.Cols, r)
		}
	}
}

func (g *grower) binnedLeaf(cols []binning.Column, r int) int32 {
	if len(g.nodes) == 0 {
		return 0
	}
	i := int32(0)
	for i >= 0 {
		nd := &g.nodes[i]
		if g.rules[i].has(cols[nd.Feature].Bins[r]) {
			i = nd.Left
		} else {
			i = nd.Right
		}
	}
	return ^i
}

// link points the parent of p at child (a node index or ^leaf).
func (g *grower) link(p pending, child int32) {
	if p.parent < 0 {
		return
	}
	if p.left {
		g.nodes[p.parent].Left = child
	} else {
		g.nodes[p.parent].Right = child
	}
}

// node grows one node: a leaf, or a split whose children are pushed.
func (g *grower) node(p pending) {
	t := g.t
	pure := g.nodeStats(p.a, p.b)
	rows := p.b - p.a
	if pure || rows < 2*t.p.MinSamplesLeaf || p.depth >= t.maxDepth || !g.findSplit(p.a, p.b) {
		g.leaf(p)
		return
	}
	bs := &g.best
	col := &t.bm.Cols[bs.feat]
	miss := int(col.MissingBin())
	if !bs.learnt {
		bs.defLeft = bs.wl >= bs.wr
	}
	var rule binSet
	nd := Node{Feature: int32(bs.feat), Set: -1, DefaultLeft: bs.defLeft}
	if bs.cat {
		rule = bs.left
		if bs.defLeft {
			for b := 0; b < miss; b++ {
				if !bs.present.hasInt(b) {
					rule.add(b)
				}
			}
		}
		codes := t.codes[bs.feat]
		var set []int32
		for b := 0; b < miss; b++ {
			if rule.hasInt(b) {
				set = append(set, codes[b]...)
			}
		}
		slices.Sort(set)
		if set == nil {
			set = []int32{}
		}
		nd.Set = int32(len(g.sets))
		g.sets = append(g.sets, set)
	} else {
		if bs.inf {
			rule.addRange(0, miss-1)
			nd.Threshold = float32(math.Inf(1))
		} else {
			rule.addRange(0, bs.thrBin)
			nd.Threshold = col.Thresholds[bs.thrBin]
		}
	}
	if bs.defLeft {
		rule.add(miss)
	}
	// Partition the node's rows in place: left rows first.
	i := g.partition(col.Bins, &rule, p.a, p.b)
	id := int32(len(g.nodes))
	g.nodes = append(g.nodes, nd)
	g.rules = append(g.rules, rule)
	g.link(p, id)
	// Right is pushed first so that the left subtree is grown first.
	g.stack = append(g.stack,
		pending{a: i, b: p.b, depth: p.depth + 1, parent: id, left: false},
		pending{a: p.a, b: i, depth: p.depth + 1, parent: id, left: true})
}

// partition reorders rows idx[a:b] (and their targets and weights) so that
// those going left come first, and returns where the right ones start.
func (g *grower) partition(bins []uint8, rule *binSet, a, b int) int {
	idx, ow := g.idx, g.ow
	i, j := a, b-1
	if g.t.classes > 0 {
		oy := g.oy
		for i <= j {
			if rule.has(bins[idx[i]]) {
				i++
				continue
			}
			idx[i], idx[j] = idx[j], idx[i]
			ow[i], ow[j] = ow[j], ow[i]
			oy[i], oy[j] = oy[j], oy[i]
			j--
		}
		return i
	}
	owy := g.owy
	for i <= j {
		if rule.has(bins[idx[i]]) {
			i++
			continue
		}
		idx[i], idx[j] = idx[j], idx[i]
		ow[i], ow[j] = ow[j], ow[i]
		owy[i], owy[j] = owy[j], owy[i]
		j--
	}
	return i
}

func (g *grower) leaf(p pending) {
	t := g.t
	id := int32(len(g.values) / t.vpl)
	tot := g.tot
	switch {
	case t.classes == 0:
		v := t.ymean
		if tot[1] > 0 {
			v += tot[2] / tot[1]
		}
		g.values = append(g.values, float32(v))
	default:
		w := 0.0
		for _, x := range tot[1:] {
			w += x
		}
		if t.classes == 2 {
			p1 := 0.5
			if w > 0 {
				p1 = tot[2] / w
			}
			g.values = append(g.values, float32(p1))
			break
		}
		for c := 0; c < t.classes; c++ {
			v := 1 / float64(t.classes)
			if w > 0 {
				v = tot[1+c] / w
			}
			g.values = append(g.values, float32(v))
		}
	}
	g.link(p, ^id)
}

// nodeStats fills tot for rows idx[a:b] and reports whether every row has
// the same target.
func (g *grower) nodeStats(a, b int) bool {
	t := g.t
	tot := g.tot
	clear(tot)
	tot[0] = float64(b - a)
	pure := true
	ow := g.ow[a:b]
	if t.classes > 0 {
		oy := g.oy[a:b]
		y0 := oy[0]
		for i, y := range oy {
			tot[1+y] += ow[i]
			pure = pure && y == y0
		}
		return pure
	}
	y0 := t.yc[g.idx[a]]
	for i, r := range g.idx[a:b] {
		tot[1] += ow[i]
		tot[2] += g.owy[i+a]
		pure = pure && t.yc[r] == y0
	}
	return pure
}

// findSplit looks at features in random order until mtry of them were not
// constant in the node, and keeps the best split in g.best.
func (g *grower) findSplit(a, b int) bool {
	t := g.t
	g.best = candidate{score: math.Inf(-1)}
	visited := 0
	for k := 0; k < t.nf && visited < t.mtry; k++ {
		j := k + g.rng.IntN(t.nf-k)
		g.perm[k], g.perm[j] = g.perm[j], g.perm[k]
		f := g.perm[k]
		m, hasMiss := g.compress(f, a, b)
		if m+b2i(hasMiss) <= 1 {
			continue
		}
		visited++
		if t.bm.Cols[f].Categorical {
			g.splitCat(f, m, hasMiss)
		} else {
			g.splitNum(f, m, hasMiss)
		}
	}
	return g.best.ok
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compress gathers the stats of feature f over rows idx[a:b] into the
// non-empty value bins (cbins, cstats, in bin order) and the missing bin
// (mstats); it returns the number of non-empty value bins and whether any
// value is missing.
func (g *grower) compress(f, a, b int) (int, bool) {
	t := g.t
	s := t.stride
	col := &t.bm.Cols[f]
	bins := col.Bins
	miss := int(col.MissingBin())
	clear(g.mstats)
	g.cbins = g.cbins[:0]
	hasMiss := false
	idx := g.idx[a:b]
	if len(idx) <= smallNode {
		keys := g.sorted[:len(idx)]
		for i, r := range idx {
			keys[i] = uint32(bins[r])<<16 | uint32(i)
		}
		slices.Sort(keys)
		var st []float64
		prev := -1
		for _, key := range keys {
			bin := int(key >> 16)
			i := a + int(key&0xffff)
			if bin != prev {
				prev = bin
				if bin == miss {
					st = g.mstats
					hasMiss = true
				} else {
					st = g.cstats[len(g.cbins)*s : (len(g.cbins)+1)*s]
					clear(st)
					g.cbins = append(g.cbins, bin)
				}
			}
			g.addRow(st, i)
		}
		return len(g.cbins), hasMiss
	}
	h := g.hist
	// Tracking the range of bins costs more than scanning them all once the
	// node has as many rows as the feature has bins.
	lo, hi := 0, miss
	track := len(idx) < miss
	if track {
		lo, hi = miss, 0
	}
	ow := g.ow[a:b]
	if t.countFree {
		lo, hi = g.histNoCount(bins, idx, ow, a, b, track, lo, hi)
	} else if t.classes > 0 {
		oy := g.oy[a:b]
		for i, r := range idx {
			bin := int(bins[r])
			if track {
				lo, hi = min(lo, bin), max(hi, bin)
			}
			hb := h[bin*s : bin*s+s]
			hb[0]++
			hb[1+oy[i]] += ow[i]
		}
	} else {
		owy := g.owy[a:b]
		for i, r := range idx {
			bin := int(bins[r])
			if track {
				lo, hi = min(lo, bin), max(hi, bin)
			}
			hb := h[bin*s : bin*s+3]
			hb[0]++
			hb[1] += ow[i]
			hb[2] += owy[i]
		}
	}
	for bin := lo; bin <= hi; bin++ {
		hb := h[bin*s : (bin+1)*s]
		if hb[0] == 0 {
			if !t.countFree || g.weight(hb) == 0 {
				continue
			}
			// Counts were skipped: a non-empty bin counts as one row,
			// which is all that min_samples_leaf 1 needs.
			hb[0] = 1
		}
		if bin == miss {
			copy(g.mstats, hb)
			hasMiss = true
		} else {
			copy(g.cstats[len(g.cbins)*s:], hb)
			g.cbins = append(g.cbins, bin)
		}
		clear(hb)
	}
	return len(g.cbins), hasMiss
}

// histNoCount fills the histogram without row counts: a counter that every
// row of a popular bin increments is a chain of dependent stores, and with
// min_samples_leaf 1 and positive weights a bin's weight says whether it is
// empty.
func (g *grower) histNoCount(bins []uint8, idx []int32, ow []float64, a, b int, track bool, lo, hi int) (int, int) {
	t := g.t
	h := g.hist
	s := t.stride
	if track {
		for _, r := range idx {
			bin := int(bins[r])
			lo, hi = min(lo, bin), max(hi, bin)
		}
	}
	if t.classes > 0 {
		oy := g.oy[a:b]
		for i, r := range idx {
			h[int(bins[r])*s+1+int(oy[i])] += ow[i]
		}
		return lo, hi
	}
	owy := g.owy[a:b]
	for i, r := range idx {
		hb := h[int(bins[r])*3 : int(bins[r])*3+3]
		hb[1] += ow[i]
		hb[2] += owy[i]
	}
	return lo, hi
}

func (g *grower) addRow(st []float64, i int) {
	st[0]++
	if g.t.classes > 0 {
		st[1+g.oy[i]] += g.ow[i]
		return
	}
	st[1] += g.ow[i]
	st[2] += g.owy[i]
}

func addTo(dst, src []float64) {
	for i, v := range src {
		dst[i] += v
	}
}

// crit is the node's share of the split score: for gini sum_c w_c^2 / W,
// for entropy sum_c w_c log(w_c / W), for squared error (sum w y)^2 / W. A
// split's score is crit(left) + crit(right); the best split maximises it.
func (g *grower) crit(st []float64) float64 {
	t := g.t
	if t.classes == 0 {
		if st[1] <= 0 {
			return 0
		}
		return st[2] * st[2] / st[1]
	}
	w := 0.0
	for _, x := range st[1:] {
		w += x
	}
	if w <= 0 {
		return 0
	}
	s := 0.0
	if t.crit == Entropy {
		for _, x := range st[1:] {
			if x > 0 {
				s += x * math.Log(x/w)
			}
		}
		return s
	}
	for _, x := range st[1:] {
		s += x * x
	}
	return s / w
}

func (g *grower) weight(st []float64) float64 {
	if g.t.classes == 0 {
		return st[1]
	}
	w := 0.0
	for _, x := range st[1:] {
		w += x
	}
	return w
}

// try scores the split with left stats L; it returns true, having filled
// the score and sizes, when the split is valid and better than the best.
func (g *grower) try(L []float64) bool {
	R := g.R
	for i, v := range g.tot {
		R[i] = v - L[i]
	}
	msl := float64(g.t.p.MinSamplesLeaf)
	if L[0] < msl || R[0] < msl {
		return false
	}
	score := g.crit(L) + g.crit(R)
	if !(score > g.best.score) {
		return false
	}
	g.best = candidate{ok: true, score: score, wl: g.weight(L), wr: g.weight(R)}
	return true
}

func (g *grower) entry(i int) []float64 {
	s := g.t.stride
	return g.cstats[i*s : (i+1)*s]
}

// splitNum searches the numeric feature f: thresholds between non-empty
// bins, missing values on either side, and values against missing ones.
func (g *grower) splitNum(f, m int, hasMiss bool) {
	L, L2 := g.L, g.L2
	clear(L)
	setNum := func(thrBin int, inf, defLeft bool) {
		g.best.feat, g.best.thrBin, g.best.inf = f, thrBin, inf
		g.best.defLeft, g.best.learnt = defLeft, hasMiss
	}
	tryBoth := func(thrBin int) {
		if g.try(L) {
			setNum(thrBin, false, false)
		}
		if hasMiss {
			copy(L2, L)
			addTo(L2, g.mstats)
			if g.try(L2) {
				setNum(thrBin, false, true)
			}
		}
	}
	if m == 1 || (m == 0 && hasMiss) {
		if m == 1 && hasMiss {
			addTo(L, g.entry(0))
			if g.try(L) {
				setNum(0, true, false)
			}
		}
		return
	}
	if g.t.p.ExtraTrees {
		lo, hi := g.cbins[0], g.cbins[m-1]
		thr := lo + g.rng.IntN(hi-lo)
		for i := 0; i < m && g.cbins[i] <= thr; i++ {
			addTo(L, g.entry(i))
		}
		tryBoth(thr)
		return
	}
	for i := 0; i < m; i++ {
		addTo(L, g.entry(i))
		if i < m-1 {
			// Any threshold between the two bins splits the node alike; the
			// middle one generalises best.
			tryBoth((g.cbins[i] + g.cbins[i+1] - 1) / 2)
		} else if hasMiss {
			if g.try(L) {
				setNum(0, true, false)
			}
		}
	}
}

// splitCat searches the categorical feature f: its non-empty bins ordered
// by mean target (regression), class-1 rate (binary) or, for multiclass,
// the rate of each class in turn, split into a prefix and the rest, missing
// values on either side.
func (g *grower) splitCat(f, m int, hasMiss bool) {
	t := g.t
	var present binSet
	for _, b := range g.cbins {
		present.add(b)
	}
	orderings := 1
	if t.classes > 2 && !t.p.ExtraTrees {
		orderings = t.classes
	}
	for o := 0; o < orderings; o++ {
		key := 0
		switch {
		case t.classes == 2:
			key = 1
		case t.classes > 2 && t.p.ExtraTrees:
			key = g.rng.IntN(t.classes)
		case t.classes > 2:
			key = o
		}
		g.orderBins(m, key)
		g.scanCat(f, m, hasMiss, &present)
	}
}

// orderBins sorts the non-empty bins by the rate of class c (or mean
// target), ties by bin, into g.order.
func (g *grower) orderBins(m, c int) {
	t := g.t
	g.order = g.order[:0]
	g.keys = g.keys[:0]
	for i := 0; i < m; i++ {
		st := g.entry(i)
		k := 0.0
		if w := g.weight(st); w > 0 {
			if t.classes == 0 {
				k = st[2] / w
			} else {
				k = st[1+c] / w
			}
		}
		g.order = append(g.order, i)
		g.keys = append(g.keys, k)
	}
	slices.SortFunc(g.order, func(a, b int) int {
		switch {
		case g.keys[a] < g.keys[b]:
			return -1
		case g.keys[a] > g.keys[b]:
			return 1
		}
		return a - b
	})
}

func (g *grower) scanCat(f, m int, hasMiss bool, present *binSet) {
	L, L2 := g.L, g.L2
	clear(L)
	setCat := func(n int, defLeft bool) {
		g.best.feat, g.best.cat = f, true
		g.best.defLeft, g.best.learnt = defLeft, hasMiss
		g.best.present = *present
		for _, i := range g.order[:n] {
			g.best.left.add(g.cbins[i])
		}
	}
	tryBoth := func(n int) {
		if g.try(L) {
			setCat(n, false)
		}
		if hasMiss {
			copy(L2, L)
			addTo(L2, g.mstats)
			if g.try(L2) {
				setCat(n, true)
			}
		}
	}
	if m <= 1 {
		if m == 1 && hasMiss {
			addTo(L, g.entry(0))
			if g.try(L) {
				setCat(1, false)
			}
		}
		return
	}
	if g.t.p.ExtraTrees {
		cut := 1 + g.rng.IntN(m-1)
		for _, i := range g.order[:cut] {
			addTo(L, g.entry(i))
		}
		tryBoth(cut)
		return
	}
	for n := 1; n <= m; n++ {
		addTo(L, g.entry(g.order[n-1]))
		if n < m {
			tryBoth(n)
		} else if hasMiss {
			if g.try(L) {
				setCat(n, false)
			}
		}
	}
}
