package gbdt

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"modelsmith/ml/learn/binning"
)

// rowBlock is the fixed number of rows one histogram or partition task
// covers. It is a constant, not derived from the thread count, so that sums
// are added in the same order on any machine: models are byte-identical
// whatever GOMAXPROCS.
const rowBlock = 1 << 16

// grow builds one tree for output group c on rows idx[:m].
func (t *trainer) grow(ctx context.Context, c, m int) (Tree, error) {
	g := t.grad[c*t.n : (c+1)*t.n]
	h := t.hess[c*t.n : (c+1)*t.n]
	t.cg, t.ch = g, h
	nb := (m + rowBlock - 1) / rowBlock
	part := make([]float64, 2*nb)
	parallel(t.threads, nb, func(k int) {
		sg, sh := 0.0, 0.0
		for _, r := range t.idx[k*rowBlock : min((k+1)*rowBlock, m)] {
			sg += float64(g[r])
			sh += float64(h[r])
		}
		part[2*k], part[2*k+1] = sg, sh
	})
	root := &leaf{a: 0, b: m}
	for k := 0; k < nb; k++ {
		root.g += part[2*k]
		root.h += part[2*k+1]
	}
	nodes := []Node{{Feature: -1}}
	splits := []split{{}}
	root.hist = t.getHist()
	t.buildHist(root.hist, root.a, root.b)
	t.findBest(root)
	leaves := []*leaf{root}
	for len(leaves) < t.p.NumLeaves {
		if err := ctx.Err(); err != nil {
			return Tree{}, err
		}
		bi := -1
		for i, l := range leaves {
			if l.best.gain > 0 && (bi < 0 || l.best.gain > leaves[bi].best.gain) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		L := leaves[bi]
		s := L.best
		nl := t.partition(L.a, L.b, &s)
		lc := &leaf{a: L.a, b: L.a + nl, depth: L.depth + 1, g: s.lg, h: s.lh}
		rc := &leaf{a: L.a + nl, b: L.b, depth: L.depth + 1, g: L.g - s.lg, h: L.h - s.lh}
		lc.node, rc.node = len(nodes), len(nodes)+1
		nodes = append(nodes, Node{Feature: -1}, Node{Feature: -1})
		splits = append(splits, split{}, split{})
		nodes[L.node] = t.splitNode(&s, lc.node, rc.node, L.h)
		splits[L.node] = s

		small, large := lc, rc
		if rc.b-rc.a < lc.b-lc.a {
			small, large = rc, lc
		}
		small.hist = t.getHist()
		t.buildHist(small.hist, small.a, small.b)
		large.hist = L.hist
		t.subtract(large.hist, small.hist)
		t.findBest(lc)
		t.findBest(rc)
		leaves[bi] = lc
		leaves = append(leaves, rc)
	}
	lambda := t.p.RegLambda
	k := t.k
	for _, l := range leaves {
		v := -l.g / (l.h + lambda) * t.p.LearningRate
		nodes[l.node].Value = v
		nodes[l.node].Cover = l.h
		t.putHist(l.hist)
		for _, r := range t.idx[l.a:l.b] {
			t.score[int(r)*k+c] += v
		}
	}
	if m < t.n {
		// Rows left out of this tree's sample still need its output. The
		// partitions above reordered idx[:m], so mark the sampled rows.
		if t.inSample == nil {
			t.inSample = make([]bool, t.n)
		}
		for _, r := range t.idx[:m] {
			t.inSample[r] = true
		}
		for r := 0; r < t.n; r++ {
			if t.inSample[r] {
				t.inSample[r] = false
				continue
			}
			t.score[r*k+c] += binnedValue(nodes, splits, t.bm.Cols, r)
		}
	}
	if t.vm != nil {
		vs := t.vscore
		cols := t.vm.Cols
		nv := t.vm.Rows
		parallel(t.threads, (nv+rowBlock-1)/rowBlock, func(b int) {
			for r := b * rowBlock; r < min((b+1)*rowBlock, nv); r++ {
				vs[r*k+c] += binnedValue(nodes, splits, cols, r)
			}
		})
	}
	return Tree{Nodes: nodes}, nil
}

func (t *trainer) splitNode(s *split, left, right int, cover float64) Node {
	col := &t.bm.Cols[s.feat]
	n := Node{Feature: s.feat, Left: left, Right: right, DefaultLeft: s.defLeft, Cover: cover}
	if !s.cat {
		if s.thrBin < len(col.Thresholds) {
			n.Threshold = col.Thresholds[s.thrBin]
		} else {
			// Every value left, missing right.
			n.Threshold = float32(math.Inf(1))
		}
		return n
	}
	codes := t.binCodes(s.feat)
	n.Categories = []int32{}
	for b := 0; b < col.NumBins-1; b++ {
		if s.catSet[b>>6]&(1<<(b&63)) != 0 {
			n.Categories = append(n.Categories, codes[b]...)
		}
	}
	slices.Sort(n.Categories)
	return n
}

func (t *trainer) binCodes(f int) [][]int32 {
	if t.codes == nil {
		t.codes = make([][][]int32, t.nf)
	}
	if t.codes[f] == nil {
		t.codes[f] = t.bm.Cols[f].BinCodes()
	}
	return t.codes[f]
}

// binnedValue walks a tree under construction on binned data.
func binnedValue(nodes []Node, splits []split, cols []binning.Column, r int) float64 {
	i := 0
	for !nodes[i].IsLeaf() {
		s := &splits[i]
		c := &cols[s.feat]
		if s.goesLeft(c.Bins[r], c.MissingBin()) {
			i = nodes[i].Left
		} else {
			i = nodes[i].Right
		}
	}
	return nodes[i].Value
}

func (t *trainer) getHist() []binStat {
	if n := len(t.pool); n > 0 {
		h := t.pool[n-1]
		t.pool = t.pool[:n-1]
		return h
	}
	return make([]binStat, t.nbins)
}

func (t *trainer) putHist(h []binStat) {
	if h != nil {
		t.pool = append(t.pool, h)
	}
}

// buildHist fills hist for the selected features from rows idx[a:b].
func (t *trainer) buildHist(hist []binStat, a, b int) {
	n := b - a
	feats := t.featList
	nf := len(feats)
	// Gather the rows' gradients into idx order so that every feature's
	// loop reads them sequentially; only the smaller child of a split is
	// built, so this touches about half the rows per level.
	gather := func(lo, hi int) {
		for i, r := range t.idx[lo:hi] {
			t.og[lo+i], t.oh[lo+i] = t.cg[r], t.ch[r]
		}
	}
	parallel(t.threads, (n+rowBlock-1)/rowBlock, func(k int) {
		gather(a+k*rowBlock, a+min((k+1)*rowBlock, n))
	})
	if n <= rowBlock {
		work := n * nf
		th := t.threads
		if work < 1<<14 {
			th = 1
		}
		parallel(th, nf, func(i int) {
			f := feats[i]
			histFeature(hist[t.offs[f]:t.offs[f+1]], t.bm.Cols[f].Bins, t.idx[a:b], t.og[a:b], t.oh[a:b])
		})
		return
	}
	nb := (n + rowBlock - 1) / rowBlock
	if need := nb * t.nbins; len(t.scratch) < need {
		t.scratch = make([]binStat, need)
	}
	sc := t.scratch
	parallel(t.threads, nb*nf, func(task int) {
		k, f := task/nf, feats[task%nf]
		lo, hi := a+k*rowBlock, min(a+(k+1)*rowBlock, b)
		base := k * t.nbins
		histFeature(sc[base+t.offs[f]:base+t.offs[f+1]], t.bm.Cols[f].Bins, t.idx[lo:hi], t.og[lo:hi], t.oh[lo:hi])
	})
	parallel(t.threads, nf, func(i int) {
		f := feats[i]
		dst := hist[t.offs[f]:t.offs[f+1]]
		copy(dst, sc[t.offs[f]:t.offs[f+1]])
		for k := 1; k < nb; k++ {
			src := sc[k*t.nbins+t.offs[f] : k*t.nbins+t.offs[f+1]]
			for j := range dst {
				dst[j].g += src[j].g
				dst[j].h += src[j].h
				dst[j].n += src[j].n
			}
		}
	})
}

// histFeature accumulates one feature's histogram. The gradients are already
// in idx order; the unrolled loop gives the CPU four independent bin updates
// to overlap.
func histFeature(hs []binStat, bins []uint8, idx []int32, g, h []float32) {
	clear(hs)
	n := len(idx)
	g = g[:n]
	h = h[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		b0, b1, b2, b3 := bins[idx[i]], bins[idx[i+1]], bins[idx[i+2]], bins[idx[i+3]]
		s := &hs[b0]
		s.g += float64(g[i])
		s.h += float64(h[i])
		s.n++
		s = &hs[b1]
		s.g += float64(g[i+1])
		s.h += float64(h[i+1])
		s.n++
		s = &hs[b2]
		s.g += float64(g[i+2])
		s.h += float64(h[i+2])
		s.n++
		s = &hs[b3]
		s.g += float64(g[i+3])
		s.h += float64(h[i+3])
		s.n++
	}
	for ; i < n; i++ {
		s := &hs[bins[idx[i]]]
		s.g += float64(g[i])
		s.h += float64(h[i])
		s.n++
	}
}

// subtract sets large -= small over the selected features: the sibling's
// histogram from the parent's, at the cost of one pass over the bins.
func (t *trainer) subtract(large, small []binStat) {
	for _, f := range t.featList {
		d := large[t.offs[f]:t.offs[f+1]]
		s := small[t.offs[f]:t.offs[f+1]]
		for j := range d {
			d[j].g -= s[j].g
			d[j].h -= s[j].h
			d[j].n -= s[j].n
		}
	}
}

// partition moves the rows of idx[a:b] that go left
// to the front, keeping order, and returns how many went left. Large ranges
// are cut into fixed blocks counted and scattered in parallel.
func (t *trainer) partition(a, b int, s *split) int {
	col := &t.bm.Cols[s.feat]
	bins := col.Bins
	var lut [256]int
	miss := col.MissingBin()
	for bin := 0; bin < 256; bin++ {
		if s.goesLeft(uint8(bin), miss) {
			lut[bin] = 1
		}
	}
	n := b - a
	nb := (n + rowBlock - 1) / rowBlock
	counts := make([]int, nb)
	// Each block splits its rows into its own part of tmpIdx (left) and
	// tmpR (right) without branching: every row is written to both, and
	// only the side it belongs to advances. Stray writes stay inside the
	// block's part.
	parallel(t.threads, nb, func(k int) {
		lo, hi := a+k*rowBlock, a+min((k+1)*rowBlock, n)
		tl, tr := t.tmpIdx[lo:hi], t.tmpR[lo:hi]
		l, r := 0, 0
		for _, row := range t.idx[lo:hi] {
			left := lut[bins[row]]
			tl[l] = row
			tr[r] = row
			l += left
			r += 1 - left
		}
		counts[k] = l
	})
	nl := 0
	for _, c := range counts {
		nl += c
	}
	parallel(t.threads, nb, func(k int) {
		lo, hi := a+k*rowBlock, a+min((k+1)*rowBlock, n)
		l := a
		for j := 0; j < k; j++ {
			l += counts[j]
		}
		r := a + nl + (lo - a) - (l - a)
		c := counts[k]
		copy(t.idx[l:l+c], t.tmpIdx[lo:lo+c])
		copy(t.idx[r:r+(hi-lo-c)], t.tmpR[lo:lo+hi-lo-c])
	})
	return nl
}

// findBest sets l.best to the best split over the selected features, or a
// zero gain when l cannot or should not be split.
func (t *trainer) findBest(l *leaf) {
	l.best = split{}
	p := &t.p
	if l.b-l.a < 2*p.MinChildSamples || l.h < 2*p.MinChildWeight || (p.MaxDepth > 0 && l.depth >= p.MaxDepth) {
		return
	}
	feats := t.featList
	best := make([]split, len(feats))
	th := t.threads
	if len(feats) < 16 {
		th = 1
	}
	parallel(th, len(feats), func(i int) {
		f := feats[i]
		hs := l.hist[t.offs[f]:t.offs[f+1]]
		if t.bm.Cols[f].Categorical {
			best[i] = t.bestCategorical(l, f, hs)
		} else {
			best[i] = t.bestNumeric(l, f, hs)
		}
	})
	for i := range best {
		if best[i].gain > l.best.gain {
			l.best = best[i]
		}
	}
}

// scorer evaluates candidate splits of one leaf.
type scorer struct {
	g, h       float64
	n          int64
	lambda     float64
	parent     float64
	minN       int64
	minH       float64
	best       split
	bestUpdate bool
}

func newScorer(l *leaf, lambda float64, p *Params) scorer {
	return scorer{g: l.g, h: l.h, n: int64(l.b - l.a), lambda: lambda, parent: l.g * l.g / (l.h + lambda),
		minN: int64(p.MinChildSamples), minH: p.MinChildWeight}
}

// try scores the split with the given left sums and keeps it if best so far.
func (s *scorer) try(lg, lh float64, ln int64) bool {
	rn := s.n - ln
	rh := s.h - lh
	if ln < s.minN || rn < s.minN || lh < s.minH || rh < s.minH {
		return false
	}
	rg := s.g - lg
	gain := lg*lg/(lh+s.lambda) + rg*rg/(rh+s.lambda) - s.parent
	if gain > s.best.gain {
		s.best.gain, s.best.lg, s.best.lh, s.best.ln = gain, lg, lh, ln
		return true
	}
	return false
}

func (t *trainer) bestNumeric(l *leaf, f int, hs []binStat) split {
	sc := newScorer(l, t.p.RegLambda, &t.p)
	nb := len(hs) - 1
	miss := hs[nb]
	var ag, ah float64
	var an int64
	for b := 0; b < nb; b++ {
		ag += hs[b].g
		ah += hs[b].h
		an += hs[b].n
		if miss.n == 0 {
			if b < nb-1 && sc.try(ag, ah, an) {
				sc.best.thrBin = b
				// No missing values seen here: send future ones to the
				// bigger side.
				sc.best.defLeft = an >= sc.n-an
			}
			continue
		}
		if sc.try(ag, ah, an) {
			sc.best.thrBin, sc.best.defLeft = b, false
		}
		if b < nb-1 && sc.try(ag+miss.g, ah+miss.h, an+miss.n) {
			sc.best.thrBin, sc.best.defLeft = b, true
		}
	}
	sc.best.feat = f
	return sc.best
}

func (t *trainer) bestCategorical(l *leaf, f int, hs []binStat) split {
	sc := newScorer(l, t.p.RegLambda+catL2, &t.p)
	nb := len(hs) - 1
	miss := hs[nb]
	cands := make([]int, 0, nb)
	for b := 0; b < nb; b++ {
		if float64(hs[b].n) >= catSmooth {
			cands = append(cands, b)
		}
	}
	if len(cands) < 2 && !(len(cands) == 1 && (miss.n > 0 || hs[cands[0]].n < sc.n)) {
		sc.best.feat = f
		return sc.best
	}
	ratio := func(b int) float64 { return hs[b].g / (hs[b].h + catSmooth) }
	slices.SortStableFunc(cands, func(x, y int) int {
		rx, ry := ratio(x), ratio(y)
		switch {
		case rx < ry:
			return -1
		case rx > ry:
			return 1
		}
		return 0
	})
	var bestSet []int
	for dir := 0; dir < 2; dir++ {
		var ag, ah float64
		var an int64
		limit := min(maxCatThreshold, len(cands))
		for i := 0; i < limit; i++ {
			b := cands[i]
			if dir == 1 {
				b = cands[len(cands)-1-i]
			}
			ag += hs[b].g
			ah += hs[b].h
			an += hs[b].n
			improved := false
			if sc.try(ag, ah, an) {
				sc.best.defLeft = miss.n == 0 && an >= sc.n-an
				improved = true
			}
			if miss.n > 0 && sc.try(ag+miss.g, ah+miss.h, an+miss.n) {
				sc.best.defLeft = true
				improved = true
			}
			if improved {
				bestSet = bestSet[:0]
				for j := 0; j <= i; j++ {
					if dir == 0 {
						bestSet = append(bestSet, cands[j])
					} else {
						bestSet = append(bestSet, cands[len(cands)-1-j])
					}
				}
			}
		}
	}
	sc.best.feat = f
	sc.best.cat = true
	for _, b := range bestSet {
		sc.best.catSet[b>>6] |= 1 << (b & 63)
	}
	return sc.best
}

// parallel runs f(0..n-1) on up to threads goroutines. Callers make f's
// results independent of which goroutine runs which index.
func parallel(threads, n int, f func(int)) {
	workers := min(threads, n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}
