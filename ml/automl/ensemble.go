package automl

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"modelsmith/ml/metrics"
)

// Greedy ensemble selection with replacement (Caruana et al. 2004, as in
// AutoGluon and auto-sklearn): starting from nothing, repeatedly add the
// trial whose out-of-fold predictions most improve the metric of the
// running average; a trial may be added again, which raises its weight. The
// ensemble of the best round is kept. Ties of the metric (accuracy moves in
// steps of one row) are broken by log loss or RMSE, so the choice is not
// arbitrary.
const (
	ensembleCandidates = 12   // best trials considered
	ensembleRounds     = 25   // additions at most
	ensembleRows       = 5000 // validation rows scored during selection, at most
	// ensembleShare bounds the selection's time under a budget: at most
	// this share of the time left (and ensembleMaxTime).
	ensembleShare   = 0.2
	ensembleMaxTime = 2 * time.Second
)

// selection is the ensemble chosen: trial positions (into search.trials)
// with their weights, and its score on all validation rows.
type selection struct {
	trials  []int
	weights []float64
	score   float64
}

// selectEnsemble returns the chosen ensemble of trials (positions in
// s.trials, not in exclude), or false when no ensemble of
// two or more trials beats the best single trial on the validation rows.
func (s *search) selectEnsemble(exclude map[int]bool) (selection, bool) {
	k := s.p.outputs()
	var cand []int
	for i, t := range s.trials {
		if !exclude[i] && t.Status == Succeeded && len(t.OOF) == s.p.validRows*k && !hasNaN(t.OOF) {
			cand = append(cand, i)
		}
	}
	if len(cand) < 2 {
		return selection{}, false
	}
	pooled := func(i int) float64 { return s.trials[i].Metrics[s.p.metric.Name] }
	slices.SortStableFunc(cand, func(a, b int) int {
		switch {
		case s.isBetter(pooled(a), pooled(b)):
			return -1
		case s.isBetter(pooled(b), pooled(a)):
			return 1
		}
		return 0
	})
	if len(cand) > ensembleCandidates {
		cand = cand[:ensembleCandidates]
	}
	yAll := takeFloats(s.p.y, s.p.validOrder())
	// Selection rows: all, or a seeded sample of large validation sets.
	rows := make([]int, len(yAll))
	for i := range rows {
		rows[i] = i
	}
	if len(rows) > ensembleRows {
		rng := rand.New(rand.NewPCG(s.cfg.Seed, 0xe75e))
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		rows = rows[:ensembleRows]
		slices.Sort(rows)
	}
	y := takeFloats(yAll, rows)
	preds := make([][]float64, len(cand))
	for c, ti := range cand {
		preds[c] = takeRows(s.trials[ti].OOF, rows, k)
	}
	tie := s.tieMetric()
	type score struct{ main, tie float64 }
	eval := func(pred []float64) score {
		m, err := s.p.metric.Score(y, pred, s.p.classes)
		if err != nil {
			m = math.NaN()
		}
		t, err := tie.Score(y, pred, s.p.classes)
		if err != nil {
			t = math.NaN()
		}
		return score{m, t}
	}
	better := func(a, b score) bool {
		if s.isBetter(a.main, b.main) {
			return true
		}
		if a.main == b.main && tie.Better(a.tie, b.tie) {
			return true
		}
		return false
	}
	sum := make([]float64, len(y)*k)
	avg := make([]float64, len(sum))
	counts := make([]int, len(cand))
	var bestScore score
	var bestCounts []int
	var stop time.Time
	if !s.end.IsZero() {
		stop = time.Now().Add(min(ensembleMaxTime, time.Duration(float64(time.Until(s.end))*ensembleShare)))
	}
	for round := 1; round <= ensembleRounds; round++ {
		if !stop.IsZero() && round > 2 && time.Now().After(stop) {
			break
		}
		pick := -1
		var pickScore score
		for c := range cand {
			for j := range sum {
				avg[j] = (sum[j] + preds[c][j]) / float64(round)
			}
			sc := eval(avg)
			if pick < 0 || better(sc, pickScore) {
				pick, pickScore = c, sc
			}
		}
		counts[pick]++
		for j := range sum {
			sum[j] += preds[pick][j]
		}
		if bestCounts == nil || better(pickScore, bestScore) {
			bestScore = pickScore
			bestCounts = slices.Clone(counts)
		}
	}
	var sel selection
	total := 0
	for _, n := range bestCounts {
		total += n
	}
	for c, n := range bestCounts {
		if n > 0 {
			sel.trials = append(sel.trials, cand[c])
			sel.weights = append(sel.weights, float64(n)/float64(total))
		}
	}
	if len(sel.trials) < 2 {
		return selection{}, false
	}
	// Score on every validation row, against the best single trial there.
	ens := make([]float64, len(yAll)*k)
	for m, ti := range sel.trials {
		for j, v := range s.trials[ti].OOF {
			ens[j] += sel.weights[m] * v
		}
	}
	var err error
	if sel.score, err = s.p.metric.Score(yAll, ens, s.p.classes); err != nil {
		return selection{}, false
	}
	single := s.trials[cand[0]]
	if !s.isBetter(sel.score, pooled(cand[0])) {
		t, err := tie.Score(yAll, ens, s.p.classes)
		if err != nil || sel.score != pooled(cand[0]) || !tie.Better(t, single.Metrics[tie.Name]) {
			return selection{}, false
		}
	}
	return sel, true
}

// tieMetric breaks ties of the main metric.
func (s *search) tieMetric() metrics.Metric {
	name := "log_loss"
	if s.p.classes == 0 {
		name = "rmse"
	}
	m, err := metrics.Lookup(name, s.p.task)
	if err != nil {
		return s.p.metric
	}
	return m
}

func takeRows(v []float64, rows []int, k int) []float64 {
	out := make([]float64, len(rows)*k)
	for i, r := range rows {
		copy(out[i*k:(i+1)*k], v[r*k:(r+1)*k])
	}
	return out
}

func hasNaN(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return true
		}
	}
	return false
}
