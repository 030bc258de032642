package views

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
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
	for _, variant := range []string{"light", "dark"} {
		th := theme.LightTheme()
		if variant == "dark" {
			th = theme.DarkTheme()
		}
		onUI(func() { fyne.CurrentApp().Settings().SetTheme(th) })
		for _, ref := range []string{"churn@1", "house-prices@1"} {
			for tab := range 3 {
				onUI(func() { m.selectRef(ref) })
				eventually(t, "the report of "+ref, func() bool {
					return m.current != nil && m.current.Ref == ref && m.report != nil
				})
				onUI(func() { m.tabs.SelectIndex(tab) })
				time.Sleep(600 * time.Millisecond) // past the charts' redraw throttle
				var img = w.Canvas().Capture()
				onUI(func() { img = w.Canvas().Capture() })
				name := filepath.Join(dir, "models_"+m.current.Name+"_"+[]string{"performance", "importance", "card"}[tab]+"_"+variant+".png")
				f, err := os.Create(name)
				if err != nil {
					t.Fatal(err)
				}
				if err := png.Encode(f, img); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
		}
	}
}
