package storage

import (
	"errors"
	"fmt"
	"time"
)

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string
	Action     string
	ObjectType string
	ObjectName string
	Detail     string
}

// Audit appends e to the audit log; a zero e.At means now. e.Action must not
// be empty. e.ID is ignored: the log numbers its entries.
func (tx *Tx) Audit(e AuditEntry) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if e.Action == "" {
		return errors.New("storage: audit: empty action")
	}
	_, err := tx.exec(`INSERT INTO audit_log (at, actor, action, object_type, object_name, detail)
		VALUES (?, ?, ?, ?, ?, ?)`,
		formatTime(stamp(e.At)), e.Actor, e.Action, e.ObjectType, e.ObjectName, e.Detail)
	if err != nil {
		return fmt.Errorf("storage: audit %s %s %q: %w", e.Action, e.ObjectType, e.ObjectName, err)
	}
	return nil
}

// AuditLog returns up to limit entries, newest first; all of them if limit <= 0.
func (tx *Tx) AuditLog(limit int) ([]AuditEntry, error) {
	if err := tx.readable(); err != nil {
		return nil, err
	}
	rows, err := tx.query(`SELECT id, at, actor, action, object_type, object_name, detail
		FROM audit_log ORDER BY id DESC LIMIT ?`, sqlLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("storage: audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectName, &e.Detail); err != nil {
			return nil, fmt.Errorf("storage: audit log: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("storage: audit log entry %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: audit log: %w", err)
	}
	return out, nil
}
