package data

import (
	"math/rand/v2"
	"sort"
)

// Holdout splits rows 0..n-1 into a training part and a held-out part of
// about frac·n rows, deterministically for a seed. With classes > 0, y holds
// class indices and the split is stratified: each class is held out in the
// same proportion, and a class with at least two rows keeps at least one on
// each side. Both parts are returned in increasing row order.
func Holdout(n int, y []float64, classes int, frac float64, seed uint64) (train, held []int) {
	if frac <= 0 || n < 2 {
		train = make([]int, n)
		for i := range train {
			train[i] = i
		}
		return train, nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed5011))
	groups := [][]int{make([]int, 0, n)}
	if classes > 0 {
		groups = make([][]int, classes)
	}
	for i := 0; i < n; i++ {
		g := 0
		if classes > 0 {
			g = int(y[i])
		}
		groups[g] = append(groups[g], i)
	}
	for _, g := range groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		k := int(frac*float64(len(g)) + 0.5)
		if len(g) >= 2 {
			k = min(max(k, 1), len(g)-1)
		} else {
			k = 0
		}
		held = append(held, g[:k]...)
		train = append(train, g[k:]...)
	}
	sort.Ints(train)
	sort.Ints(held)
	return train, held
}

// Take returns the rows of c at the given indices, in that order.
func (c *Column) Take(rows []int) *Column {
	out := &Column{Name: c.Name, Kind: c.Kind, Levels: c.Levels}
	if c.Kind == Categorical || c.Kind == Text {
		out.Codes = make([]int32, len(rows))
		for i, r := range rows {
			out.Codes[i] = c.Codes[r]
		}
	} else {
		out.Num = make([]float64, len(rows))
		for i, r := range rows {
			out.Num[i] = c.Num[r]
		}
	}
	return out
}

// Take returns the rows of f at the given indices; see Column.Take.
func (f *Frame) Take(rows []int) *Frame {
	out := &Frame{Columns: make([]*Column, len(f.Columns))}
	for k, c := range f.Columns {
		out.Columns[k] = c.Take(rows)
	}
	return out
}
