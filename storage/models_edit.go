package storage

import (
	"database/sql"
	"fmt"
)

// ModelStages are the stages a model version can be in (the models.stage
// CHECK constraint).
var ModelStages = []string{"none", "staging", "production", "archived"}

// RenameModel gives every version of model oldName the name newName, which
// must not be taken. Whatever points at a model by name (aliases) follows.
func (tx *Tx) RenameModel(oldName, newName string) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	var taken int
	if err := tx.queryRow(`SELECT count(*) FROM models WHERE name = ?`, newName).Scan(&taken); err != nil {
		return fmt.Errorf("storage: rename model %q: %w", oldName, err)
	}
	if taken > 0 {
		return fmt.Errorf("rename model %q: the name %q is taken by another model", oldName, newName)
	}
	// Tables that reference models by (name, version) are updated in the
	// same transaction; the foreign keys are checked at commit, when both
	// sides agree again.
	if _, err := tx.exec(`PRAGMA defer_foreign_keys = ON`); err != nil {
		return fmt.Errorf("storage: rename model %q: %w", oldName, err)
	}
	res, err := tx.exec(`UPDATE models SET name = ? WHERE name = ?`, newName, oldName)
	if err := affectedOne(res, err, fmt.Sprintf("rename model %q", oldName)); err != nil {
		return err
	}
	if _, err := tx.exec(`UPDATE model_aliases SET model_name = ? WHERE model_name = ?`, newName, oldName); err != nil {
		return fmt.Errorf("storage: rename model %q in its aliases: %w", oldName, err)
	}
	return nil
}

// DeleteModel removes one model version with its artifact. Rows that only
// describe it (aliases) go with it; lineage (runs, served predictions) stays
// with the model reference cleared.
func (tx *Tx) DeleteModel(id int64) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	res, err := tx.exec(`DELETE FROM models WHERE id = ?`, id)
	return affectedOne(res, err, fmt.Sprintf("delete model %d", id))
}

// ModelDependents describes what refers to model version id and would lose
// it if it were deleted: aliases pointing at it and servers serving it.
func (tx *Tx) ModelDependents(id int64) ([]string, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	var name string
	var version int
	if err := tx.queryRow(`SELECT name, version FROM models WHERE id = ?`, id).Scan(&name, &version); err != nil {
		return nil, fmt.Errorf("storage: model %d: %w", id, notFound(err))
	}
	var out []string
	queries := []struct{ query, format string }{
		{`SELECT alias FROM model_aliases WHERE model_name = ? AND version = ? ORDER BY alias`, "alias %s@%s"},
		{`SELECT name FROM deployments WHERE model_id = (SELECT id FROM models WHERE name = ? AND version = ?)
			AND status = 'running' ORDER BY name`, "running deployment %[2]s"},
	}
	for _, q := range queries {
		rows, err := tx.query(q.query, name, version)
		if err != nil {
			return nil, fmt.Errorf("storage: dependents of model %s@%d: %w", name, version, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				rows.Close()
				return nil, fmt.Errorf("storage: dependents of model %s@%d: %w", name, version, err)
			}
			out = append(out, fmt.Sprintf(q.format, name, s))
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("storage: dependents of model %s@%d: %w", name, version, err)
		}
	}
	return out, nil
}

func notFound(err error) error {
	if err == sql.ErrNoRows {
		return ErrNotFound
	}
	return err
}
