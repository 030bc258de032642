package app

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"modelsmith/ml/data"
	"modelsmith/ml/explain"
	"modelsmith/ml/learn"
	"modelsmith/ml/metrics"
	"modelsmith/ml/model"
	"modelsmith/storage"
)

// Limits on the work and size of a ModelReport, so that opening a model
// trained on a million rows stays quick and its charts light.
const (
	// ReportMaxPoints caps the points of the residual and predicted-against-
	// actual plots (a seeded sample of the evaluated rows).
	ReportMaxPoints = 5000
	// ReportImportanceRows caps the rows permutation importance shuffles.
	ReportImportanceRows = 2000
	// reportImportanceRepeats is how often each feature is shuffled.
	reportImportanceRepeats = 3
)

// ClassCurves are one class's curves against the rest, with their areas
// (ROC AUC and average precision).
type ClassCurves struct {
	Class   string
	AUC, AP float64
	ROC, PR []CurvePoint
}

// MaxCurveClasses is how many classes of a multiclass model get curves: as
// many as a chart can tell apart by colour.
const MaxCurveClasses = 8

// CurvePoint is one point of a ROC or precision–recall curve.
type CurvePoint struct {
	X, Y, Threshold float64
}

// FeatureImportance is how much the model's score drops when one input
// column is shuffled (positive: the model relies on it), with the spread
// over repeats.
type FeatureImportance struct {
	Feature string  `json:"feature"`
	Mean    float64 `json:"mean"`
	Std     float64 `json:"std"`
}

// ModelReport is what the Models screen shows about one model version: its
// scores and charts on the rows it was not trained on.
type ModelReport struct {
	Model ModelInfo
	// Data says which rows were evaluated, for a human: "312 held-out rows
	// of adult@1" or, when the model was trained on every row, "all 32561
	// rows of adult@1 (the training data: scores are optimistic)".
	Data string
	// Rows is the number of rows evaluated; Heldout whether they are rows
	// the model did not see while training.
	Rows    int
	Heldout bool
	Task    string
	Metric  string // the model's main metric
	Metrics map[string]float64
	Classes []string

	// Classification: Confusion[i][j] counts rows of class i predicted j.
	Confusion [][]int
	// Binary: ROC (X false positive rate, Y true positive rate) and PR (X
	// recall, Y precision) curves of the second class, Classes[1], and its
	// reliability diagram: X the mean predicted probability of the rows in
	// one of ten probability bins, Y the share of them truly of that class
	// (Threshold holds the bin's row count).
	ROC, PR, Calibration []CurvePoint
	// Multiclass: each class's ROC and PR curve against the rest, for at
	// most MaxCurveClasses classes (the commonest among the rows), in the
	// classes' order.
	OneVsRest []ClassCurves

	// Regression: actual and predicted values and residuals (actual −
	// predicted) of at most ReportMaxPoints rows.
	Actual, Predicted, Residuals []float64

	// Importance of every input column, largest first, and where it comes
	// from ("permutation on 2000 held-out rows" or "stored with the
	// model").
	Importance       []FeatureImportance
	ImportanceSource string
}

// ModelReport evaluates a model version on the rows it held out while
// training: the same dataset, seed and holdout fraction give back the same
// split Train made. A model trained without a holdout is evaluated on its
// training dataset, and the report says so. An AutoML model is reported on
// the validation predictions its search kept (out-of-fold with
// cross-validation), scored all at once: the search's leaderboard may
// average its folds' scores instead, which differs a little. The dataset
// must still be in the workspace.
func (s *Studio) ModelReport(ctx context.Context, ref string, progress func(Progress)) (ModelReport, error) {
	report := func(stage string, frac float64, msg string) {
		if progress != nil {
			progress(Progress{Stage: stage, Fraction: frac, Message: msg})
		}
	}
	pipe, m, err := s.loadModel(ctx, ref, true)
	if err != nil {
		return ModelReport{}, err
	}
	info := modelFrom(m)
	rep := ModelReport{Model: info, Task: pipe.Task, Classes: pipe.Classes, Metric: cardString(info.Card, "metric")}
	if rep.Metric == "" {
		rep.Metric = metrics.Default(pipe.Task)
	}
	if info.DatasetRef == "" {
		return rep, fmt.Errorf("report on model %s: its card names no dataset to evaluate it on", info.Ref)
	}
	report("loading", 0.05, "loading "+info.DatasetRef)
	frame, err := s.Frame(ctx, info.DatasetRef)
	if err != nil {
		return rep, fmt.Errorf("report on model %s: its dataset %s: %w", info.Ref, info.DatasetRef, err)
	}
	target := frame.Column(pipe.Target)
	if target == nil {
		return rep, fmt.Errorf("report on model %s: dataset %s has no target column %q", info.Ref, info.DatasetRef, pipe.Target)
	}
	y, classes, err := model.Labels(target, pipe.Task)
	if err != nil {
		return rep, fmt.Errorf("report on model %s: dataset %s: %w", info.Ref, info.DatasetRef, err)
	}
	nClasses := 0
	if pipe.Task != model.Regression {
		nClasses = len(pipe.Classes)
		if !slices.Equal(classes, pipe.Classes) {
			return rep, fmt.Errorf("report on model %s: the classes of %q in %s (%v) are not the model's (%v)",
				info.Ref, pipe.Target, info.DatasetRef, classes, pipe.Classes)
		}
	}

	seed, holdout := reportSplit(pipe, info.Card)
	var evalFrame *data.Frame
	var evalY, out []float64
	if rows, oof, desc, ok := s.searchPredictions(ctx, pipe, info.Card, y, nClasses, seed); ok {
		// An AutoML model: its search validated it on out-of-fold (or
		// held-out) predictions, kept with the trials. Those are honest
		// where the final model, refitted on every row, has no unseen rows.
		evalFrame, evalY, out = frame.Take(rows), takeFloats(y, rows), oof
		rep.Heldout, rep.Data = true, desc+" of "+info.DatasetRef
	} else {
		_, held := data.Holdout(frame.Rows(), y, nClasses, holdout, seed)
		evalFrame, evalY = frame, y
		if len(held) > 0 {
			evalFrame, evalY = frame.Take(held), takeFloats(y, held)
			rep.Heldout = true
			rep.Data = fmt.Sprintf("%d held-out rows of %s", len(held), info.DatasetRef)
		} else {
			rep.Data = fmt.Sprintf("all %d rows of %s (the training data: scores are optimistic)", frame.Rows(), info.DatasetRef)
		}
		report("predicting", 0.2, fmt.Sprintf("predicting %d rows", evalFrame.Rows()))
		if out, err = pipe.Predict(ctx, evalFrame); err != nil {
			return rep, fmt.Errorf("report on model %s: %w", info.Ref, err)
		}
	}
	rep.Rows = evalFrame.Rows()

	rep.Metrics = scoreAll(pipe.Task, evalY, out, nClasses)
	if nClasses > 0 {
		if err := rep.classCharts(evalY, out); err != nil {
			return rep, fmt.Errorf("report on model %s: %w", info.Ref, err)
		}
	} else {
		rep.regressionCharts(evalY, out, seed)
	}

	if imp, ok := CardImportance(info.Card); ok {
		rep.Importance, rep.ImportanceSource = imp, "stored with the model"
	} else {
		report("importance", 0.4, "permutation importance")
		rows := sampleRows(rep.Rows, ReportImportanceRows, seed)
		sub, subY := evalFrame, evalY
		if len(rows) < rep.Rows {
			sub, subY = evalFrame.Take(rows), takeFloats(evalY, rows)
		}
		if rep.Importance, err = permutationImportance(ctx, pipe, sub, subY, nClasses, rep.Metric, seed); err != nil {
			return rep, fmt.Errorf("report on model %s: %w", info.Ref, err)
		}
		which := "held-out"
		if !rep.Heldout {
			which = "training"
		}
		rep.ImportanceSource = fmt.Sprintf("permutation on %d %s rows", sub.Rows(), which)
	}
	report("done", 1, "report ready")
	return rep, nil
}

// searchPredictions returns the validation predictions an AutoML search
// made for the model it registered (the weighted sum of its members' for an
// ensemble), the dataset rows they are for and a description; ok is false
// for a model of another kind or when they cannot be matched to the rows
// with certainty (then the report falls back to the model's own
// predictions).
func (s *Studio) searchPredictions(ctx context.Context, pipe *model.Pipeline, card map[string]any, y []float64,
	classes int, seed uint64) (rows []int, out []float64, desc string, ok bool) {
	expID, _ := card["experiment_id"].(float64)
	if cardString(card, "kind") != "automl" || expID <= 0 {
		return nil, nil, "", false
	}
	weights := map[int]float64{}
	members, valid := CardEnsemble(card)
	if !valid {
		return nil, nil, "", false
	}
	if len(members) > 0 {
		for _, mb := range members {
			weights[mb.Trial] += mb.Weight
		}
	} else if t, err := strconv.Atoi(pipe.Meta["automl_trial"]); err == nil {
		weights[t] = 1
	} else {
		return nil, nil, "", false
	}
	var trials []storage.Trial
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		var err error
		trials, err = tx.Trials(int64(expID), true)
		return err
	})
	if err != nil {
		return nil, nil, "", false
	}
	k := pipe.Outputs()
	n := -1
	found := 0
	for _, t := range trials {
		w, want := weights[t.Index]
		if !want || t.Role != storage.RoleTrial {
			continue
		}
		if t.OOFOutputs != k || len(t.OOF) == 0 || n >= 0 && t.OOFRows != n {
			return nil, nil, "", false
		}
		if out == nil {
			n = t.OOFRows
			out = make([]float64, n*k)
		}
		for i, v := range t.OOF {
			if math.IsNaN(v) {
				return nil, nil, "", false
			}
			out[i] += w * v
		}
		found++
	}
	if found != len(weights) {
		return nil, nil, "", false
	}
	validation := cardString(card, "validation")
	switch {
	case n == len(y):
		rows = make([]int, n)
		for i := range rows {
			rows[i] = i
		}
		desc = fmt.Sprintf("the search's out-of-fold predictions (%s) on all %d rows", validation, n)
	case strings.Contains(validation, "holdout"):
		// "stratified holdout 20% (1234 rows)": the split the search made.
		var pct int
		i := strings.Index(validation, "holdout ")
		if _, err := fmt.Sscanf(validation[i+len("holdout "):], "%d%%", &pct); err != nil || pct <= 0 {
			return nil, nil, "", false
		}
		c := 0
		if strings.HasPrefix(validation, "stratified") {
			c = classes
		}
		_, rows = data.Holdout(len(y), y, c, float64(pct)/100, seed)
		if len(rows) != n {
			return nil, nil, "", false
		}
		desc = fmt.Sprintf("the search's predictions on %d held-out rows", n)
	default:
		return nil, nil, "", false
	}
	return rows, out, desc, true
}

// reportSplit is the seed and holdout fraction the model was trained with.
// The pipeline's own metadata holds the seed as exact text; the card's JSON
// number could have lost digits above 2^53.
func reportSplit(pipe *model.Pipeline, card map[string]any) (uint64, float64) {
	var seed uint64
	if v, err := strconv.ParseUint(pipe.Meta["seed"], 10, 64); err == nil {
		seed = v
	} else if f, ok := card["seed"].(float64); ok && f >= 0 {
		seed = uint64(f)
	}
	holdout, _ := card["holdout"].(float64)
	if holdout < 0 || holdout >= 1 || math.IsNaN(holdout) {
		holdout = 0
	}
	return seed, holdout
}

func (rep *ModelReport) classCharts(y, out []float64) error {
	yi := make([]int, len(y))
	for i, v := range y {
		yi[i] = int(v)
	}
	var err error
	if rep.Confusion, err = metrics.ConfusionMatrix(yi, out); err != nil {
		return err
	}
	// Make the matrix square over every class, even those never predicted.
	k := len(rep.Classes)
	for len(rep.Confusion) < k {
		rep.Confusion = append(rep.Confusion, nil)
	}
	for i := range rep.Confusion {
		for len(rep.Confusion[i]) < k {
			rep.Confusion[i] = append(rep.Confusion[i], 0)
		}
	}
	if k > 2 {
		rep.oneVsRest(yi, out, k)
		return nil
	}
	if k != 2 {
		return nil
	}
	// Curves need both classes among the evaluated rows; with one, the
	// report simply has none.
	if roc, err := metrics.ROCCurve(yi, out, 1, nil); err == nil {
		for _, p := range roc {
			rep.ROC = append(rep.ROC, CurvePoint{X: p.FPR, Y: p.TPR, Threshold: p.Threshold})
		}
	}
	if pr, err := metrics.PRCurve(yi, out, 1, nil); err == nil {
		for _, p := range pr {
			rep.PR = append(rep.PR, CurvePoint{X: p.Recall, Y: p.Precision, Threshold: p.Threshold})
		}
	}
	if bins, err := metrics.CalibrationBins(yi, out, 1, 10); err == nil {
		for _, b := range bins {
			rep.Calibration = append(rep.Calibration, CurvePoint{X: b.MeanPredicted, Y: b.Observed, Threshold: float64(b.Count)})
		}
	}
	return nil
}

// oneVsRest adds the curves of the commonest MaxCurveClasses classes, each
// against the rest; a class absent from the rows has none.
func (rep *ModelReport) oneVsRest(yi []int, out []float64, k int) {
	rows := make([]int, k)
	for _, c := range yi {
		if c >= 0 && c < k {
			rows[c]++
		}
	}
	classes := make([]int, k)
	for c := range classes {
		classes[c] = c
	}
	slices.SortStableFunc(classes, func(a, b int) int { return cmp.Compare(rows[b], rows[a]) })
	classes = classes[:min(k, MaxCurveClasses)]
	slices.Sort(classes)
	for _, c := range classes {
		roc, err := metrics.ROCCurve(yi, out, c, nil)
		if err != nil {
			continue
		}
		pr, err := metrics.PRCurve(yi, out, c, nil)
		if err != nil {
			continue
		}
		cc := ClassCurves{Class: rep.Classes[c]}
		cc.AUC, _ = metrics.ClassROCAUC(yi, out, c, nil)
		cc.AP, _ = metrics.ClassAP(yi, out, c, nil)
		for _, p := range roc {
			cc.ROC = append(cc.ROC, CurvePoint{X: p.FPR, Y: p.TPR, Threshold: p.Threshold})
		}
		for _, p := range pr {
			cc.PR = append(cc.PR, CurvePoint{X: p.Recall, Y: p.Precision, Threshold: p.Threshold})
		}
		rep.OneVsRest = append(rep.OneVsRest, cc)
	}
}

func (rep *ModelReport) regressionCharts(y, out []float64, seed uint64) {
	for _, i := range sampleRows(len(y), ReportMaxPoints, seed) {
		rep.Actual = append(rep.Actual, y[i])
		rep.Predicted = append(rep.Predicted, out[i])
		rep.Residuals = append(rep.Residuals, y[i]-out[i])
	}
}

// sampleRows returns every row index when n ≤ limit, else limit of them
// drawn without replacement (seeded), in increasing order.
func sampleRows(n, limit int, seed uint64) []int {
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	if n <= limit {
		return rows
	}
	rng := rand.New(rand.NewPCG(seed, 0x4e9041))
	for i := 0; i < limit; i++ { // partial Fisher–Yates
		j := i + rng.IntN(n-i)
		rows[i], rows[j] = rows[j], rows[i]
	}
	rows = rows[:limit]
	slices.Sort(rows)
	return rows
}

// permutationImportance shuffles the model's input columns (not the
// features its preparation makes from them: a user thinks in columns, and
// one-hot or TF-IDF features of one column are shuffled together).
func permutationImportance(ctx context.Context, pipe *model.Pipeline, f *data.Frame, y []float64, classes int,
	metric string, seed uint64) ([]FeatureImportance, error) {
	X, cols, err := inputFeatures(f, pipe, nil)
	if err != nil {
		return nil, fmt.Errorf("permutation importance: %w", err)
	}
	predict, predictErr := columnPredictor(ctx, pipe, cols)
	imp, err := explain.Permutation(ctx, predict, pipe.Outputs(), X, y, classes, metric, reportImportanceRepeats, seed)
	if err := predictErr(); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	res := make([]FeatureImportance, len(imp))
	for i, v := range imp {
		res[i] = FeatureImportance{Feature: v.Feature, Mean: v.Mean, Std: v.Std}
	}
	return res, nil
}

// inputFeatures takes a model's input columns from a frame, at rows (every
// row when rows is nil), as the features explain.Permutation shuffles, with
// the columns they come from.
func inputFeatures(frame *data.Frame, pipe *model.Pipeline, rows []int) (*learn.Features, []*data.Column, error) {
	n := frame.Rows()
	if rows != nil {
		n = len(rows)
	}
	X := &learn.Features{Rows: n}
	cols := make([]*data.Column, 0, len(pipe.Inputs))
	for _, in := range pipe.Inputs {
		c := frame.Column(in.Name)
		if c == nil {
			return nil, nil, fmt.Errorf("no input column %q", in.Name)
		}
		if rows != nil {
			c = c.Take(rows)
		}
		cols = append(cols, c)
		f := learn.Feature{Name: c.Name}
		if c.Kind == data.Categorical || c.Kind == data.Text {
			f.Codes, f.Levels = c.Codes, len(c.Levels)
		} else {
			f.Num = c.Num
		}
		X.Cols = append(X.Cols, f)
	}
	return X, cols, nil
}

// columnPredictor is the predict function of explain.Permutation for
// features made by inputFeatures from cols: it puts the (shuffled) features
// back into columns like cols and predicts them with pipe. A failed
// prediction gives NaN outputs; predictErr returns the first failure. It is
// safe for concurrent use.
func columnPredictor(ctx context.Context, pipe *model.Pipeline, cols []*data.Column) (predict func(*learn.Features, []float64), predictErr func() error) {
	var mu sync.Mutex
	var first error
	predict = func(x *learn.Features, out []float64) {
		frame := &data.Frame{Columns: make([]*data.Column, len(cols))}
		for j, c := range cols {
			frame.Columns[j] = &data.Column{Name: c.Name, Kind: c.Kind, Levels: c.Levels,
				Num: x.Cols[j].Num, Codes: x.Cols[j].Codes}
		}
		got, err := pipe.Predict(ctx, frame)
		if err != nil {
			mu.Lock()
			if first == nil {
				first = err
			}
			mu.Unlock()
			for i := range out {
				out[i] = math.NaN()
			}
			return
		}
		copy(out, got)
	}
	predictErr = func() error {
		mu.Lock()
		defer mu.Unlock()
		return first
	}
	return predict, predictErr
}

// CardImportance reads importance saved in a model card (AutoML stores
// it): a list of {feature, mean[, std]} objects or a feature → value map.
func CardImportance(card map[string]any) ([]FeatureImportance, bool) {
	v, ok := card["importance"]
	if !ok {
		v, ok = card["permutation_importance"]
	}
	if !ok {
		return nil, false
	}
	var out []FeatureImportance
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			name, _ := m["feature"].(string)
			mean, ok := m["mean"].(float64)
			if name == "" || !ok {
				if mean, ok = m["importance"].(float64); name == "" || !ok {
					return nil, false
				}
			}
			std, _ := m["std"].(float64)
			out = append(out, FeatureImportance{Feature: name, Mean: mean, Std: std})
		}
	case map[string]any:
		for name, x := range t {
			mean, ok := x.(float64)
			if !ok {
				return nil, false
			}
			out = append(out, FeatureImportance{Feature: name, Mean: mean})
		}
	default:
		return nil, false
	}
	if len(out) == 0 {
		return nil, false
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Mean > out[b].Mean })
	return out, true
}

// EnsembleMember is one model of an AutoML ensemble as its card lists it.
type EnsembleMember struct {
	Trial     int     `json:"trial"`
	Algorithm string  `json:"algorithm"`
	Weight    float64 `json:"weight"`
}

// CardEnsemble reads the ensemble members a model card lists (AutoML
// stores them under "ensemble"), in the card's order: none when the card
// has no list of them; ok is false when a member lacks its trial or weight.
func CardEnsemble(card map[string]any) (members []EnsembleMember, ok bool) {
	list, _ := card["ensemble"].([]any)
	for _, mb := range list {
		m, _ := mb.(map[string]any)
		t, ok1 := m["trial"].(float64)
		w, ok2 := m["weight"].(float64)
		if !ok1 || !ok2 {
			return nil, false
		}
		algo, _ := m["algorithm"].(string)
		members = append(members, EnsembleMember{Trial: int(t), Algorithm: algo, Weight: w})
	}
	return members, true
}

func cardString(card map[string]any, key string) string {
	s, _ := card[key].(string)
	return s
}

// MetricLabel is a metric's name for people ("ROC AUC" for roc_auc).
func MetricLabel(name, task string) string {
	if m, err := metrics.Lookup(name, task); err == nil {
		return m.Label
	}
	return name
}
