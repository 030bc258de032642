package data

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func numCol(vals ...float64) *Column { return &Column{Name: "x", Kind: Numeric, Num: vals} }

func catCol(levels []string, codes ...int32) *Column {
	return &Column{Name: "c", Kind: Categorical, Levels: levels, Codes: codes}
}

func TestProfileHints(t *testing.T) {
	nan := math.NaN()
	ints := func(n, mod int) *Column {
		c := &Column{Kind: Numeric}
		for i := range n {
			c.Num = append(c.Num, float64(i%mod))
		}
		return c
	}
	tests := []struct {
		name string
		col  *Column
		hint string
	}{
		{"few integers are possibly categorical", numCol(0, 1, 1, 0, 2, nan), "possibly categorical"},
		{"20 distinct integers still are", ints(1000, 20), "possibly categorical"},
		{"21 distinct integers in few rows are not", ints(100, 21), ""},
		{"50 distinct integers in 5000 rows are (1 %)", ints(5000, 50), "possibly categorical"},
		{"51 distinct integers are never", ints(100000, 51), ""},
		{"decimals are not", numCol(0.5, 1, 1, 0), ""},
		{"constant number", numCol(3, 3, nan, 3), "constant"},
		{"all missing number", numCol(nan, nan), "empty"},
		{"constant category", catCol([]string{"a"}, 0, 0, -1), "constant"},
		{"empty category", catCol(nil, -1, -1), "empty"},
		{"identifier", catCol([]string{"a", "b", "c"}, 0, 1, 2), "identifier"},
		{"ordinary categories", catCol([]string{"a", "b"}, 0, 1, 1), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ProfileColumn(tt.col).Hint; got != tt.hint {
				t.Errorf("hint = %q, want %q", got, tt.hint)
			}
		})
	}
}

func TestProfileNumbers(t *testing.T) {
	p := ProfileColumn(numCol(1, 2, 3, 4, math.NaN()))
	if p.Count != 5 || p.Missing != 1 || p.Distinct != 4 {
		t.Errorf("counts %+v", p)
	}
	if *p.Min != 1 || *p.Max != 4 || math.Abs(*p.Mean-2.5) > 1e-12 || math.Abs(*p.Std-math.Sqrt(1.25)) > 1e-12 {
		t.Errorf("stats min %v max %v mean %v std %v", *p.Min, *p.Max, *p.Mean, *p.Std)
	}
	h := p.Histogram
	total := 0
	for _, n := range h.Counts {
		total += n
	}
	if total != 4 || h.Edges[0] != 1 || h.Edges[HistogramBins] != 4 || h.Counts[0] != 1 || h.Counts[HistogramBins-1] != 1 {
		t.Errorf("histogram %+v", h)
	}
}

func TestProfileCategorical(t *testing.T) {
	c := catCol([]string{"b", "a", "c"}, 0, 1, 0, 1, 2, -1)
	p := ProfileColumn(c)
	if p.Distinct != 3 || p.Missing != 1 || p.Min != nil || p.Histogram != nil {
		t.Errorf("profile %+v", p)
	}
	want := []LevelCount{{"a", 2}, {"b", 2}, {"c", 1}}
	for i, w := range want {
		if p.Top[i] != w {
			t.Errorf("top[%d] = %v, want %v", i, p.Top[i], w)
		}
	}
	var many []string
	var codes []int32
	for i := range 30 {
		many = append(many, strings.Repeat("x", i+1))
		codes = append(codes, int32(i))
	}
	if got := len(ProfileColumn(catCol(many, codes...)).Top); got != TopLevels {
		t.Errorf("top has %d entries", got)
	}
}

func TestProfileJSONSafe(t *testing.T) {
	cols := []*Column{
		numCol(math.Inf(1), 1, math.NaN()),
		numCol(math.Inf(-1), math.Inf(1)),
		numCol(-math.MaxFloat64, math.MaxFloat64),
		numCol(math.MaxFloat64, math.MaxFloat64),
		numCol(5e-324, 1e-323),
		numCol(),
		{Kind: Datetime, Num: []float64{0, 86400, math.NaN()}},
		catCol(nil),
	}
	for i, c := range cols {
		b, err := json.Marshal(ProfileColumn(c))
		if err != nil {
			t.Errorf("column %d: %v", i, err)
		}
		if strings.Contains(string(b), "NaN") || strings.Contains(string(b), "Inf") {
			t.Errorf("column %d: %s", i, b)
		}
	}
	b, _ := json.Marshal(ProfileColumn(numCol(1, 2)))
	for _, key := range []string{`"type":"numeric"`, `"count":2`, `"missing":0`, `"distinct":2`, `"histogram":{"edges":[`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("%s lacks %s", b, key)
		}
	}
}

func TestHintFromRead(t *testing.T) {
	f, err := Read(context.Background(), strings.NewReader("grade,score\n1,0.5\n2,1.5\n3,2.5\n1,3.5\n2,4.5\n"), "h.csv", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := ProfileColumn(f.Column("grade")); p.Type != "numeric" || p.Hint != "possibly categorical" {
		t.Errorf("grade: %+v", p)
	}
	if p := ProfileColumn(f.Column("score")); p.Hint != "" {
		t.Errorf("score: %+v", p)
	}
}

func TestHashCanonical(t *testing.T) {
	a := &Frame{Columns: []*Column{catCol([]string{"x", "y"}, 0, 1, -1), numCol(1, math.NaN())}}
	b := &Frame{Columns: []*Column{catCol([]string{"y", "x"}, 1, 0, -1), numCol(1, math.Float64frombits(0x7FF8000000000abc))}}
	if a.Hash() != b.Hash() {
		t.Error("level order or NaN payload changes the hash")
	}
	c := &Frame{Columns: []*Column{catCol([]string{"x", "y"}, 0, 1, 1), numCol(1, math.NaN())}}
	if a.Hash() == c.Hash() {
		t.Error("different values hash the same")
	}
	d := &Frame{Columns: []*Column{{Name: "c", Kind: Text, Levels: []string{"x", "y"}, Codes: []int32{0, 1, -1}}, numCol(1, math.NaN())}}
	if a.Hash() == d.Hash() {
		t.Error("kind is not hashed")
	}
	if len(a.Hash()) != 64 {
		t.Errorf("hash %q", a.Hash())
	}
}
