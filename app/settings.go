package app

import (
	"context"
	"fmt"
	"os"

	"modelsmith/storage"
)

// Theme preferences of the desktop app, kept in the workspace's settings.
const (
	ThemeSystem = "system" // follow the desktop's light or dark setting
	ThemeLight  = "light"
	ThemeDark   = "dark"
)

const settingTheme = "ui.theme"

// ThemePreference is the workspace's theme preference; ThemeSystem when none
// was chosen.
func (s *Studio) ThemePreference(ctx context.Context) (string, error) {
	var v string
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		var err error
		v, _, err = tx.Setting(settingTheme)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("read the theme preference: %w", err)
	}
	switch v {
	case ThemeLight, ThemeDark:
		return v, nil
	}
	return ThemeSystem, nil
}

// SetThemePreference stores the theme preference: ThemeSystem, ThemeLight or
// ThemeDark.
func (s *Studio) SetThemePreference(ctx context.Context, theme string) error {
	switch theme {
	case ThemeSystem, ThemeLight, ThemeDark:
	default:
		return usageErrorf("theme %q: want %s, %s or %s", theme, ThemeSystem, ThemeLight, ThemeDark)
	}
	if err := s.setSetting(ctx, settingTheme, theme); err != nil {
		return fmt.Errorf("save the theme preference: %w", err)
	}
	return nil
}

// WorkspaceInfo describes the open workspace for the Settings screen.
type WorkspaceInfo struct {
	Path     string `json:"path"`
	Bytes    int64  `json:"bytes"` // the file with its write-ahead log
	Datasets int    `json:"datasets"`
	Models   int    `json:"models"`
	Jobs     int    `json:"jobs"`
}

// Workspace describes the open workspace: its file and what it holds.
func (s *Studio) Workspace(ctx context.Context) (WorkspaceInfo, error) {
	info := WorkspaceInfo{Path: s.Path()}
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		ds, err := tx.Datasets()
		if err != nil {
			return err
		}
		ms, err := tx.Models()
		if err != nil {
			return err
		}
		js, err := tx.Jobs(-1)
		if err != nil {
			return err
		}
		info.Datasets, info.Models, info.Jobs = len(ds), len(ms), len(js)
		return nil
	})
	if err != nil {
		return info, fmt.Errorf("describe workspace %s: %w", s.Path(), err)
	}
	for _, suffix := range []string{"", "-wal"} {
		if st, err := os.Stat(s.Path() + suffix); err == nil {
			info.Bytes += st.Size()
		}
	}
	return info, nil
}
