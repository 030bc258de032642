package prep

import (
	"context"
	"math"
	"slices"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn/learntest"
)

// textCol builds a text column; "" is missing.
func textCol(name string, cells ...string) *data.Column {
	return learntest.CodedColumn(name, data.Text, cells...)
}

func TestTFIDFFormula(t *testing.T) {
	docs := textCol("msg", "Free entry NOW", "free\tfree  call", "call me NOW!", "", "é Free")
	p, x, err := Fit(context.Background(), frame(docs), []string{"msg"}, nil, 0, Config{Impute: ImputeNone, Categorical: Ordinal}, 1)
	if err != nil {
		t.Fatal(err)
	}
	// df: free 3, call 2, now 1 ("now!" differs), entry 1, me 1, é 1.
	// min_df 2 keeps free and call; ties none.
	if got := p.FeatureNames(); !slices.Equal(got, []string{"msg:free", "msg:call"}) {
		t.Fatalf("features %v", got)
	}
	n := 5.0
	idfFree, idfCall := math.Log((1+n)/(1+3))+1, math.Log((1+n)/(1+2))+1
	unit := func(a, b float64) (float64, float64) { h := math.Hypot(a, b); return a / h, b / h }
	f1, c1 := unit(2*idfFree, idfCall)
	want := [][]float64{{1, 0}, {f1, c1}, {0, 1}, {0, 0}, {1, 0}}
	for i, row := range want {
		for j, v := range row {
			if got := x.Cols[j].Num[i]; math.Abs(got-v) > 1e-12 {
				t.Errorf("row %d feature %d: %v, want %v", i, j, got, v)
			}
		}
	}
	// Transform and Row give the same features, for unseen text too.
	cells := []string{"FREE call call", "nothing known", "NA", "free"}
	y, err := p.Transform(frame(textCol("msg", cells...)))
	if err != nil {
		t.Fatal(err)
	}
	r := p.NewRow()
	for i, c := range cells {
		if err := r.Set([]string{c}); err != nil {
			t.Fatal(err)
		}
		for j := range 2 {
			a, b := y.Cols[j].Num[i], r.Features().Cols[j].Num[0]
			if c == "NA" {
				a = 0 // "NA" is a literal text in a frame, missing in a row
			}
			if math.Abs(a-b) > 1e-12 {
				t.Errorf("cell %q feature %d: transform %v, row %v", c, j, a, b)
			}
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = r.Set([]string{"Free call me now"}) }); allocs != 0 {
		t.Errorf("Row.Set allocates %v times", allocs)
	}
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	z, err := q.Transform(frame(textCol("msg", cells...)))
	if err != nil {
		t.Fatal(err)
	}
	for j := range y.Cols {
		if !slices.Equal(y.Cols[j].Num, z.Cols[j].Num) {
			t.Errorf("decoded prep differs on feature %d", j)
		}
	}
}

func TestTFIDFVocabularyCapAndBigrams(t *testing.T) {
	docs := textCol("t", "b a c", "a b c", "c a b", "a b", "b a")
	cfg := Config{Impute: ImputeNone, Categorical: Ordinal, TextMaxFeatures: 4, TextBigrams: true}
	p, _, err := Fit(context.Background(), frame(docs), []string{"t"}, nil, 0, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	// df: a 5, b 5, c 3, "a b" 3, "b a" 2, "c a" 1, "b c" 1...: ties by bytes.
	if got := p.FeatureNames(); !slices.Equal(got, []string{"t:a", "t:b", "t:a b", "t:c"}) {
		t.Fatalf("features %v", got)
	}
	// No word in two rows: the column is excluded, and says why.
	p, x, err := Fit(context.Background(), frame(textCol("t", "x", "y"), numCol("n", 1, 2)), []string{"t", "n"}, nil, 0, TreePrep(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Cols) != 1 || len(p.Notes()) != 1 {
		t.Fatalf("features %v notes %v", p.FeatureNames(), p.Notes())
	}
}
