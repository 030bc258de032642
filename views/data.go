package views

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
	"modelsmith/ml/data"
)

// previewPage is how many rows the preview loads at a time; the table asks only
// for the pages it shows, so a million-row dataset scrolls without loading it.
const previewPage = 512

// dataScreen shows one dataset: its rows and its column profiles.
type dataScreen struct {
	shell   *Shell
	view    fyne.CanvasObject
	picker  *widget.Select
	info    *widget.Label
	remove  *widget.Button
	trainOn *widget.Button // opens the Train screen on the shown dataset

	preview *widget.Table
	columns *widget.Table
	cards   *fyne.Container
	colHead *widget.Label

	// The shown dataset; UI goroutine only.
	detail *app.DatasetDetail
	pages  map[int]*data.Frame
	asked  map[int]bool
	// fit is how many characters of each column's cells fit its width.
	fit   []int
	epoch int // bumped when the dataset changes, so late page loads are dropped
}

var columnHeaders = []string{"Column", "Type", "Role", "Missing", "Distinct", "Summary", "Note"}

func newDataScreen(s *Shell) *dataScreen {
	d := &dataScreen{shell: s}
	d.picker = widget.NewSelect(nil, func(ref string) { d.load(ref) })
	d.picker.PlaceHolder = "Choose a dataset"
	d.info = widget.NewLabel("")
	d.remove = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), d.confirmDelete)
	d.remove.Disable()
	d.trainOn = widget.NewButtonWithIcon("Train…", theme.MediaPlayIcon(), func() {
		if d.detail != nil {
			s.openRef("Train", d.detail.Ref)
		}
	})
	d.trainOn.Importance = widget.HighImportance
	d.trainOn.Disable()

	d.preview = widget.NewTableWithHeaders(d.previewSize, newPreviewLabel, d.previewCell)
	d.preview.CreateHeader = newPreviewLabel
	d.preview.UpdateHeader = d.previewHeader

	d.columns = newRecordTable(columnHeaders, []float32{180, 110, 80, 80, 80, 340, 160},
		func() int {
			if d.detail == nil {
				return 0
			}
			return len(d.detail.Schema)
		}, d.columnText)

	d.cards = container.New(&cardGrid{cell: profileCardSize})
	d.colHead = heading("Columns")
	top := container.NewBorder(nil, nil, d.picker, container.NewHBox(d.trainOn, d.remove), d.info)
	tabs := container.NewAppTabs(
		container.NewTabItem("Profiles", container.NewVScroll(d.cards)),
		container.NewTabItem("Table", d.columns))
	split := container.NewVSplit(
		container.NewBorder(heading("Rows"), nil, nil, nil, d.preview),
		container.NewBorder(d.colHead, nil, nil, nil, tabs))
	split.Offset = 0.45
	d.view = container.NewBorder(top, nil, nil, nil, split)
	return d
}

func (d *dataScreen) setDatasets(list []app.Dataset) {
	refs := make([]string, len(list))
	for i, ds := range list {
		refs[i] = ds.Ref
	}
	d.picker.SetOptions(refs)
	if d.detail != nil && !slices.Contains(refs, d.detail.Ref) {
		d.show(nil)
		d.picker.ClearSelected()
	}
}

func (d *dataScreen) onShow() {
	// Select the first dataset only when nothing is chosen: a dataset opened
	// from elsewhere may still be loading.
	if d.picker.Selected == "" && len(d.picker.Options) > 0 {
		d.picker.SetSelectedIndex(0)
	}
}

// selectRef shows the dataset ref ("name@version").
func (d *dataScreen) selectRef(ref string) {
	if d.picker.Selected == ref {
		return
	}
	selectOption(d.picker, ref)
}

// load fetches the dataset's detail in the background.
func (d *dataScreen) load(ref string) {
	d.info.SetText("Loading " + ref + "…")
	d.shell.background(func(ctx context.Context) {
		detail, err := d.shell.studio.Dataset(ctx, ref)
		post(func() {
			if d.picker.Selected != ref {
				return // the user has moved on
			}
			if err != nil {
				d.info.SetText("")
				d.shell.showError("Could not open "+ref, err)
				return
			}
			d.show(&detail)
		})
	})
}

func (d *dataScreen) show(detail *app.DatasetDetail) {
	d.detail = detail
	d.pages, d.asked = map[int]*data.Frame{}, map[int]bool{}
	d.epoch++
	if detail == nil {
		d.info.SetText("")
		d.remove.Disable()
		d.trainOn.Disable()
	} else {
		d.info.SetText(fmt.Sprintf("%s rows × %d columns · %s · from %s", groupDigits(detail.Rows), detail.Columns,
			app.FormatBytes(detail.StoredBytes), detail.Source))
		d.remove.Enable()
		d.trainOn.Enable()
		d.fit = make([]int, len(detail.Schema))
		digit := fyne.MeasureText("0", theme.TextSize(), fyne.TextStyle{}).Width
		// The row-number column fits the largest row number.
		d.preview.SetColumnWidth(-1, fyne.MeasureText(strconv.FormatInt(detail.Rows, 10), theme.TextSize(), fyne.TextStyle{}).Width+2*theme.InnerPadding())
		for i, c := range detail.Schema {
			w := float32(110)
			if c.Type == "text" {
				w = 260
			}
			head := fyne.MeasureText(c.Name+" · "+c.Type, theme.TextSize(), fyne.TextStyle{Bold: true}).Width
			w = max(w, head+4*theme.Padding()+16)
			d.preview.SetColumnWidth(i, w)
			d.fit[i] = int((w - 2*theme.InnerPadding()) / digit)
		}
	}
	d.preview.ScrollToTop()
	d.preview.Refresh()
	d.columns.Refresh()
	d.refreshCards()
	d.colHead.SetText(cardTitle(detail))
}

func (d *dataScreen) previewSize() (int, int) {
	if d.detail == nil {
		return 0, 0
	}
	return int(d.detail.Rows), len(d.detail.Schema)
}

func (d *dataScreen) previewHeader(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	switch {
	case d.detail == nil:
		l.SetText("")
	case id.Row < 0 && id.Col >= 0:
		c := d.detail.Schema[id.Col]
		l.TextStyle.Bold = true
		l.SetText(c.Name + " · " + c.Type)
	case id.Col < 0 && id.Row >= 0:
		l.TextStyle.Bold = false
		l.SetText(strconv.Itoa(id.Row + 1))
	}
}

func (d *dataScreen) previewCell(id widget.TableCellID, o fyne.CanvasObject) {
	l := o.(*widget.Label)
	page := id.Row / previewPage
	f, ok := d.pages[page]
	if !ok {
		l.SetText("…")
		d.fetch(page)
		return
	}
	r := id.Row - page*previewPage
	if id.Col >= len(f.Columns) || r >= f.Rows() {
		l.SetText("")
		return
	}
	c := f.Columns[id.Col]
	if c.IsMissing(r) {
		l.Importance = widget.LowImportance
		l.SetText("—")
		return
	}
	l.Importance = widget.MediumImportance
	l.SetText(fitText(c.Format(r), d.fit[id.Col]))
}

// newPreviewLabel is a preview cell: a label without Fyne's truncation,
// which shapes the text again on every refresh (most of a scroll frame's
// cost); previewCell shortens long values itself.
func newPreviewLabel() fyne.CanvasObject { return widget.NewLabel("") }

// fitText shortens s to about n characters with an ellipsis. A digit is
// about as wide as an average character, so the cut errs on the short side
// only for wide letters.
func fitText(s string, n int) string {
	if n < 2 || len(s) <= n {
		return s
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// fetch loads one page of rows in the background, keeping only a few pages.
func (d *dataScreen) fetch(page int) {
	if d.asked[page] || d.detail == nil {
		return
	}
	d.asked[page] = true
	ref, epoch := d.detail.Ref, d.epoch
	d.shell.background(func(ctx context.Context) {
		f, err := d.shell.studio.Preview(ctx, ref, page*previewPage, (page+1)*previewPage)
		post(func() {
			if d.epoch != epoch {
				return
			}
			if err != nil {
				d.shell.showError("Could not read the rows of "+ref, err)
				return
			}
			if len(d.pages) >= 16 {
				for p := range d.pages {
					delete(d.pages, p)
					delete(d.asked, p)
					break
				}
			}
			d.pages[page] = f
			d.preview.Refresh()
		})
	})
}

func (d *dataScreen) columnText(row, col int) string {
	c := d.detail.Schema[row]
	switch col {
	case 0:
		return c.Name
	case 1:
		return c.Type
	case 2:
		return c.Role
	case 3:
		return groupDigits(int64(c.Profile.Missing))
	case 4:
		return groupDigits(int64(c.Profile.Distinct))
	case 5:
		return c.Summary()
	default:
		return c.Hint
	}
}

func (d *dataScreen) confirmDelete() {
	if d.detail == nil {
		return
	}
	ref := d.detail.Ref
	dialog.ShowConfirm("Delete "+ref+"?",
		fmt.Sprintf("This removes %s (%s rows) from the workspace. It cannot be undone.", ref, groupDigits(d.detail.Rows)),
		func(ok bool) {
			if !ok {
				return
			}
			d.shell.background(func(ctx context.Context) {
				_, err := d.shell.studio.DeleteDataset(ctx, ref)
				post(func() {
					if err != nil {
						d.shell.showError("Could not delete "+ref, err)
						return
					}
					d.shell.reloadDatasets(nil)
				})
			})
		}, d.shell.win)
}

// selectOption selects v in sel, adding it to the options first if it is
// not one of them (a dataset imported since the list was loaded).
func selectOption(sel *widget.Select, v string) {
	if !slices.Contains(sel.Options, v) {
		sel.SetOptions(append(sel.Options, v))
	}
	sel.SetSelected(v)
}
