package views

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// flightsShell imports flights_delay's 800,000 training rows into a fresh
// workspace and shows them on the Data screen; skipped without the dataset.
func flightsShell(b *testing.B) (*Shell, fyne.Window, string) {
	b.Helper()
	path := filepath.Join("..", "..", "shared", "datasets", "flights_delay", "train.csv.gz")
	if _, err := os.Stat(path); err != nil {
		b.Skip("flights_delay is not in ../shared/datasets")
	}
	test.NewTempApp(b)
	studio, err := app.Open(context.Background(), app.Options{Path: filepath.Join(b.TempDir(), "bench.modelsmith"), Empty: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	res, err := studio.ImportDataset(context.Background(), path, app.ImportOptions{Name: "flights"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	w := test.NewWindow(nil)
	var s *Shell
	onUI(func() {
		s = NewShell(studio, w, nil)
		w.SetContent(s.Content())
		w.Resize(fyne.NewSize(1200, 780))
		s.openDataset(res.Dataset.Ref)
	})
	b.Cleanup(func() {
		s.Close()
		w.Close()
		studio.Close()
	})
	for ok := false; !ok; {
		onUI(func() { ok = s.data.detail != nil })
	}
	return s, w, res.Dataset.Ref
}

// BenchmarkPreviewPageLoad is what a jump to an unseen part of the table
// costs off the UI goroutine: reading and decoding one page of rows (all
// columns) from the workspace.
func BenchmarkPreviewPageLoad(b *testing.B) {
	s, _, ref := flightsShell(b)
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		from := rng.IntN(800_000 - previewPage)
		if _, err := s.studio.Preview(context.Background(), ref, from, from+previewPage); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPreviewScrollFrame is the UI goroutine's cost of one scroll step
// through loaded rows: move the table by a few rows and refresh the visible
// cells, as a frame of smooth scrolling does. It must stay far below the
// ~16 ms of a 60 Hz frame.
func BenchmarkPreviewScrollFrame(b *testing.B) {
	s, w, _ := flightsShell(b)
	// Load the pages the benchmark scrolls through, off the clock.
	const span = 8 * previewPage
	start := 400_000 / previewPage * previewPage
	for p := start / previewPage; p < (start+span)/previewPage+2; p++ {
		onUI(func() { s.data.fetch(p) })
		for ok := false; !ok; {
			onUI(func() { ok = s.data.pages[p] != nil })
		}
	}
	row := start
	b.ReportAllocs()
	for b.Loop() {
		row += 3
		if row >= start+span {
			row = start
		}
		onUI(func() {
			s.data.preview.ScrollTo(widget.TableCellID{Row: row, Col: 0})
		})
	}
	b.StopTimer()
	onUI(func() {
		cell := widget.NewLabel("")
		s.data.previewCell(widget.TableCellID{Row: row, Col: 0}, cell)
		if cell.Text == "…" {
			b.Error("the benchmark scrolled through rows that were not loaded")
		}
		_ = w
	})
}
