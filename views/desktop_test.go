package views

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

func TestSwitchWorkspaceReopensStudio(t *testing.T) {
	a := test.NewTempApp(t)
	dir := t.TempDir()
	w := a.NewWindow("Modelsmith")
	var d *desktop
	onUI(func() {
		d = newDesktop(a, w)
		d.open(app.Options{Path: filepath.Join(dir, "first.modelsmith")})
	})
	eventually(t, "the first workspace", func() bool { return d.shell != nil })
	var first *app.Studio
	onUI(func() {
		first = d.studio
		if got := w.Title(); got != "Modelsmith — first.modelsmith" {
			t.Errorf("title %q", got)
		}
		var items []string
		for _, it := range w.MainMenu().Items[0].Items {
			if it.Shortcut != nil {
				items = append(items, it.Label+" "+it.Shortcut.ShortcutName())
			}
		}
		if len(items) != 5 {
			t.Errorf("File menu items with shortcuts: %q", items)
		}
		d.open(app.Options{Path: filepath.Join(dir, "second.modelsmith"), Empty: true})
	})
	eventually(t, "the second workspace", func() bool { return d.shell != nil && d.studio != first })
	onUI(func() {
		if got := w.Title(); got != "Modelsmith — second.modelsmith" {
			t.Errorf("title after switching %q", got)
		}
		if d.studio.Path() != filepath.Join(dir, "second.modelsmith") {
			t.Errorf("studio on %s", d.studio.Path())
		}
	})
	// The first workspace is closed: its file can be opened again, alone.
	if _, err := first.Datasets(context.Background()); err == nil {
		t.Error("the first Studio still answers after the switch")
	}
	eventually(t, "the empty workspace's lists", func() bool { return d.shell.home.count.Text == "Datasets (0)" })
	onUI(func() { d.quit() })
	eventually(t, "the workspace to close", func() bool { return d.shell == nil })
	if _, err := os.Stat(filepath.Join(dir, "second.modelsmith")); err != nil {
		t.Error(err)
	}
}

func TestThemeSettingPersists(t *testing.T) {
	s, _ := newTestShell(t)
	eventually(t, "the stored theme", func() bool { return s.settings.themes.OnChanged != nil })
	onUI(func() {
		if got := s.settings.themes.Selected; got != "Follow the system" {
			t.Errorf("a new workspace's theme choice is %q", got)
		}
		s.settings.themes.SetSelected("Dark")
		th := fyne.CurrentApp().Settings().Theme()
		if got, want := th.Color("background", 0), th.Color("background", 1); got != want {
			t.Error("choosing Dark does not hold the theme to one variant")
		}
	})
	eventually(t, "the saved preference", func() bool {
		pref, err := s.studio.ThemePreference(context.Background())
		return err == nil && pref == app.ThemeDark
	})
}

func TestRoleChangeOnProfileCard(t *testing.T) {
	s, _ := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return s.home.list.Length() == 3 })
	onUI(func() { s.openDataset("iris@1") })
	eventually(t, "iris's cards", func() bool { return s.data.detail != nil && len(s.data.cards.Objects) == 5 })
	onUI(func() {
		role := findSelect(s.data.cards.Objects[1], "feature")
		if role == nil {
			t.Fatal("no role choice on the card of sepal_width_cm")
		}
		role.SetSelected("ignore")
	})
	eventually(t, "the role to be stored and shown", func() bool {
		return s.data.detail.Schema[1].Role == "ignore" && s.data.colHead.Text == "Columns (5; sepal_width_cm: ignore)"
	})
	d, err := s.studio.Dataset(context.Background(), "iris@1")
	if err != nil || d.Schema[1].Role != "ignore" {
		t.Fatalf("stored role: %+v %v", d.Schema[1], err)
	}
}

func TestExportWritesModelFile(t *testing.T) {
	s, w := newTestShell(t)
	if _, err := s.studio.Train(context.Background(), app.TrainOptions{Data: "iris@1", Target: "species", Algorithm: "knn", Seed: 1, Holdout: 0.2}, nil); err != nil {
		t.Fatal(err)
	}
	onUI(func() { s.exportModelDialog() })
	eventually(t, "the export dialog", func() bool {
		for _, o := range w.Canvas().Overlays().List() {
			if findSelect(o, "iris-knn@1") != nil {
				return true
			}
		}
		return false
	})
	dir := t.TempDir()
	for _, format := range []string{"native", "onnx"} {
		path := filepath.Join(dir, "iris."+format)
		onUI(func() { s.exportModel("iris-knn@1", format, path) })
		eventually(t, "the "+format+" export", func() bool { return !s.task.busy() })
		st, err := os.Stat(path)
		if err != nil || st.Size() < 100 {
			t.Fatalf("%s export: %v", format, err)
		}
	}
	// The native file registers back as a new version: it is a whole model.
	m, err := s.studio.ImportModel(context.Background(), filepath.Join(dir, "iris.native"), "")
	if err != nil || m.Ref != "iris-knn@2" {
		t.Errorf("import of the exported file: %s %v", m.Ref, err)
	}
}

func TestTypeChangeMakesNewVersion(t *testing.T) {
	s, w := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return s.home.list.Length() == 3 })
	onUI(func() { s.openDataset("iris@1") })
	eventually(t, "iris's cards", func() bool { return s.data.detail != nil && len(s.data.cards.Objects) == 5 })
	onUI(func() {
		typ := findSelect(s.data.cards.Objects[3], "numeric") // petal_width_cm
		if typ == nil {
			t.Fatal("no type choice on the card")
		}
		typ.SetSelected("categorical")
		var ok *widget.Button
		for _, o := range w.Canvas().Overlays().List() {
			if b := findButton(o, "Make new version"); b != nil {
				ok = b
			}
		}
		if ok == nil {
			t.Fatal("no confirmation before making a new version")
		}
		test.Tap(ok)
	})
	eventually(t, "the new version on the Data screen", func() bool {
		return s.data.detail != nil && s.data.detail.Ref == "iris@2" && s.data.detail.Schema[3].Type == "categorical"
	})
}
