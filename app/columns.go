package app

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"modelsmith/ml/data"
	"modelsmith/storage"
)

// ColumnRoles are the roles a column can have: a feature the model reads,
// the target it predicts, an id or a column to ignore (neither is read).
var ColumnRoles = storage.ColumnRoles

// SetColumnRole sets a column's role in dataset version ref ("name@version").
// A dataset has one target at most: choosing another makes the old one a
// feature again.
func (s *Studio) SetColumnRole(ctx context.Context, ref, column, role string) error {
	valid := false
	for _, r := range ColumnRoles {
		valid = valid || r == role
	}
	if !valid {
		return usageErrorf("role %q: want one of %s", role, strings.Join(ColumnRoles, ", "))
	}
	err := s.ws.Update(ctx, func(tx *storage.Tx) error {
		d, err := s.lookup(tx, ref)
		if err != nil {
			return err
		}
		cols, err := tx.Columns(d.ID)
		if err != nil {
			return err
		}
		found := false
		for _, c := range cols {
			found = found || c.Name == column
		}
		if !found {
			return usageErrorf("dataset %s has no column %q", datasetFrom(d).Ref, column)
		}
		if err := tx.SetColumnRole(d.ID, column, role); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "set_role", ObjectType: "dataset",
			ObjectName: datasetFrom(d).Ref, Detail: detailJSON(map[string]any{"column": column, "role": role})})
	})
	if err != nil {
		return fmt.Errorf("set the role of column %q of %s: %w", column, ref, err)
	}
	return nil
}

// ColumnTypes are the types a column can be changed to.
var ColumnTypes = []string{"numeric", "categorical", "text"}

// ChangeColumnType stores a new version of dataset ref in which column has the
// given type (numeric, categorical or text): the stored data cannot change
// in place, and models trained on the old version keep pointing at it. Roles
// are carried over. Numbers become categories or text as written; categories
// and text become numbers only if every value is one, else the error names
// the first row that is not.
func (s *Studio) ChangeColumnType(ctx context.Context, ref, column, typ string, progress func(Progress)) (ImportResult, error) {
	kind, err := data.ParseKind(typ)
	if err != nil || kind == data.Datetime {
		return ImportResult{}, usageErrorf("type %q: want one of %s", typ, strings.Join(ColumnTypes, ", "))
	}
	detail, err := s.Dataset(ctx, ref)
	if err != nil {
		return ImportResult{}, err
	}
	var from string
	for _, c := range detail.Schema {
		if c.Name == column {
			from = c.Type
		}
	}
	switch {
	case from == "":
		return ImportResult{}, usageErrorf("dataset %s has no column %q", detail.Ref, column)
	case from == typ:
		return ImportResult{}, usageErrorf("column %q of %s is already %s", column, detail.Ref, typ)
	}
	read := func(ctx context.Context, _ data.ReadOptions) (*data.Frame, error) {
		f, err := s.Frame(ctx, detail.Ref)
		if err != nil {
			return nil, err
		}
		for i, c := range f.Columns {
			if c.Name == column {
				if f.Columns[i], err = convertColumn(c, kind); err != nil {
					return nil, fmt.Errorf("dataset %s: %w", detail.Ref, err)
				}
			}
		}
		return f, nil
	}
	title := fmt.Sprintf("Change column %q of %s to %s", column, detail.Ref, typ)
	res, _, err := s.importFrame(ctx, title, detail.Name, detail.SourceKind, detail.Source, detail.Source,
		ImportOptions{Format: data.Format(detail.Format)}, read, progress)
	if err != nil {
		return res, fmt.Errorf("change the type of column %q of %s: %w", column, detail.Ref, err)
	}
	err = s.ws.Update(ctx, func(tx *storage.Tx) error {
		for _, c := range detail.Schema {
			if c.Role != "feature" {
				if err := tx.SetColumnRole(res.Dataset.ID, c.Name, c.Role); err != nil {
					return err
				}
			}
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "change_type", ObjectType: "dataset",
			ObjectName: res.Dataset.Ref, Detail: detailJSON(map[string]any{"from": detail.Ref, "column": column, "type": typ})})
	})
	if err != nil {
		return res, fmt.Errorf("change the type of column %q of %s: carry the roles over to %s: %w", column, detail.Ref, res.Dataset.Ref, err)
	}
	return res, nil
}

// convertColumn returns c as a column of kind k.
func convertColumn(c *data.Column, k data.Kind) (*data.Column, error) {
	out := &data.Column{Name: c.Name, Kind: k}
	n := c.Len()
	switch k {
	case data.Numeric:
		out.Num = make([]float64, n)
		var parsed []float64
		if c.Kind == data.Categorical || c.Kind == data.Text {
			parsed = make([]float64, len(c.Levels))
			bad := make([]bool, len(c.Levels))
			for i, l := range c.Levels {
				v, err := strconv.ParseFloat(strings.TrimSpace(l), 64)
				parsed[i], bad[i] = v, err != nil
			}
			for i := 0; i < n; i++ {
				code := c.Codes[i]
				switch {
				case code < 0:
					out.Num[i] = math.NaN()
				case bad[code]:
					return nil, usageErrorf("column %q, row %d: %q is not a number", c.Name, i+1, c.Levels[code])
				default:
					out.Num[i] = parsed[code]
				}
			}
			return out, nil
		}
		copy(out.Num, c.Num) // datetime: seconds since the epoch
		return out, nil
	default: // categorical or text
		if c.Kind == data.Categorical || c.Kind == data.Text {
			out.Codes, out.Levels = c.Codes, c.Levels
			return out, nil
		}
		out.Codes = make([]int32, n)
		index := map[string]int32{}
		for i := 0; i < n; i++ {
			if c.IsMissing(i) {
				out.Codes[i] = -1
				continue
			}
			v := c.Format(i)
			code, ok := index[v]
			if !ok {
				code = int32(len(out.Levels))
				index[v] = code
				out.Levels = append(out.Levels, v)
			}
			out.Codes[i] = code
		}
		return out, nil
	}
}

// unusedColumns names the columns of a stored dataset whose role keeps them
// out of training (id and ignore); none for a dataset not stored.
func (s *Studio) unusedColumns(ctx context.Context, datasetID int64) (map[string]bool, error) {
	out := map[string]bool{}
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		cols, err := tx.Columns(datasetID)
		for _, c := range cols {
			if c.Role == "id" || c.Role == "ignore" {
				out[c.Name] = true
			}
		}
		return err
	})
	return out, err
}
