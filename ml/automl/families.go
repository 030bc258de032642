package automl

import (
	"math"
	"slices"
	"strconv"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/bayes"
	"modelsmith/ml/learn/forest"
	"modelsmith/ml/learn/gbdt"
	"modelsmith/ml/learn/knn"
	"modelsmith/ml/learn/linear"
	"modelsmith/ml/learn/nn"
	"modelsmith/ml/prep"
)

// Families lists the family names AutoML searches, cheapest first.
var Families = []string{"linear", "bayes", "gbdt", "extratrees", "forest", "knn", "nn"}

// dim is one searched hyperparameter: a number in [Lo, Hi] (on a log scale
// when Log), rounded when Int; or, with Choices, one of them.
type dim struct {
	Name    string
	Lo, Hi  float64
	Log     bool
	Int     bool
	Choices []string
}

// family is one searchable learner family: its spec, the preprocessing it
// needs, the hyperparameters it starts from (cheap first), the portfolio of
// configurations known to do well on many datasets, and its search space.
type family struct {
	name string
	// algorithm is the name of the spec the Trial reports ("forest" for
	// extratrees: the app knows the spec by that name).
	algorithm string
	spec      learn.Spec
	prep      prepKind
	// fixed values set on every configuration (extratrees: extra_trees=true).
	fixed func(p *problem) map[string]string
	// start is the cheap default; portfolio the configurations tried after
	// every family's default, in order.
	start     func(p *problem) map[string]string
	portfolio func(p *problem) []map[string]string
	space     func(p *problem) []dim
	// cost is a relative cost of a configuration (1 = the start), used to
	// order and bound work without measuring time (so a search with a trial
	// count stays deterministic).
	cost func(p *problem, v map[string]string) float64
	// usable says whether the family fits the problem at all (knn on very
	// large data does not).
	usable func(p *problem) bool
	// earlyStop: the learner uses Options.Valid for early stopping.
	earlyStop bool
	// relCost is the family's default cost relative to linear's, a prior
	// used before the family has been measured.
	relCost float64
}

type prepKind int

const (
	treePrep prepKind = iota
	linearPrep
)

func (k prepKind) config(p *problem) prep.Config {
	if k == treePrep {
		return prep.TreePrep()
	}
	c := prep.LinearPrep()
	// learn.Features is dense: keep a text vocabulary within about 3·10⁷
	// values per copy of the rows.
	c.TextMaxFeatures = min(max(30_000_000/max(len(p.y), 1), 200), 5000)
	return c
}

func fval(v map[string]string, name string, def float64) float64 {
	x, err := strconv.ParseFloat(v[name], 64)
	if err != nil {
		return def
	}
	return x
}

func always(*problem) bool { return true }

// Linear models see standardised features, so each weight's prior variance
// (C for logistic regression, 1/alpha for ridge, in units of the noise) adds
// to the score's: with w features the score's prior variance is about w·C.
// The starting penalty keeps that near 10 (a score spread of about ±3 logits),
// so a wide table — thousands of TF-IDF terms — starts strongly regularised
// and a narrow one at the usual C = 1 (alpha = 1). The search moves from
// there.
const linearPriorVariance = 10

func linearC(p *problem) float64 {
	return min(1, linearPriorVariance/float64(max(p.linearWidth(), 1)))
}

func linearAlpha(p *problem) float64 {
	return max(1, float64(p.linearWidth())/linearPriorVariance)
}

// formatParam writes a hyperparameter value with 3 significant digits.
func formatParam(x float64) string { return strconv.FormatFloat(x, 'g', 3, 64) }

// bigRows is where data count as large: big-leaf boosting first, fewer
// trees in forests, no MLP.
const bigRows = 100_000

// gbdtRounds caps boosting rounds by data size: early stopping ends most
// trials well before.
func gbdtRounds(p *problem) int {
	switch {
	case p.trainRows > 200000:
		return 600
	default:
		return 2000
	}
}

var families = map[string]*family{
	"gbdt": {
		name: "gbdt", algorithm: "gbdt", spec: gbdt.Spec, prep: treePrep, earlyStop: true, relCost: 2,
		fixed: func(p *problem) map[string]string {
			return map[string]string{"n_estimators": strconv.Itoa(gbdtRounds(p)), "early_stopping_rounds": "30"}
		},
		start: func(p *problem) map[string]string {
			if p.trainRows > bigRows {
				// Large data carry deep interactions; big leaves learn
				// them in few rounds; a high learning rate because the
				// time limit, not early stopping, usually ends the fit.
				return map[string]string{"learning_rate": "0.25", "num_leaves": "255", "min_child_samples": "50"}
			}
			return map[string]string{"learning_rate": "0.1", "num_leaves": "31", "min_child_samples": "20"}
		},
		portfolio: func(p *problem) []map[string]string {
			if p.trainRows > bigRows {
				return []map[string]string{
					{"learning_rate": "0.3", "num_leaves": "127", "min_child_samples": "100", "colsample_bytree": "0.8"},
					{"learning_rate": "0.15", "num_leaves": "511", "min_child_samples": "100"},
				}
			}
			return []map[string]string{
				{"learning_rate": "0.05", "num_leaves": "127", "min_child_samples": "20", "colsample_bytree": "0.8", "subsample": "0.8"},
				{"learning_rate": "0.05", "num_leaves": "8", "min_child_samples": "10", "colsample_bytree": "0.7", "reg_lambda": "3"},
				{"learning_rate": "0.03", "num_leaves": "31", "min_child_samples": "40", "colsample_bytree": "0.6", "subsample": "0.8", "reg_lambda": "5"},
				{"learning_rate": "0.1", "num_leaves": "255", "min_child_samples": "50", "colsample_bytree": "0.9"},
			}
		},
		space: func(p *problem) []dim {
			return []dim{
				{Name: "learning_rate", Lo: 0.01, Hi: 0.3, Log: true},
				{Name: "num_leaves", Lo: 4, Hi: 512, Log: true, Int: true},
				{Name: "min_child_samples", Lo: 2, Hi: 200, Log: true, Int: true},
				{Name: "colsample_bytree", Lo: 0.3, Hi: 1},
				{Name: "subsample", Lo: 0.5, Hi: 1},
				{Name: "reg_lambda", Lo: 0.01, Hi: 100, Log: true},
			}
		},
		cost: func(p *problem, v map[string]string) float64 {
			// Rounds until early stopping grow as the learning rate falls;
			// a round's cost grows slowly with the leaves.
			lr := fval(v, "learning_rate", 0.1)
			leaves := fval(v, "num_leaves", 31)
			return (0.1 / lr) * (0.5 + 0.5*math.Sqrt(leaves/31))
		},
		usable: always,
	},
	"forest": {
		name: "forest", algorithm: "forest", spec: forest.Spec, prep: treePrep, relCost: 4,
		fixed: func(*problem) map[string]string { return map[string]string{} },
		start: func(p *problem) map[string]string {
			return map[string]string{"n_estimators": strconv.Itoa(forestTrees(p)), "max_features": "auto", "min_samples_leaf": "1"}
		},
		portfolio: func(p *problem) []map[string]string {
			return []map[string]string{
				{"n_estimators": strconv.Itoa(forestTrees(p)), "max_features": "0.5", "min_samples_leaf": "2"},
			}
		},
		space: func(p *problem) []dim {
			return []dim{
				{Name: "max_features", Choices: []string{"sqrt", "0.2", "0.3", "0.5", "0.7", "all"}},
				{Name: "min_samples_leaf", Lo: 1, Hi: 30, Log: true, Int: true},
			}
		},
		cost:   forestCost,
		usable: always,
	},
	"extratrees": {
		name: "extratrees", algorithm: "forest", spec: forest.Spec, prep: treePrep, relCost: 3,
		fixed: func(*problem) map[string]string { return map[string]string{"extra_trees": "true"} },
		start: func(p *problem) map[string]string {
			return map[string]string{"n_estimators": strconv.Itoa(forestTrees(p)), "max_features": "auto", "min_samples_leaf": "1"}
		},
		portfolio: func(p *problem) []map[string]string { return nil },
		space: func(p *problem) []dim {
			return []dim{
				{Name: "max_features", Choices: []string{"sqrt", "0.3", "0.5", "0.7", "all"}},
				{Name: "min_samples_leaf", Lo: 1, Hi: 30, Log: true, Int: true},
			}
		},
		cost:   forestCost,
		usable: always,
	},
	"linear": {
		name: "linear", algorithm: "linear", spec: linear.Spec, prep: linearPrep, relCost: 1,
		fixed: func(*problem) map[string]string { return map[string]string{} },
		start: func(p *problem) map[string]string {
			if p.classes == 0 {
				return map[string]string{"alpha": formatParam(linearAlpha(p))}
			}
			return map[string]string{"C": formatParam(linearC(p))}
		},
		portfolio: func(p *problem) []map[string]string {
			if p.classes == 0 {
				a := linearAlpha(p)
				return []map[string]string{{"alpha": formatParam(a * 10)}, {"alpha": formatParam(a / 10)}}
			}
			c := linearC(p)
			return []map[string]string{{"C": formatParam(c * 10)}, {"C": formatParam(c / 10)}}
		},
		space: func(p *problem) []dim {
			if p.classes == 0 {
				return []dim{{Name: "alpha", Lo: 1e-3, Hi: max(1e4, linearAlpha(p)*1e3), Log: true}}
			}
			return []dim{{Name: "C", Lo: min(1e-3, linearC(p)/100), Hi: 1e3, Log: true}}
		},
		cost:   func(*problem, map[string]string) float64 { return 1 },
		usable: always,
	},
	"knn": {
		name: "knn", algorithm: "knn", spec: knn.Spec, prep: linearPrep, relCost: 1,
		fixed: func(*problem) map[string]string { return map[string]string{} },
		start: func(*problem) map[string]string {
			return map[string]string{"n_neighbors": "5", "weights": "uniform"}
		},
		portfolio: func(*problem) []map[string]string {
			return []map[string]string{{"n_neighbors": "15", "weights": "distance"}}
		},
		space: func(*problem) []dim {
			return []dim{
				{Name: "n_neighbors", Lo: 1, Hi: 60, Log: true, Int: true},
				{Name: "weights", Choices: []string{"uniform", "distance"}},
			}
		},
		cost: func(*problem, map[string]string) float64 { return 1 },
		// Brute-force neighbours cost train × validation rows × features.
		usable: func(p *problem) bool {
			return float64(p.trainRows)*float64(p.validRows)*float64(p.width()) < 2e9
		},
	},
	"bayes": {
		name: "bayes", algorithm: "bayes", spec: bayes.Spec, prep: linearPrep, relCost: 0.2,
		fixed: func(*problem) map[string]string { return map[string]string{} },
		start: func(p *problem) map[string]string {
			if p.textOnly() {
				return map[string]string{"kind": "multinomial", "alpha": "0.1"}
			}
			return map[string]string{"kind": "gaussian", "var_smoothing": "1e-9"}
		},
		portfolio: func(p *problem) []map[string]string {
			if p.textOnly() {
				return []map[string]string{{"kind": "multinomial", "alpha": "1"}}
			}
			return []map[string]string{{"kind": "gaussian", "var_smoothing": "0.001"}}
		},
		space: func(p *problem) []dim {
			if p.textOnly() {
				return []dim{{Name: "alpha", Lo: 1e-3, Hi: 10, Log: true}}
			}
			return []dim{{Name: "var_smoothing", Lo: 1e-12, Hi: 0.1, Log: true}}
		},
		cost:   func(*problem, map[string]string) float64 { return 1 },
		usable: func(p *problem) bool { return p.classes > 0 },
	},
	"nn": {
		name: "nn", algorithm: "nn", spec: nn.Spec, prep: linearPrep, earlyStop: true, relCost: 15,
		fixed: func(p *problem) map[string]string {
			return map[string]string{"epochs": strconv.Itoa(nnEpochs(p)), "early_stopping_rounds": "10",
				"batch_size": strconv.Itoa(nnBatch(p))}
		},
		start: func(*problem) map[string]string {
			return map[string]string{"hidden": "64,32", "learning_rate": "0.001", "dropout": "0.1"}
		},
		portfolio: func(*problem) []map[string]string {
			return []map[string]string{{"hidden": "128,64", "learning_rate": "0.003", "dropout": "0.2", "l2": "0.0001"}}
		},
		space: func(*problem) []dim {
			return []dim{
				{Name: "hidden", Choices: []string{"32", "64,32", "128,64", "256,128"}},
				{Name: "learning_rate", Lo: 1e-4, Hi: 1e-2, Log: true},
				{Name: "dropout", Lo: 0, Hi: 0.5},
				{Name: "l2", Lo: 1e-6, Hi: 1e-2, Log: true},
			}
		},
		cost: func(p *problem, v map[string]string) float64 {
			switch v["hidden"] {
			case "256,128":
				return 4
			case "128,64":
				return 2
			}
			return 1
		},
		usable: func(p *problem) bool { return p.trainRows <= 200000 },
	},
}

func forestTrees(p *problem) int {
	switch {
	case p.trainRows > 200000:
		return 50
	case p.trainRows > 5000:
		return 100
	}
	return 300
}

func forestCost(p *problem, v map[string]string) float64 {
	trees := fval(v, "n_estimators", 100) / float64(forestTrees(p))
	frac := 1.0
	switch mf := v["max_features"]; mf {
	case "auto", "sqrt", "log2", "":
		frac = 1
	case "all":
		frac = 3
	default:
		x, _ := strconv.ParseFloat(mf, 64)
		frac = max(1, 3*x)
	}
	return trees * frac
}

func nnEpochs(p *problem) int {
	switch {
	case p.trainRows > 20000:
		return 20
	case p.trainRows > 5000:
		return 40
	}
	return 200
}

func nnBatch(p *problem) int {
	if p.trainRows > 20000 {
		return 256
	}
	return 64
}

// config is one candidate: a family and its full hyperparameter values.
type config struct {
	fam    *family
	values map[string]string // what Trial.Params reports (checked, defaults filled in)
	// portfolio marks a configuration of the portfolio, run only while its
	// family ranks among the best.
	portfolio bool
}

// makeConfig merges the family's fixed values over given and fills in the
// spec's defaults; an invalid value (a bug in a space) is an error.
func makeConfig(p *problem, fam *family, given map[string]string) (config, error) {
	merged := map[string]string{}
	for k, v := range given {
		merged[k] = v
	}
	for k, v := range fam.fixed(p) {
		merged[k] = v
	}
	values, err := fam.spec.Values(merged)
	if err != nil {
		return config{}, err
	}
	return config{fam: fam, values: values}, nil
}

// key identifies a configuration, to skip duplicates.
func (c config) key() string {
	names := make([]string, 0, len(c.values))
	for k := range c.values {
		names = append(names, k)
	}
	slices.Sort(names)
	s := c.fam.name
	for _, k := range names {
		if k != "time_limit" {
			s += ";" + k + "=" + c.values[k]
		}
	}
	return s
}

// timeLimited says whether the family's learner takes a time_limit and
// returns the model grown so far at it.
func (f *family) timeLimited() bool { return f.spec.Name == "gbdt" || f.spec.Name == "forest" }
