package onnx

import (
	"testing"

	"modelsmith/ml/learn"
	"modelsmith/ml/learn/bayes"
	"modelsmith/ml/learn/forest"
	"modelsmith/ml/learn/gbdt"
	"modelsmith/ml/learn/knn"
	"modelsmith/ml/learn/linear"
	"modelsmith/ml/learn/nn"
	"modelsmith/ml/model"
	"modelsmith/ml/prep"
)

// Data sizes: adult is subsampled so that every test stays quick.
type dataset struct {
	name        string
	train, test int
	categorical bool // has categorical inputs
	missing     bool // has missing values
	regression  bool
}

var (
	iris       = dataset{name: "iris", train: 1000, test: 1000}
	cancer     = dataset{name: "breast_cancer", train: 1000, test: 1000}
	diabetes   = dataset{name: "diabetes", train: 1000, test: 1000, regression: true}
	adult      = dataset{name: "adult", train: 3000, test: 1500, categorical: true, missing: true}
	sms        = dataset{name: "sms_spam", train: 1500, test: 1115}
	california = dataset{name: "california_housing", train: 2000, test: 1000, categorical: true, missing: true, regression: true}
)

type exportCase struct {
	family string
	spec   learn.Spec
	set    map[string]string
	prep   func() prep.Config
	data   []dataset
}

var allData = []dataset{iris, cancer, diabetes, adult, california, sms}

// textPrep keeps TF-IDF features as they are (non-negative), for
// multinomial naive Bayes.
func textPrep() prep.Config {
	c := prep.LinearPrep()
	c.Standardize = false
	return c
}

var exportCases = []exportCase{
	{"gbdt", gbdt.Spec, map[string]string{"n_estimators": "30", "num_leaves": "15"}, prep.TreePrep, allData},
	{"forest", forest.Spec, map[string]string{"n_estimators": "20", "max_depth": "8"}, prep.TreePrep, allData},
	{"extra_trees", forest.Spec, map[string]string{"n_estimators": "20", "max_depth": "8", "extra_trees": "true"}, prep.TreePrep, allData},
	{"linear", linear.Spec, nil, prep.LinearPrep, allData},
	{"linear_l1", linear.Spec, map[string]string{"penalty": "l1"}, prep.LinearPrep, allData},
	{"nn", nn.Spec, map[string]string{"hidden": "16,8", "epochs": "5"}, prep.LinearPrep, allData},
	{"nn_tanh", nn.Spec, map[string]string{"hidden": "8", "epochs": "3", "activation": "tanh"}, prep.LinearPrep, []dataset{iris, california}},
	{"nn_sigmoid", nn.Spec, map[string]string{"hidden": "8,4", "epochs": "3", "activation": "sigmoid"}, prep.LinearPrep, []dataset{cancer, diabetes}},
	{"knn", knn.Spec, nil, prep.LinearPrep, []dataset{iris, cancer, diabetes, {name: "adult", train: 600, test: 300}, {name: "california_housing", train: 800, test: 300, regression: true}, {name: "sms_spam", train: 300, test: 100}}},
	{"knn_distance", knn.Spec, map[string]string{"weights": "distance", "n_neighbors": "7"}, prep.LinearPrep, []dataset{iris, diabetes, {name: "adult", train: 600, test: 300}}},
	{"bayes", bayes.Spec, nil, prep.LinearPrep, []dataset{iris, cancer, adult, sms}},
	{"bayes_multinomial", bayes.Spec, map[string]string{"kind": "multinomial"}, textPrep, []dataset{sms}},
}

// TestExportMatchesApp trains every family on datasets with numeric,
// categorical and missing inputs, exports the pipeline and runs it in
// onnxruntime on the test split.
func TestExportMatchesApp(t *testing.T) {
	needORT(t)
	for _, c := range exportCases {
		for _, d := range c.data {
			t.Run(c.family+"/"+d.name, func(t *testing.T) {
				t.Parallel()
				s := loadSplit(t, d.name, d.train, d.test)
				task := inferTask(s)
				if d.regression {
					task = model.Regression
				}
				p := trainPipeline(t, s, task, c.spec, c.set, c.prep())
				got := compare(t, p, s.test)
				if task == model.Regression {
					t.Logf("%s on %s (regression, %d rows): max |Δ|/max(1,|value|) %.3g", c.family, d.name, got.Rows, got.MaxValue)
				} else {
					t.Logf("%s on %s (%s, %d rows): labels %d/%d, max |Δp| %.3g", c.family, d.name, task, got.Rows, got.Labels, got.Rows, got.MaxProb)
				}
			})
		}
	}
}
