package app

import (
	"context"
	"fmt"
	"math"
	"sort"

	"modelsmith/ml/automl"
	"modelsmith/ml/metrics"
	"modelsmith/storage"
)

// Curve is one learning curve of a run: a metric by training step (boosting
// round, epoch), on the training rows ("train_…") or held-out ones
// ("valid_…").
type Curve struct {
	Name  string    `json:"name"`
	Steps []float64 `json:"steps"`
	Value []float64 `json:"values"`
}

// LearningCurves returns the curves a run recorded while it trained, by
// name; none for a learner without steps (knn, bayes). A run still training
// returns the points written so far.
func (s *Studio) LearningCurves(ctx context.Context, runID int64) ([]Curve, error) {
	var points []storage.MetricPoint
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		var err error
		points, err = tx.RunMetrics(runID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("learning curves of run %d: %w", runID, err)
	}
	byName := map[string]*Curve{}
	var names []string
	for _, p := range points {
		if math.IsNaN(p.Value) {
			continue
		}
		c := byName[p.Name]
		if c == nil {
			c = &Curve{Name: p.Name}
			byName[p.Name] = c
			names = append(names, p.Name)
		}
		c.Steps = append(c.Steps, float64(p.Step))
		c.Value = append(c.Value, p.Value)
	}
	sort.Strings(names)
	out := make([]Curve, len(names))
	for i, n := range names {
		out[i] = *byName[n]
	}
	return out, nil
}

// AutoMLFamilies lists the learner families AutoML can search, cheapest first.
func AutoMLFamilies() []string { return append([]string(nil), automl.Families...) }

// ExperimentModel is the model registered by an experiment (its final model
// for AutoML); ok is false when it registered none (still running,
// cancelled, failed, or the model was deleted).
func (s *Studio) ExperimentModel(ctx context.Context, experimentID int64) (ModelInfo, bool, error) {
	var out ModelInfo
	found := false
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		runs, err := tx.Runs(experimentID, 0)
		if err != nil {
			return err
		}
		ids := map[int64]bool{}
		for _, r := range runs {
			ids[r.ID] = true
		}
		models, err := tx.Models()
		if err != nil {
			return err
		}
		for _, m := range models {
			if ids[m.RunID] && (!found || m.CreatedAt.After(out.CreatedAt)) {
				out, found = modelFrom(m), true
			}
		}
		return nil
	})
	if err != nil {
		return ModelInfo{}, false, fmt.Errorf("model of experiment %d: %w", experimentID, err)
	}
	return out, found, nil
}

// GreaterIsBetter says whether a higher value of metric is better for task
// (true for an unknown metric).
func GreaterIsBetter(metric, task string) bool {
	if m, err := metrics.Lookup(metric, task); err == nil {
		return m.HigherIsBetter
	}
	return true
}
