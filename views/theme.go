package views

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"

	"modelsmith/app"
)

// studioTheme is Fyne's default theme, optionally held to one variant: the
// Settings screen's choice of light or dark over the desktop's own.
type studioTheme struct {
	fyne.Theme
	forced  bool
	variant fyne.ThemeVariant
}

// themeFor is the theme for a preference (app.ThemeSystem, ThemeLight or
// ThemeDark).
func themeFor(pref string) fyne.Theme {
	switch pref {
	case app.ThemeLight:
		return studioTheme{Theme: theme.DefaultTheme(), forced: true, variant: theme.VariantLight}
	case app.ThemeDark:
		return studioTheme{Theme: theme.DefaultTheme(), forced: true, variant: theme.VariantDark}
	}
	return studioTheme{Theme: theme.DefaultTheme()}
}

func (t studioTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if t.forced {
		v = t.variant
	}
	return t.Theme.Color(n, v)
}

// applyTheme makes pref the app's theme.
func applyTheme(pref string) {
	if a := fyne.CurrentApp(); a != nil {
		a.Settings().SetTheme(themeFor(pref))
	}
}
