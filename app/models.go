package app

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"modelsmith/storage"
)

// ModelStages are the stages a model version can be put in.
func ModelStages() []string { return slices.Clone(storage.ModelStages) }

// RenameModel renames a model, every version of it: "churn" becomes
// "churn-v2" with the same versions, aliases and lineage. The new name must
// be free.
func (s *Studio) RenameModel(ctx context.Context, name, newName string) error {
	if err := checkName("model", newName); err != nil {
		return err
	}
	if name == newName {
		return nil
	}
	err := s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.RenameModel(name, newName); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "rename", ObjectType: "model", ObjectName: name,
			Detail: detailJSON(map[string]any{"new_name": newName})})
	})
	if err != nil {
		return fmt.Errorf("rename model %s to %s: %w", name, newName, err)
	}
	return nil
}

// SetModelStage moves a model version ("name" is the latest) to a stage:
// none, staging, production or archived.
func (s *Studio) SetModelStage(ctx context.Context, ref, stage string) (ModelInfo, error) {
	if !slices.Contains(storage.ModelStages, stage) {
		return ModelInfo{}, usageErrorf("stage %q is not one of %s", stage, strings.Join(storage.ModelStages, ", "))
	}
	_, m, err := s.loadModel(ctx, ref, false)
	if err != nil {
		return ModelInfo{}, err
	}
	err = s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.SetModelStage(m.ID, stage); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "stage", ObjectType: "model",
			ObjectName: m.Name + "@" + strconv.Itoa(m.Version), Detail: detailJSON(map[string]any{"from": m.Stage, "to": stage})})
	})
	if err != nil {
		return ModelInfo{}, fmt.Errorf("set the stage of %s: %w", ref, err)
	}
	m.Stage = stage
	return modelFrom(m), nil
}

// ModelDependents says what would lose model version ref if it were deleted
// (aliases pointing at it, servers running it), for a confirmation dialog.
func (s *Studio) ModelDependents(ctx context.Context, ref string) ([]string, error) {
	_, m, err := s.loadModel(ctx, ref, false)
	if err != nil {
		return nil, err
	}
	var out []string
	err = s.ws.View(ctx, func(tx *storage.Tx) error {
		out, err = tx.ModelDependents(m.ID)
		return err
	})
	return out, err
}

// DeleteModel removes one model version ("name" is its latest) and its
// artifact; its aliases go with it, and the run that trained it stays.
func (s *Studio) DeleteModel(ctx context.Context, ref string) (ModelInfo, error) {
	_, m, err := s.loadModel(ctx, ref, false)
	if err != nil {
		return ModelInfo{}, err
	}
	info := modelFrom(m)
	err = s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.DeleteModel(m.ID); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "delete", ObjectType: "model", ObjectName: info.Ref,
			Detail: detailJSON(map[string]any{"sha256": m.ArtifactSHA256, "run": m.RunID})})
	})
	if err != nil {
		return ModelInfo{}, fmt.Errorf("delete model %s: %w", info.Ref, err)
	}
	return info, nil
}

// PredictToFile runs a model on the rows of a file or dataset (as Predict)
// and writes them with their predictions as CSV to outPath (see WriteCSV).
// The file is written beside outPath and renamed at the end, so a cancelled
// or failed run never leaves a half-written file under that name.
func (s *Studio) PredictToFile(ctx context.Context, modelRef, dataRef, outPath string, progress func(Progress)) (*PredictResult, error) {
	res, err := s.Predict(ctx, modelRef, dataRef, progress)
	if err != nil {
		return nil, err
	}
	if progress != nil {
		progress(Progress{Stage: "writing", Fraction: 0.9, Message: fmt.Sprintf("writing %d rows", res.Input.Rows())})
	}
	f, err := os.CreateTemp(filepath.Dir(outPath), ".predict-*.csv")
	if err != nil {
		return nil, fmt.Errorf("write predictions to %s: %w", outPath, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := res.WriteCSV(ctx, bw); err != nil {
		return nil, fmt.Errorf("write predictions to %s: %w", outPath, err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write predictions to %s: %w", outPath, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write predictions to %s: %w", outPath, err)
	}
	if err := os.Rename(f.Name(), outPath); err != nil {
		return nil, fmt.Errorf("write predictions to %s: %w", outPath, err)
	}
	return res, nil
}

// WriteCSV writes the input columns, then prediction and, for
// classification, proba_<class> per class in the model's (sorted) class
// order. Numbers use the shortest text that reads back as the same float64.
func (res *PredictResult) WriteCSV(ctx context.Context, w io.Writer) error {
	cw := csv.NewWriter(w)
	cols := res.Input.Columns
	header := make([]string, 0, len(cols)+1+len(res.Classes))
	for _, c := range cols {
		header = append(header, c.Name)
	}
	header = append(header, "prediction")
	if res.Task != "regression" {
		for _, c := range res.Classes {
			header = append(header, "proba_"+c)
		}
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	record := make([]string, len(header))
	var num []byte
	for i := 0; i < res.Input.Rows(); i++ {
		if i%65536 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		for j, c := range cols {
			record[j] = c.Format(i)
		}
		record[len(cols)] = res.Label(i)
		if res.Task != "regression" {
			row := res.Out[i*res.Outputs : (i+1)*res.Outputs]
			for k, p := range row {
				if math.IsNaN(p) {
					record[len(cols)+1+k] = ""
					continue
				}
				num = strconv.AppendFloat(num[:0], p, 'g', -1, 64)
				record[len(cols)+1+k] = string(num)
			}
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
