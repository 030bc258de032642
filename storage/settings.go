package storage

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Setting returns the value stored under key; ok is false if there is none.
func (tx *Tx) Setting(key string) (value string, ok bool, err error) {
	if err := tx.readable(); err != nil {
		return "", false, err
	}
	err = tx.queryRow("SELECT value FROM settings WHERE key = ?", key).Scan(&value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("storage: setting %q: %w", key, err)
	}
	return value, true, nil
}

// SetSetting stores value under key, replacing any value there.
func (tx *Tx) SetSetting(key, value string) error {
	if err := tx.writableErr(); err != nil {
		return err
	}
	if key == "" {
		return errors.New("storage: set setting: empty key")
	}
	_, err := tx.exec(`INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, formatTime(stamp(time.Time{})))
	if err != nil {
		return fmt.Errorf("storage: set setting %q: %w", key, err)
	}
	return nil
}
