package data

import (
	"slices"
	"testing"
)

func TestHoldout(t *testing.T) {
	y := make([]float64, 1000)
	for i := range y {
		if i%10 == 0 {
			y[i] = 1 // 10 % positives
		}
	}
	train, held := Holdout(len(y), y, 2, 0.2, 42)
	if len(train)+len(held) != len(y) || len(held) != 200 {
		t.Fatalf("train %d, held %d", len(train), len(held))
	}
	pos := 0
	for _, i := range held {
		if y[i] == 1 {
			pos++
		}
	}
	if pos != 20 {
		t.Errorf("held-out positives = %d, want 20 (stratified)", pos)
	}
	seen := map[int]bool{}
	for _, i := range append(slices.Clone(train), held...) {
		if seen[i] {
			t.Fatalf("row %d on both sides", i)
		}
		seen[i] = true
	}
	again, _ := Holdout(len(y), y, 2, 0.2, 42)
	if !slices.Equal(train, again) {
		t.Error("the same seed gave another split")
	}
	other, _ := Holdout(len(y), y, 2, 0.2, 43)
	if slices.Equal(train, other) {
		t.Error("another seed gave the same split")
	}
	if tr, h := Holdout(5, nil, 0, 0, 1); len(tr) != 5 || h != nil {
		t.Errorf("frac 0: %v %v", tr, h)
	}
}

func TestTake(t *testing.T) {
	f := &Frame{Columns: []*Column{
		{Name: "x", Kind: Numeric, Num: []float64{1, 2, 3}},
		{Name: "c", Kind: Categorical, Codes: []int32{0, -1, 1}, Levels: []string{"a", "b"}},
	}}
	g := f.Take([]int{2, 0})
	if g.Rows() != 2 || g.Columns[0].Num[0] != 3 || g.Columns[1].Format(0) != "b" || g.Columns[1].Format(1) != "a" {
		t.Errorf("Take = %+v", g.Columns)
	}
}
