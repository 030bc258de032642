package prep

import (
	"math"
	"testing"

	"modelsmith/ml/data"
)

// TestExportTableMatchesTransform: the exported table of a categorical
// column gives, for each training level, a missing cell and an unseen one,
// the features Transform makes.
func TestExportTableMatchesTransform(t *testing.T) {
	f := frame(catCol("c", "a", "b", "a", "", "c", "b", "a"), numCol("x", 1, nan, 3, 4, math.Inf(1), 6, 7))
	y := []float64{0, 1, 0, 1, 1, 0, 1}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"ordinal", TreePrep()}, {"one-hot", LinearPrep()}, {"target", Config{Impute: ImputeMedian, Categorical: Target}},
		{"one-hot capped", Config{Impute: ImputeNone, Categorical: OneHot, MaxOneHot: 1}},
	} {
		cfg := tc.cfg
		t.Run(tc.name, func(t *testing.T) {
			p, _ := fit(t, f, cfg, y, 2)
			steps := p.Export()
			if len(steps) != 2 || steps[0].Name != "c" || steps[1].Name != "x" {
				t.Fatalf("steps: %+v", steps)
			}
			s := steps[0]
			cells := append(append([]string{}, s.Levels...), "", "zzz")
			probe := frame(catCol("c", cells...), numCol("x", make([]float64, len(cells))...))
			x, err := p.Transform(probe)
			if err != nil {
				t.Fatal(err)
			}
			for i := range cells {
				for j := range s.Width {
					c := x.Cols[j]
					want := math.NaN()
					if c.IsCategorical() {
						if c.Codes[i] >= 0 {
							want = float64(c.Codes[i])
						}
					} else {
						want = c.Num[i]
					}
					if got := s.Table[i*s.Width+j]; !near(got, want) {
						t.Errorf("cell %q feature %d: table %v, transform %v", cells[i], j, got, want)
					}
				}
			}
			n := steps[1]
			if n.Kind != data.Numeric || len(n.Parts) != 1 || n.Parts[0].Part != PartValue {
				t.Errorf("numeric step: %+v", n)
			}
		})
	}
}
