package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"modelsmith/ml/data"
	"modelsmith/ml/metrics"
	"modelsmith/ml/model"
	"modelsmith/storage"
)

// Models lists every registered model version, by name then version.
func (s *Studio) Models(ctx context.Context) ([]ModelInfo, error) {
	var out []ModelInfo
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		list, err := tx.Models()
		for _, m := range list {
			out = append(out, modelFrom(m))
		}
		return err
	})
	return out, err
}

// Model describes one model version ("name" is the latest).
func (s *Studio) Model(ctx context.Context, ref string) (ModelInfo, error) {
	_, m, err := s.loadModel(ctx, ref, false)
	if err != nil {
		return ModelInfo{}, err
	}
	return modelFrom(m), nil
}

// loadModel reads a model version and, if decode, its pipeline; a damaged
// artifact is reported as such.
func (s *Studio) loadModel(ctx context.Context, ref string, decode bool) (*model.Pipeline, storage.Model, error) {
	var m storage.Model
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		name, version, err := modelVersion(tx, ref) // follows an alias (export.go)
		if err != nil {
			return err
		}
		m, err = tx.Model(name, version)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, m, fmt.Errorf("no model %q in this workspace (see the model list)", ref)
	}
	if err != nil || !decode {
		return nil, m, err
	}
	mref := m.Name + "@" + strconv.Itoa(m.Version)
	sum := sha256.Sum256(m.Artifact)
	if hex.EncodeToString(sum[:]) != m.ArtifactSHA256 {
		return nil, m, fmt.Errorf("model %s: the stored artifact is corrupt (its SHA-256 does not match the registry)", mref)
	}
	p, err := model.Decode(m.Artifact, family)
	if err != nil {
		return nil, m, fmt.Errorf("model %s: %w", mref, err)
	}
	return p, m, nil
}

// PredictResult holds predictions for a table of rows.
type PredictResult struct {
	Model   ModelInfo
	Input   *data.Frame // the rows as read, every column
	Out     []float64   // Outputs values per row
	Outputs int
	Task    string
	Target  string // the column the model predicts
	Classes []string
	// Ignored lists input columns the model does not use (a labelled file's
	// target among them).
	Ignored []string
}

// Label is the prediction for row i as text: the most probable class, or the
// regression value.
func (r *PredictResult) Label(i int) string {
	row := r.Out[i*r.Outputs : (i+1)*r.Outputs]
	if r.Task == "regression" {
		return strconv.FormatFloat(row[0], 'g', -1, 64)
	}
	best := 0
	for k, p := range row {
		if p > row[best] {
			best = k
		}
	}
	return r.Classes[best]
}

// readRows reads a dataset reference or a data file into a frame. A file is
// read, not imported: predicting does not add datasets to the workspace.
func (s *Studio) readRows(ctx context.Context, ref string, progress func(Progress)) (*data.Frame, error) {
	if _, err := os.Stat(ref); err == nil {
		return data.ReadFile(ctx, ref, data.ReadOptions{Progress: func(done, total int64) {
			if progress != nil && total > 0 {
				progress(Progress{Stage: "reading", Fraction: 0.5 * float64(done) / float64(total),
					Message: fmt.Sprintf("read %s of %s", FormatBytes(done), FormatBytes(total))})
			}
		}})
	}
	detail, err := s.Dataset(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a file nor a dataset: %w", ref, err)
	}
	return s.Frame(ctx, detail.Ref)
}

// Predict runs a model on the rows of a file or dataset. Columns are matched
// by name: extra columns are ignored (and listed), missing ones are an error
// naming them.
func (s *Studio) Predict(ctx context.Context, modelRef, dataRef string, progress func(Progress)) (*PredictResult, error) {
	pipe, m, err := s.loadModel(ctx, modelRef, true)
	if err != nil {
		return nil, err
	}
	frame, err := s.readRows(ctx, dataRef, progress)
	if err != nil {
		return nil, err
	}
	res := &PredictResult{Model: modelFrom(m), Input: frame, Outputs: pipe.Outputs(), Task: pipe.Task, Target: pipe.Target, Classes: pipe.Classes}
	used := map[string]bool{}
	var missing []string
	for _, in := range pipe.Inputs {
		used[in.Name] = true
		if frame.Column(in.Name) == nil {
			missing = append(missing, in.Name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("model %s needs columns that %s lacks: %s", res.Model.Ref, dataRef, strings.Join(missing, ", "))
	}
	for _, c := range frame.Columns {
		if !used[c.Name] {
			res.Ignored = append(res.Ignored, c.Name)
		}
	}
	if progress != nil {
		progress(Progress{Stage: "predicting", Fraction: 0.5, Message: fmt.Sprintf("predicting %d rows", frame.Rows())})
	}
	res.Out, err = pipe.Predict(ctx, frame)
	if err != nil {
		return nil, fmt.Errorf("model %s on %s: %w", res.Model.Ref, dataRef, err)
	}
	return res, nil
}

// Evaluation is a model's scores on labelled rows.
type Evaluation struct {
	Model     string             `json:"model"`
	Data      string             `json:"data"`
	Rows      int                `json:"rows"`
	Task      string             `json:"task"`
	Metrics   map[string]float64 `json:"metrics"`
	Classes   []string           `json:"classes,omitempty"`
	Confusion [][]int            `json:"confusion_matrix,omitempty"` // rows: true class, columns: predicted
}

// Evaluate scores a model on labelled data: the file or dataset must hold the
// model's target column. A class label the model never saw is an error that
// names it and its row.
func (s *Studio) Evaluate(ctx context.Context, modelRef, dataRef string, progress func(Progress)) (Evaluation, error) {
	res, err := s.Predict(ctx, modelRef, dataRef, progress)
	if err != nil {
		return Evaluation{}, err
	}
	pipe := res.Model
	target := res.Input.Column(res.Target)
	if target == nil {
		return Evaluation{}, fmt.Errorf("%s has no target column %q to evaluate %s against", dataRef, res.Target, pipe.Ref)
	}
	n := res.Input.Rows()
	y := make([]float64, n)
	nClasses := 0
	if res.Task == "regression" {
		if target.Kind != data.Numeric {
			return Evaluation{}, fmt.Errorf("target %q of %s is %s, not numeric", target.Name, dataRef, target.Kind)
		}
		copy(y, target.Num)
	} else {
		nClasses = len(res.Classes)
		index := map[string]int{}
		for k, c := range res.Classes {
			index[c] = k
		}
		for i := 0; i < n; i++ {
			label := target.Format(i)
			k, ok := index[label]
			if !ok {
				if label == "" {
					return Evaluation{}, fmt.Errorf("%s: row %d has no %s label", dataRef, i+1, target.Name)
				}
				return Evaluation{}, fmt.Errorf("%s: row %d: label %q of %s was not seen when %s was trained (classes: %s)",
					dataRef, i+1, label, target.Name, pipe.Ref, strings.Join(res.Classes, ", "))
			}
			y[i] = float64(k)
		}
	}
	for i, v := range y {
		if math.IsNaN(v) {
			return Evaluation{}, fmt.Errorf("%s: row %d has no %s value", dataRef, i+1, target.Name)
		}
	}
	ev := Evaluation{Model: pipe.Ref, Data: dataRef, Rows: n, Task: res.Task, Classes: res.Classes,
		Metrics: scoreAll(res.Task, y, res.Out, nClasses)}
	if nClasses > 0 {
		yi := make([]int, n)
		for i, v := range y {
			yi[i] = int(v)
		}
		if ev.Confusion, err = metrics.ConfusionMatrix(yi, res.Out); err != nil {
			return Evaluation{}, err
		}
	}
	return ev, nil
}

// RunInfo describes one training run.
type RunInfo struct {
	ID         int64              `json:"id"`
	Experiment int64              `json:"experiment_id"`
	Algorithm  string             `json:"algorithm"`
	Params     map[string]string  `json:"params"`
	Seed       int64              `json:"seed"`
	Status     string             `json:"status"`
	Score      *float64           `json:"score,omitempty"`
	Metrics    map[string]float64 `json:"metrics,omitempty"`
	FitSeconds float64            `json:"fit_seconds"`
	CPUSeconds float64            `json:"cpu_seconds"`
	PeakMemory int64              `json:"peak_memory_bytes"`
	Error      string             `json:"error,omitempty"`
	Dataset    string             `json:"dataset"`
	Target     string             `json:"target"`
	Metric     string             `json:"metric"`
}

// Runs lists training runs, newest first (of one experiment if id > 0).
func (s *Studio) Runs(ctx context.Context, experiment int64, limit int) ([]RunInfo, error) {
	var out []RunInfo
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		runs, err := tx.Runs(experiment, limit)
		if err != nil {
			return err
		}
		exps := map[int64]storage.Experiment{}
		for _, r := range runs {
			e, ok := exps[r.ExperimentID]
			if !ok {
				if e, err = tx.Experiment(r.ExperimentID); err != nil {
					return err
				}
				exps[r.ExperimentID] = e
			}
			info := RunInfo{ID: r.ID, Experiment: r.ExperimentID, Algorithm: r.Algorithm, Seed: r.Seed, Status: r.Status,
				FitSeconds: r.FitSeconds, CPUSeconds: r.CPUSeconds, PeakMemory: r.PeakMemoryBytes, Error: r.Error,
				Dataset: e.DatasetRef, Target: e.Target, Metric: e.Metric}
			_ = jsonUnmarshal(r.Params, &info.Params)
			_ = jsonUnmarshal(r.Metrics, &info.Metrics)
			if !math.IsNaN(r.Score) {
				v := r.Score
				info.Score = &v
			}
			out = append(out, info)
		}
		return nil
	})
	return out, err
}

// SortedMetricNames lists a metrics map's names in order, for printing.
func SortedMetricNames(m map[string]float64) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
