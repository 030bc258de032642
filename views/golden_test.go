package views

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// The Train screen's forms are stable layouts: markup goldens catch a field
// that goes missing, moves or changes its text. Regenerate after an intended
// change by copying testdata/failed/*.xml over testdata/*.xml.
func TestTrainFormMarkup(t *testing.T) {
	s, w := newTestShell(t)
	eventually(t, "the dataset list", func() bool { return len(s.train.dataset.Options) == 3 })
	onUI(func() {
		w.SetContent(s.train.view)
		w.Resize(fyne.NewSize(1000, 760))
		s.train.selectRef("iris@1")
	})
	eventually(t, "iris's columns", func() bool { return s.train.target.Selected == "species" })
	onUI(func() {
		test.AssertRendersToMarkup(t, "train_automl.xml", w.Canvas())
		s.train.tabs.SelectIndex(1)
		s.train.custom.algo.SetSelected("knn")
		test.AssertRendersToMarkup(t, "train_custom_knn.xml", w.Canvas())
		s.train.custom.algo.SetSelected("nn")
		s.train.custom.layers.units[1].SetText("0")
		test.AssertRendersToMarkup(t, "train_custom_nn_invalid.xml", w.Canvas())
	})
}

func TestDropZoneMarkup(t *testing.T) {
	test.NewTempApp(t)
	w := test.NewWindow(newDropZone(func() {}))
	defer w.Close()
	w.Resize(fyne.NewSize(700, 220))
	test.AssertRendersToMarkup(t, "drop_zone.xml", w.Canvas())
}
