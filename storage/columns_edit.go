package storage

import (
	"fmt"
)

// ColumnRoles are the roles a dataset column can have.
var ColumnRoles = []string{"feature", "target", "id", "ignore"}

// SetColumnRole sets the role of a dataset's column. A dataset has at most
// one target: making a column the target makes the previous target a
// feature.
func (tx *Tx) SetColumnRole(datasetID int64, column, role string) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	valid := false
	for _, r := range ColumnRoles {
		valid = valid || r == role
	}
	if !valid {
		return fmt.Errorf("storage: set role of column %q of dataset %d: unknown role %q", column, datasetID, role)
	}
	if role == "target" {
		if _, err := tx.exec(`UPDATE dataset_columns SET role = 'feature' WHERE dataset_id = ? AND role = 'target' AND name <> ?`,
			datasetID, column); err != nil {
			return fmt.Errorf("storage: set role of column %q of dataset %d: %w", column, datasetID, err)
		}
	}
	res, err := tx.exec(`UPDATE dataset_columns SET role = ? WHERE dataset_id = ? AND name = ?`, role, datasetID, column)
	if err != nil {
		return fmt.Errorf("storage: set role of column %q of dataset %d: %w", column, datasetID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("storage: set role of column %q of dataset %d: %w", column, datasetID, ErrNotFound)
	}
	return nil
}
