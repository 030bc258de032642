package views

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"

	"modelsmith/app"
)

// TestModelsScreenshots saves the Models screen, light and dark, for a
// person to look at: set MODELSMITH_SCREENSHOTS to a folder. It uses the real
// theme and Fyne's software renderer; the charts are the real ones.
func TestModelsScreenshots(t *testing.T) {
	dir := os.Getenv("MODELSMITH_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MODELSMITH_SCREENSHOTS=DIR to save screenshots of the Models screen")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, m, w := newModelsTest(t)
	// About the room the screen has in the shell beside its navigation.
	onUI(func() { w.Resize(fyne.NewSize(1000, 720)) })
	trainModel(t, s, "regression", "gbdt", "house-prices")
	trainModel(t, s, "binary", "gbdt", "churn")
	if _, err := s.studio.AutoML(context.Background(), app.AutoMLOptions{Data: writeModelData(t, "binary", 600), Target: "target",
		Trials: 6, Seed: 1, Families: []string{"linear", "gbdt", "knn"}, Name: "searched"}, nil, nil); err != nil {
		t.Fatal(err)
	}
	for _, variant := range []string{"light", "dark"} {
		th := theme.LightTheme()
		if variant == "dark" {
			th = theme.DarkTheme()
		}
		onUI(func() { fyne.CurrentApp().Settings().SetTheme(th) })
		for _, ref := range []string{"churn@1", "house-prices@1", "searched@1"} {
			for tab := range 3 {
				onUI(func() { m.selectRef(ref) })
				eventually(t, "the report of "+ref, func() bool {
					return m.current != nil && m.current.Ref == ref && m.report != nil
				})
				onUI(func() { m.tabs.SelectIndex(tab) })
				time.Sleep(600 * time.Millisecond) // past the charts' redraw throttle
				var img image.Image
				onUI(func() { img = w.Canvas().Capture() })
				writeShot(t, filepath.Join(dir, "models_"+m.current.Name+"_"+[]string{"performance", "importance", "card"}[tab]+"_"+variant+".png"), img)
				if tab != 1 { // and the end of the long tabs
					onUI(func() {
						sc := m.tabs.Items[tab].Content.(*container.Scroll)
						sc.ScrollToBottom()
						img = w.Canvas().Capture()
						sc.ScrollToTop()
					})
					writeShot(t, filepath.Join(dir, "models_"+m.current.Name+"_"+[]string{"performance", "", "card"}[tab]+"_end_"+variant+".png"), img)
				}
			}
		}
		// The dialogs of the actions, over the last model.
		for _, d := range []struct {
			name   string
			open   func()
			cancel string
		}{{"export", m.askExport, "Cancel"}, {"alias", m.askAlias, "Close"}, {"delete", m.askDelete, "Keep it"}} {
			onUI(d.open)
			eventually(t, "the "+d.name+" dialog", func() bool {
				top := w.Canvas().Overlays().Top()
				return top != nil && buttonIn(top, d.cancel) != nil
			})
			time.Sleep(300 * time.Millisecond)
			var img image.Image
			onUI(func() { img = w.Canvas().Capture() })
			writeShot(t, filepath.Join(dir, "models_dialog_"+d.name+"_"+variant+".png"), img)
			onUI(func() { tapButton(t, w.Canvas().Overlays().Top(), d.cancel) })
		}
	}
}

func writeShot(t *testing.T, path string, img image.Image) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
}
