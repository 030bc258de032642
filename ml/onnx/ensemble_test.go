package onnx

import (
	"context"
	"testing"

	"modelsmith/ml/automl"
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

// TestExportEnsemble: a weighted ensemble of members of every kind, each
// with its own prep, on data with categorical and missing inputs.
func TestExportEnsemble(t *testing.T) {
	needORT(t)
	for _, d := range []dataset{adult, california, iris} {
		t.Run(d.name, func(t *testing.T) {
			s := loadSplit(t, d.name, d.train, d.test)
			task := inferTask(s)
			if d.regression {
				task = model.Regression
			}
			members := []model.Member{
				{Weight: 0.4, Pipeline: trainPipeline(t, s, task, gbdt.Spec, map[string]string{"n_estimators": "20"}, prep.TreePrep())},
				{Weight: 0.3, Pipeline: trainPipeline(t, s, task, linear.Spec, nil, prep.LinearPrep())},
				{Weight: 0.2, Pipeline: trainPipeline(t, s, task, forest.Spec, map[string]string{"n_estimators": "10", "max_depth": "6"}, prep.TreePrep())},
				{Weight: 0.1, Pipeline: trainPipeline(t, s, task, nn.Spec, map[string]string{"hidden": "8", "epochs": "3"}, prep.LinearPrep())},
			}
			if d.name == "iris" {
				members = append(members, model.Member{Weight: 0.25, Pipeline: trainPipeline(t, s, task, knn.Spec, nil, prep.LinearPrep())})
			}
			first := members[0].Pipeline
			p := &model.Pipeline{Inputs: first.Inputs, Target: first.Target, Task: task, Classes: first.Classes, Members: members,
				Meta: map[string]string{"algorithm": "ensemble"}}
			// Export what the workspace stores: the pipeline after the
			// native codec.
			raw, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if p, err = model.Decode(raw, family); err != nil {
				t.Fatal(err)
			}
			got := compare(t, p, s.test)
			t.Logf("ensemble of %d on %s: labels %d/%d, max |Δp| %.3g, max rel |Δ| %.3g", len(members), d.name, got.Labels, got.Rows, got.MaxProb, got.MaxValue)
		})
	}
}

// family finds a learner family by name, as the app's registry does.
func family(name string) (learn.Spec, bool) {
	for _, s := range []learn.Spec{gbdt.Spec, forest.Spec, linear.Spec, knn.Spec, bayes.Spec, nn.Spec} {
		if s.Name == name {
			return s, true
		}
	}
	return learn.Spec{}, false
}

// TestExportAutoML: the model an AutoML search picks on adult (an ensemble
// or a single pipeline) exports and agrees with the app on the test split,
// one input per CSV column.
func TestExportAutoML(t *testing.T) {
	needORT(t)
	s := loadSplit(t, "adult", 2000, 1<<30) // the whole test split
	res, err := automl.Run(context.Background(), s.train, s.target, automl.Config{
		Trials: 8, Seed: 3, Families: []string{"linear", "gbdt", "forest", "bayes", "nn"}, Folds: 2,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := compare(t, res.Best, s.test)
	if len(res.Best.Inputs) != len(s.features) {
		t.Errorf("the model reads %d columns, the CSV has %d features", len(res.Best.Inputs), len(s.features))
	}
	t.Logf("automl best %s (%d members) on adult: labels %d/%d, max |Δp| %.3g",
		res.Best.Meta["algorithm"], len(res.Best.Members), got.Labels, got.Rows, got.MaxProb)
}
