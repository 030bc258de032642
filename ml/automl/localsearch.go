package automl

import (
	"math"
	"slices"
	"strconv"
)

// Local search in the style of FLAML's CFO (Wu et al. 2021): each family
// keeps its best configuration as a point in [0,1]^d (log scale where the
// dimension says so); a proposal is the point moved by step along a random
// unit direction, and after a failure the opposite direction; after 2d
// failures in a row the step shrinks, and below a floor it is reset (a
// restart around the best point). Categorical dimensions change to another
// choice with a small probability.
const (
	initialStep = 0.25
	minStep     = 0.03
	shrink      = 0.6
	flipChoice  = 0.25
)

type famState struct {
	fam       *family
	dims      []dim
	best      []float64         // numeric dims, normalised
	bestVals  map[string]string // values of the best configuration
	bestScore float64
	bestTrial Trial
	has       bool

	step     float64
	dir      []float64
	opposite bool // the next proposal is best - step·dir
	fails    int
}

func newFamState(p *problem, fam *family) *famState {
	return &famState{fam: fam, dims: fam.space(p), step: initialStep, bestScore: math.NaN()}
}

// numeric dims count.
func (st *famState) numeric() int {
	n := 0
	for _, d := range st.dims {
		if d.Choices == nil {
			n++
		}
	}
	return n
}

// observe takes a finished trial of the family into the state.
func (st *famState) observe(s *search, c config, t Trial) {
	if t.Status != Succeeded {
		st.failed()
		return
	}
	if !st.has || s.trialBetter(t, st.bestTrial) {
		improved := st.has
		st.has = true
		st.bestScore, st.bestTrial = t.Score, t
		st.bestVals = copyMap(c.values)
		st.best = st.encode(c.values)
		st.opposite = false
		st.fails = 0
		if improved {
			st.step = min(st.step*1.2, 0.5)
		}
		return
	}
	st.failed()
}

func (st *famState) failed() {
	st.fails++
	if st.fails >= 2*max(st.numeric(), 1) {
		st.fails = 0
		st.step *= shrink
		if st.step < minStep {
			st.step = initialStep
		}
	}
}

// rejected is a proposal that was not run (too costly): try elsewhere.
func (st *famState) rejected() { st.opposite = false }

// encode maps values to the normalised numeric point.
func (st *famState) encode(v map[string]string) []float64 {
	var x []float64
	for _, d := range st.dims {
		if d.Choices != nil {
			continue
		}
		val, err := strconv.ParseFloat(v[d.Name], 64)
		if err != nil {
			val = d.Lo
		}
		x = append(x, d.norm(val))
	}
	return x
}

func (d dim) norm(v float64) float64 {
	lo, hi := d.Lo, d.Hi
	if d.Log {
		v, lo, hi = math.Log(max(v, lo)), math.Log(lo), math.Log(hi)
	}
	return min(max((v-lo)/(hi-lo), 0), 1)
}

func (d dim) denorm(u float64) string {
	u = min(max(u, 0), 1)
	var v float64
	if d.Log {
		v = math.Exp(math.Log(d.Lo) + u*(math.Log(d.Hi)-math.Log(d.Lo)))
	} else {
		v = d.Lo + u*(d.Hi-d.Lo)
	}
	if d.Int {
		return strconv.Itoa(int(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// pickFamily chooses the family to search next: mostly the one with the best
// score, sometimes the second or third, so that a family close behind still
// gets searched. nil when no family has a successful trial and a space.
func (s *search) pickFamily() *family {
	var ranked []*famState
	for _, fam := range s.families {
		st := s.state[fam.name]
		if st != nil && st.has && len(st.dims) > 0 {
			ranked = append(ranked, st)
		}
	}
	if len(ranked) == 0 {
		return nil
	}
	slices.SortStableFunc(ranked, func(a, b *famState) int {
		return s.trialCmp(a.bestTrial, b.bestTrial)
	})
	u := s.rng.Float64()
	switch {
	case u < 0.65 || len(ranked) == 1:
		return ranked[0].fam
	case u < 0.9 || len(ranked) == 2:
		return ranked[1].fam
	default:
		return ranked[2].fam
	}
}

// propose makes the next configuration of the family.
func (st *famState) propose(s *search) (config, bool) {
	d := st.numeric()
	next := slices.Clone(st.best)
	if d > 0 {
		if st.opposite && st.dir != nil {
			for i := range next {
				next[i] -= st.step * st.dir[i]
			}
			st.opposite = false
		} else {
			st.dir = make([]float64, d)
			norm := 0.0
			for i := range st.dir {
				st.dir[i] = s.rng.NormFloat64()
				norm += st.dir[i] * st.dir[i]
			}
			norm = math.Sqrt(norm)
			for i := range st.dir {
				st.dir[i] /= norm
				next[i] += st.step * st.dir[i]
			}
			st.opposite = true
		}
	}
	given := copyMap(st.bestVals)
	j := 0
	for _, dm := range st.dims {
		if dm.Choices != nil {
			if s.rng.Float64() < flipChoice || d == 0 {
				given[dm.Name] = dm.Choices[s.rng.IntN(len(dm.Choices))]
			}
			continue
		}
		given[dm.Name] = dm.denorm(next[j])
		j++
	}
	c, err := makeConfig(s.p, st.fam, given)
	if err != nil {
		return config{}, false
	}
	return c, true
}
