package views

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// settingsScreen holds the workspace's preferences (the theme) and says
// which workspace is open. Later features add their sections with addSection.
type settingsScreen struct {
	shell *Shell
	view  fyne.CanvasObject
	form  *fyne.Container

	themes *widget.RadioGroup
	path   *widget.Label
	facts  *widget.Label
}

var themeLabels = []string{"Follow the system", "Light", "Dark"}
var themePrefs = []string{app.ThemeSystem, app.ThemeLight, app.ThemeDark}

func newSettingsScreen(s *Shell) *settingsScreen {
	st := &settingsScreen{shell: s}
	st.themes = widget.NewRadioGroup(themeLabels, nil)
	st.themes.Horizontal = true
	st.themes.Required = true
	st.path = widget.NewLabel(s.studio.Path())
	st.path.Wrapping = fyne.TextWrapBreak
	st.facts = widget.NewLabel("")

	ws := []fyne.CanvasObject{st.path, st.facts}
	if s.switchWorkspace != nil {
		ws = append(ws, container.NewHBox(
			widget.NewButtonWithIcon("Open another workspace…", theme.FolderOpenIcon(), func() { s.switchWorkspace(false) }),
			widget.NewButtonWithIcon("New workspace…", theme.ContentAddIcon(), func() { s.switchWorkspace(true) })))
	}
	st.form = container.NewVBox(
		heading("Settings"),
		widget.NewCard("Appearance", "Colours of every screen and chart.", st.themes),
		widget.NewCard("Workspace", "Everything — datasets, runs, models, jobs — lives in this one file.", container.NewVBox(ws...)),
	)
	st.view = container.NewVScroll(st.form)

	// The stored preference decides the theme as soon as it is read.
	s.background(func(ctx context.Context) {
		pref, err := s.studio.ThemePreference(ctx)
		post(func() {
			if err != nil {
				s.showError("Could not read the theme preference", err)
				return
			}
			st.setTheme(pref)
			st.themes.OnChanged = st.chooseTheme
		})
	})
	return st
}

func (st *settingsScreen) setTheme(pref string) {
	for i, p := range themePrefs {
		if p == pref {
			st.themes.SetSelected(themeLabels[i])
		}
	}
	applyTheme(pref)
}

func (st *settingsScreen) chooseTheme(label string) {
	pref := app.ThemeSystem
	for i, l := range themeLabels {
		if l == label {
			pref = themePrefs[i]
		}
	}
	applyTheme(pref)
	st.shell.background(func(ctx context.Context) {
		if err := st.shell.studio.SetThemePreference(ctx, pref); err != nil {
			post(func() { st.shell.showError("Could not save the theme preference", err) })
		}
	})
}

func (st *settingsScreen) onShow() {
	st.shell.background(func(ctx context.Context) {
		info, err := st.shell.studio.Workspace(ctx)
		post(func() {
			if err != nil {
				st.facts.SetText(err.Error())
				return
			}
			st.facts.SetText(fmt.Sprintf("%s on disk · %d datasets · %d models · %d jobs",
				app.FormatBytes(info.Bytes), info.Datasets, info.Models, info.Jobs))
		})
	})
}

// heading is a screen's bold title.
func heading(text string) *widget.Label {
	return widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}
