package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"modelsmith/app/jobs"
	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/metrics"
	"modelsmith/ml/model"
	"modelsmith/ml/prep"
	"modelsmith/storage"
)

// TrainOptions describe one custom training.
type TrainOptions struct {
	// Data is a dataset reference (name or name@version) or a file path; a
	// file is imported first, as ImportDataset does.
	Data   string
	Target string
	// Task is binary, multiclass or regression; "" infers it from the target.
	Task string
	// Algorithm is a family name (see Algorithms) and Params its
	// hyperparameters as text; unknown names and values out of range are
	// refused with the valid ones listed.
	Algorithm string
	Params    map[string]string
	// Name registers the model under this name (a new version if it exists);
	// "" means "<dataset>-<algorithm>".
	Name string
	Seed uint64
	// Holdout is the fraction of rows held out (stratified for
	// classification) for early stopping, the validation curve and the
	// reported scores. 0 trains on every row and reports no held-out score.
	Holdout float64
}

// DefaultHoldout is the share of rows held out when TrainOptions.Holdout is
// not set by the caller (the CLI's --holdout default).
const DefaultHoldout = 0.1

// TrainResult is what a training produced.
type TrainResult struct {
	Model   ModelInfo          `json:"model"`
	RunID   int64              `json:"run_id"`
	Metrics map[string]float64 `json:"metrics"`
	JobID   int64              `json:"job_id"`
}

// ModelInfo describes a registered model version.
type ModelInfo struct {
	ID         int64              `json:"id"`
	Name       string             `json:"name"`
	Version    int                `json:"version"`
	Ref        string             `json:"ref"`
	Stage      string             `json:"stage"`
	Algorithm  string             `json:"algorithm"`
	Task       string             `json:"task"`
	RunID      int64              `json:"run_id"`
	Bytes      int64              `json:"artifact_bytes"`
	SHA256     string             `json:"artifact_sha256"`
	Metrics    map[string]float64 `json:"metrics,omitempty"`
	Card       map[string]any     `json:"card,omitempty"`
	Signature  json.RawMessage    `json:"signature,omitempty"`
	CreatedAt  time.Time          `json:"created_at"`
	DatasetRef string             `json:"dataset,omitempty"`
}

func modelFrom(m storage.Model) ModelInfo {
	info := ModelInfo{ID: m.ID, Name: m.Name, Version: m.Version, Ref: m.Name + "@" + strconv.Itoa(m.Version),
		Stage: m.Stage, Algorithm: m.Algorithm, Task: m.Task, RunID: m.RunID, Bytes: m.ArtifactBytes,
		SHA256: m.ArtifactSHA256, CreatedAt: m.CreatedAt, Signature: json.RawMessage(m.Signature)}
	if m.Metrics != "" {
		_ = json.Unmarshal([]byte(m.Metrics), &info.Metrics)
	}
	if m.Card != "" {
		_ = json.Unmarshal([]byte(m.Card), &info.Card)
		if d, ok := info.Card["dataset"].(string); ok {
			info.DatasetRef = d
		}
	}
	return info
}

// loadData resolves a dataset reference or a file: a stored dataset is
// loaded; a path that exists is imported first.
func (s *Studio) loadData(ctx context.Context, ref string, progress func(Progress)) (*data.Frame, Dataset, error) {
	if _, err := os.Stat(ref); err == nil {
		// The frame just read is the dataset's content (or, when the import
		// found it unchanged, identical to it): no need to load it back.
		res, frame, err := s.importFile(ctx, ref, ImportOptions{}, progress)
		if err != nil {
			return nil, Dataset{}, err
		}
		return frame, res.Dataset, nil
	}
	detail, err := s.Dataset(ctx, ref)
	if err != nil {
		return nil, Dataset{}, err
	}
	f, err := s.Frame(ctx, detail.Ref)
	return f, detail.Dataset, err
}

// Train fits one model with the chosen algorithm and hyperparameters and
// registers it. Its experiment and run are recorded as it starts and its
// learning curve while it trains; the model is registered in one final
// transaction, so a training that fails, is cancelled or is killed leaves no
// half-registered model (a killed one's run is marked interrupted on the
// next open).
func (s *Studio) Train(ctx context.Context, opts TrainOptions, progress func(Progress)) (TrainResult, error) {
	algo, err := lookupAlgorithm(opts.Algorithm)
	if err != nil {
		return TrainResult{}, err
	}
	values, err := algo.spec.Values(opts.Params)
	if err != nil {
		return TrainResult{}, usageError{err}
	}
	// Families check text parameters (nn's layer sizes) in New: refuse a bad
	// one before any data is read.
	if _, err := algo.spec.New(values); err != nil {
		return TrainResult{}, usageError{err}
	}
	if opts.Holdout < 0 || opts.Holdout >= 0.9 {
		return TrainResult{}, usageErrorf("holdout %g must be in [0, 0.9)", opts.Holdout)
	}
	frame, ds, err := s.loadData(ctx, opts.Data, progress)
	if err != nil {
		return TrainResult{}, err
	}
	name := opts.Name
	if name == "" {
		name = ds.Name + "-" + opts.Algorithm
	}
	if err := checkName("model", name); err != nil {
		return TrainResult{}, err
	}
	target, task, err := targetTask(frame, ds.Ref, opts.Target, opts.Task)
	if err != nil {
		return TrainResult{}, err
	}
	y, classes, err := model.Labels(target, task)
	if err != nil {
		return TrainResult{}, fmt.Errorf("dataset %s: %w", ds.Ref, err)
	}
	unused, err := s.unusedColumns(ctx, ds.ID)
	if err != nil {
		return TrainResult{}, err
	}
	var features []string
	for _, c := range frame.Columns {
		if c.Name != opts.Target && !unused[c.Name] {
			features = append(features, c.Name)
		}
	}
	if len(features) == 0 {
		return TrainResult{}, usageErrorf("dataset %s has no columns besides the target %q", ds.Ref, opts.Target)
	}
	metric := metrics.Default(task)
	paramsJSON, _ := json.Marshal(values)

	var res TrainResult
	title := fmt.Sprintf("Train %s on %s", opts.Algorithm, ds.Ref)
	res.JobID, err = s.runner.Run(ctx, "train", title, progress, func(ctx context.Context, report jobs.Reporter) (string, error) {
		exp := storage.Experiment{Kind: "train", DatasetID: ds.ID, DatasetRef: ds.Ref, DatasetHash: ds.Hash,
			Target: opts.Target, Task: task, Metric: metric, Config: string(mustJSON(opts))}
		run := storage.Run{Algorithm: opts.Algorithm, Params: string(paramsJSON), Seed: int64(opts.Seed),
			Score: math.NaN(), ScoreStd: math.NaN()}
		if id, ok := jobs.FromContext(ctx); ok {
			exp.JobID = id
		}
		err := s.ws.Update(ctx, func(tx *storage.Tx) error {
			if err := tx.InsertExperiment(&exp); err != nil {
				return err
			}
			run.ExperimentID = exp.ID
			return tx.InsertRun(&run)
		})
		if err != nil {
			return "", err
		}
		res.RunID = run.ID
		started, usage := time.Now(), jobs.StartUsage()
		pipe, scores, err := s.fit(ctx, frame, features, y, classes, task, algo, values, opts, run.ID, report)
		fitSeconds := time.Since(started).Seconds()
		cpu, peak := usage.Finish()
		run.FitSeconds, run.CPUSeconds, run.PeakMemoryBytes, run.FinishedAt = fitSeconds, cpu, peak, time.Now()
		if err != nil {
			run.Status, run.Error = failedStatus(err), err.Error()
			// Record the outcome even though the job's context may be done.
			bg := context.WithoutCancel(ctx)
			_ = s.ws.Update(bg, func(tx *storage.Tx) error {
				if uerr := tx.UpdateRun(run); uerr != nil {
					return uerr
				}
				return tx.FinishExperiment(exp.ID, run.Status, time.Now())
			})
			return "", err
		}
		run.Status = "succeeded"
		if v, ok := scores[metric]; ok {
			run.Score = v
		}
		scoresJSON := string(mustJSON(scores))
		run.Metrics = scoresJSON
		pipe.Meta = map[string]string{
			"algorithm": opts.Algorithm, "params": string(paramsJSON), "seed": strconv.FormatUint(opts.Seed, 10),
			"dataset": ds.Ref, "dataset_sha256": ds.Hash, "code_version": codeVersion(),
		}
		artifact, err := pipe.MarshalBinary()
		if err != nil {
			return "", fmt.Errorf("encode the model: %w", err)
		}
		sum := sha256.Sum256(artifact)
		card := map[string]any{
			"dataset": ds.Ref, "dataset_sha256": ds.Hash, "target": opts.Target, "task": task, "classes": classes,
			"algorithm": opts.Algorithm, "params": values, "seed": opts.Seed, "holdout": opts.Holdout,
			"rows": frame.Rows(), "fit_seconds": fitSeconds, "cpu_seconds": cpu, "peak_memory_bytes": peak,
			"code_version": codeVersion(), "metric": metric,
		}
		m := storage.Model{Name: name, RunID: run.ID, Algorithm: opts.Algorithm, Task: task, Artifact: artifact,
			ArtifactSHA256: hex.EncodeToString(sum[:]), Signature: string(mustJSON(signature(pipe))),
			Metrics: scoresJSON, Card: string(mustJSON(card))}
		report("registering", 0.99, "registering "+name)
		err = s.ws.Update(ctx, func(tx *storage.Tx) error {
			if err := tx.UpdateRun(run); err != nil {
				return err
			}
			if err := tx.InsertModel(&m); err != nil {
				return err
			}
			if err := tx.FinishExperiment(exp.ID, "succeeded", time.Now()); err != nil {
				return err
			}
			return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "train", ObjectType: "model",
				ObjectName: m.Name + "@" + strconv.Itoa(m.Version),
				Detail:     detailJSON(map[string]any{"dataset": ds.Ref, "algorithm": opts.Algorithm, "run": run.ID})})
		})
		if err != nil {
			return "", err
		}
		res.Model, res.Metrics = modelFrom(m), scores
		return detailJSON(map[string]any{"model": res.Model.Ref, "run_id": run.ID}), nil
	})
	if err != nil {
		return res, fmt.Errorf("train %s on %s: %w", opts.Algorithm, ds.Ref, err)
	}
	return res, nil
}

// fit prepares the data, trains, and scores the held-out rows.
func (s *Studio) fit(ctx context.Context, frame *data.Frame, features []string, y []float64, classes []string,
	task string, algo algorithm, values map[string]string, opts TrainOptions, runID int64,
	report jobs.Reporter) (*model.Pipeline, map[string]float64, error) {
	nClasses := 0
	if task != "regression" {
		nClasses = len(classes)
	}
	trainRows, heldRows := data.Holdout(frame.Rows(), y, nClasses, opts.Holdout, opts.Seed)
	if len(trainRows) < 2 {
		return nil, nil, usageErrorf("%d rows are too few to train on", len(trainRows))
	}
	trainFrame, trainY := frame, y
	if len(heldRows) > 0 {
		trainFrame, trainY = frame.Take(trainRows), takeFloats(y, trainRows)
	}
	report("preparing", 0.02, fmt.Sprintf("preparing %d features of %d rows", len(features), len(trainRows)))
	pr, X, err := prep.Fit(ctx, trainFrame, features, trainY, nClasses, algo.prep(), opts.Seed)
	if err != nil {
		return nil, nil, err
	}
	train := learn.Dataset{X: X, Y: trainY, Classes: nClasses}
	var valid *learn.Dataset
	var heldFrame *data.Frame
	var heldY []float64
	if len(heldRows) > 0 {
		heldFrame, heldY = frame.Take(heldRows), takeFloats(y, heldRows)
		vx, err := pr.Transform(heldFrame)
		if err != nil {
			return nil, nil, err
		}
		valid = &learn.Dataset{X: vx, Y: heldY, Classes: nClasses}
	}
	learner, err := algo.spec.New(values)
	if err != nil {
		return nil, nil, usageError{err}
	}
	curve := newCurveWriter(s.ws, runID)
	defer curve.close()
	predictor, err := learner.Fit(ctx, train, learn.Options{Seed: opts.Seed, Valid: valid, Progress: func(it learn.Iteration) {
		curve.add(it)
		frac := 0.05
		if it.Total > 0 {
			frac = 0.05 + 0.9*float64(it.Step)/float64(it.Total)
		}
		msg := fmt.Sprintf("step %d", it.Step)
		if it.Total > 0 {
			msg = fmt.Sprintf("step %d of %d", it.Step, it.Total)
		}
		if !math.IsNaN(it.Loss) {
			msg += fmt.Sprintf(": train %s %.4g", it.Metric, it.Loss)
		}
		if !math.IsNaN(it.ValidLoss) {
			msg += fmt.Sprintf(", held-out %s %.4g", it.Metric, it.ValidLoss)
		}
		report("training", frac, msg)
	}})
	if err != nil {
		return nil, nil, err
	}
	inputs := make([]model.Input, len(features))
	for i, name := range features {
		c := frame.Column(name)
		inputs[i] = model.Input{Name: name, Type: c.Kind.String()}
		if c.Kind == data.Categorical {
			inputs[i].Levels = c.Levels
		}
	}
	pipe := &model.Pipeline{Inputs: inputs, Target: opts.Target, Task: task, Classes: classes, Prep: pr, Predictor: predictor}
	scores := map[string]float64{}
	if heldFrame != nil {
		report("scoring", 0.97, fmt.Sprintf("scoring %d held-out rows", len(heldRows)))
		out, err := pipe.Predict(ctx, heldFrame)
		if err != nil {
			return nil, nil, err
		}
		scores = scoreAll(task, heldY, out, nClasses)
	}
	return pipe, scores, nil
}

// scoreAll computes every metric that applies to the task; metrics that
// cannot be computed on these rows (AUC with one class present) are left out.
func scoreAll(task string, y, out []float64, classes int) map[string]float64 {
	scores := map[string]float64{}
	for _, m := range metrics.Metrics(task) {
		if v, err := m.Score(y, out, classes); err == nil && !math.IsNaN(v) {
			scores[m.Name] = v
		}
	}
	return scores
}

func takeFloats(v []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = v[r]
	}
	return out
}

// targetTask finds the target column in the frame of dataset ref, and the
// task: the one asked for, else the one the target's values suggest.
func targetTask(frame *data.Frame, ref, name, task string) (*data.Column, string, error) {
	target := frame.Column(name)
	if target == nil {
		return nil, "", usageErrorf("dataset %s has no column %q; its columns: %s", ref, name, columnNames(frame))
	}
	if task == "" {
		task = model.InferTask(target)
	}
	return target, task, nil
}

func columnNames(f *data.Frame) string {
	names := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("app: encode %T: %v", v, err))
	}
	return b
}

// signature is a model's public interface: its inputs and outputs.
func signature(p *model.Pipeline) map[string]any {
	return map[string]any{"inputs": p.Inputs, "target": p.Target, "task": p.Task, "classes": p.Classes, "outputs": p.Outputs()}
}

// codeVersion names the build that trained a model, for its card.
func codeVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v += "+" + s.Value
		}
	}
	return v
}

// curveWriter streams learning-curve points to run_metrics from its own
// goroutine, twice a second, so a viewer sees the curve move without the
// learner waiting for the disk.
type curveWriter struct {
	ws    *storage.Workspace
	run   int64
	mu    sync.Mutex
	batch []storage.MetricPoint
	quit  chan struct{}
	done  chan struct{}
}

func newCurveWriter(ws *storage.Workspace, run int64) *curveWriter {
	c := &curveWriter{ws: ws, run: run, quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.quit:
				c.flush()
				return
			case <-tick.C:
				c.flush()
			}
		}
	}()
	return c
}

func (c *curveWriter) add(it learn.Iteration) {
	c.mu.Lock()
	if !math.IsNaN(it.Loss) {
		c.batch = append(c.batch, storage.MetricPoint{Name: "train_" + it.Metric, Step: it.Step, Value: it.Loss})
	}
	if !math.IsNaN(it.ValidLoss) {
		c.batch = append(c.batch, storage.MetricPoint{Name: "valid_" + it.Metric, Step: it.Step, Value: it.ValidLoss})
	}
	c.mu.Unlock()
}

func (c *curveWriter) flush() {
	c.mu.Lock()
	batch := c.batch
	c.batch = nil
	c.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	// Best effort: a curve point lost to a busy workspace does not fail training.
	_ = c.ws.Update(context.Background(), func(tx *storage.Tx) error { return tx.AddRunMetrics(c.run, batch) })
}

func (c *curveWriter) close() {
	close(c.quit)
	<-c.done
}
