package app

import (
	"sort"
	"strings"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/bayes"
	"modelsmith/ml/learn/forest"
	"modelsmith/ml/learn/gbdt"
	"modelsmith/ml/learn/knn"
	"modelsmith/ml/learn/linear"
	"modelsmith/ml/learn/nn"
	"modelsmith/ml/prep"
)

// algorithm is a learner family the app offers, with the preprocessing it
// needs: trees take missing values and categories natively, the others get
// imputed, one-hot encoded, standardised numbers.
type algorithm struct {
	spec learn.Spec
	prep func() prep.Config
}

var algorithms = map[string]algorithm{
	"gbdt":   {gbdt.Spec, prep.TreePrep},
	"forest": {forest.Spec, prep.TreePrep},
	"nn":     {nn.Spec, prep.LinearPrep},
	"linear": {linear.Spec, prep.LinearPrep},
	"knn":    {knn.Spec, prep.LinearPrep},
	"bayes":  {bayes.Spec, prep.LinearPrep},
}

// Algorithms lists the learner families by name, with their hyperparameters.
func Algorithms() []learn.Spec {
	out := make([]learn.Spec, 0, len(algorithms))
	for _, a := range algorithms {
		out = append(out, a.spec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func lookupAlgorithm(name string) (algorithm, error) {
	a, ok := algorithms[name]
	if !ok {
		names := make([]string, 0, len(algorithms))
		for n := range algorithms {
			names = append(names, n)
		}
		sort.Strings(names)
		return a, usageErrorf("unknown algorithm %q; available: %s", name, strings.Join(names, ", "))
	}
	return a, nil
}

// family finds the decoder of a stored predictor.
func family(name string) (learn.Spec, bool) {
	a, ok := algorithms[name]
	return a.spec, ok
}
