package views

import (
	_ "modelsmith/views/posixlocale" // before Fyne: see its doc

	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// uiMu stands in for the single UI goroutine of the real driver: background
// work posts under it, and the tests read and poke widgets under it.
var uiMu sync.Mutex

func init() {
	post = func(fn func()) {
		uiMu.Lock()
		defer uiMu.Unlock()
		fyne.Do(fn)
	}
}

// onUI runs fn as if on the UI goroutine.
func onUI(fn func()) {
	uiMu.Lock()
	defer uiMu.Unlock()
	fn()
}

// newTestShell opens a Studio on a fresh workspace with the sample datasets
// and builds the shell in a test window.
func newTestShell(t *testing.T) (*Shell, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	studio, err := app.Open(context.Background(), app.Options{Path: filepath.Join(t.TempDir(), "ui.modelsmith")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := test.NewWindow(nil)
	var s *Shell
	onUI(func() {
		s = NewShell(studio, w, nil)
		w.SetContent(s.Content())
		w.Resize(fyne.NewSize(1200, 780))
	})
	t.Cleanup(func() {
		s.Close()
		w.Close()
		studio.Close()
	})
	return s, w
}

// eventually polls cond, letting background work post back to the UI.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var ok bool
		onUI(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHomeListsSampleDatasets(t *testing.T) {
	s, _ := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return s.home.list.Length() == 3 })
	onUI(func() {
		if got := s.home.count.Text; got != "Datasets (3)" {
			t.Errorf("heading = %q", got)
		}
		if s.home.empty.Visible() {
			t.Error("the empty-workspace hint shows although there are datasets")
		}
	})
}

func TestDropImportsAndOpensDataset(t *testing.T) {
	s, _ := newTestShell(t)
	path := filepath.Join(t.TempDir(), "pets.csv")
	if err := os.WriteFile(path, []byte("name,kind,age\nrex,dog,3\ntom,cat,5\nkit,cat,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	onUI(func() { s.Dropped(fyne.NewPos(10, 10), []fyne.URI{storage.NewFileURI(path)}) })
	eventually(t, "the dropped file to open on the Data screen", func() bool {
		return s.data.detail != nil && s.data.detail.Ref == "pets@1"
	})
	onUI(func() {
		if s.content.Objects[0] != s.data.view {
			t.Error("the Data screen is not shown after the import")
		}
		rows, cols := s.data.previewSize()
		if rows != 3 || cols != 3 {
			t.Errorf("preview size %d×%d, want 3×3", rows, cols)
		}
	})
	eventually(t, "the first page of rows", func() bool { return s.data.pages[0] != nil })
	onUI(func() {
		cell := widget.NewLabel("")
		s.data.previewCell(widget.TableCellID{Row: 1, Col: 1}, cell)
		if cell.Text != "cat" {
			t.Errorf("row 2, column kind = %q, want cat", cell.Text)
		}
		s.data.previewCell(widget.TableCellID{Row: 2, Col: 2}, cell)
		if cell.Text != "—" {
			t.Errorf("missing age shows %q, want —", cell.Text)
		}
		if got := s.data.columnText(1, 1); got != "categorical" {
			t.Errorf("type of kind = %q", got)
		}
		if s.task.view.Visible() {
			t.Error("the task bar still shows after the import finished")
		}
	})
}

func TestDroppedBadFileShowsError(t *testing.T) {
	s, w := newTestShell(t)
	path := filepath.Join(t.TempDir(), "ragged.csv")
	os.WriteFile(path, []byte("a,b,c\n1,2,3\n4,5\n"), 0o644)
	onUI(func() { s.Dropped(fyne.NewPos(0, 0), []fyne.URI{storage.NewFileURI(path)}) })
	eventually(t, "an error dialog", func() bool {
		return len(w.Canvas().Overlays().List()) > 0
	})
	found := false
	onUI(func() {
		for _, o := range w.Canvas().Overlays().List() {
			if labelContaining(o, "line 3") {
				found = true
			}
		}
	})
	if !found {
		t.Error("the error dialog does not name line 3")
	}
	eventually(t, "the dataset list", func() bool { return s.home.list.Length() == 3 })
}

func labelContaining(o fyne.CanvasObject, text string) bool {
	switch x := o.(type) {
	case *widget.Label:
		return strings.Contains(x.Text, text)
	case fyne.Widget:
		r := test.WidgetRenderer(x)
		for _, c := range r.Objects() {
			if labelContaining(c, text) {
				return true
			}
		}
	case *fyne.Container:
		for _, c := range x.Objects {
			if labelContaining(c, text) {
				return true
			}
		}
	}
	return false
}

func TestDeleteFromDataScreen(t *testing.T) {
	s, w := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return s.home.list.Length() == 3 })
	onUI(func() { s.openDataset("iris@1") })
	eventually(t, "iris to load", func() bool { return s.data.detail != nil && s.data.detail.Ref == "iris@1" })
	var confirm *widget.Button
	onUI(func() {
		test.Tap(s.data.remove)
		for _, o := range w.Canvas().Overlays().List() {
			confirm = findButton(o, "Yes")
		}
		if confirm != nil {
			test.Tap(confirm)
		}
	})
	if confirm == nil {
		t.Fatal("no confirmation dialog with a Yes button")
	}
	eventually(t, "iris to be gone", func() bool { return s.home.list.Length() == 2 && s.data.detail == nil })
}

func findButton(o fyne.CanvasObject, text string) *widget.Button {
	switch x := o.(type) {
	case *widget.Button:
		if x.Text == text {
			return x
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	case *fyne.Container:
		for _, c := range x.Objects {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}

// findSelect finds the Select showing selected inside o.
func findSelect(o fyne.CanvasObject, selected string) *widget.Select {
	switch x := o.(type) {
	case *widget.Select:
		if x.Selected == selected {
			return x
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			if b := findSelect(c, selected); b != nil {
				return b
			}
		}
	case *fyne.Container:
		for _, c := range x.Objects {
			if b := findSelect(c, selected); b != nil {
				return b
			}
		}
	}
	return nil
}

func TestTrainFromDataScreen(t *testing.T) {
	s, _ := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return s.home.list.Length() == 3 })
	onUI(func() { s.openDataset("adult@1") })
	eventually(t, "adult to load", func() bool { return s.data.detail != nil && !s.data.trainOn.Disabled() })
	onUI(func() { test.Tap(s.data.trainOn) })
	eventually(t, "the Train screen on adult", func() bool {
		return s.content.Objects[0] == s.train.view && s.train.target.Selected == "income"
	})
}
