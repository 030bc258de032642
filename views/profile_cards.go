package views

import (
	"context"
	"fmt"
	"image"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
	"modelsmith/views/charts"
)

// profileCardSize is the size of one column's card in the grid.
var profileCardSize = fyne.NewSize(250, 214)

// profileCards shows one card per column of the shown dataset: its type and
// role (both changeable), counts, a summary and a mini histogram (numbers) or
// the commonest values (categories, text).
func (d *dataScreen) profileCards(detail *app.DatasetDetail) []fyne.CanvasObject {
	if detail == nil {
		return nil
	}
	cards := make([]fyne.CanvasObject, len(detail.Schema))
	for i, c := range detail.Schema {
		cards[i] = d.profileCard(detail.Ref, c)
	}
	return cards
}

func (d *dataScreen) profileCard(ref string, c app.ColumnInfo) fyne.CanvasObject {
	name := widget.NewLabelWithStyle(c.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	name.Truncation = fyne.TextTruncateEllipsis

	typ := widget.NewSelect(typeChoices(c.Type), nil)
	typ.SetSelected(c.Type)
	typ.OnChanged = func(to string) {
		if to == c.Type {
			return
		}
		typ.SetSelected(c.Type) // until the new version exists
		d.confirmTypeChange(ref, c, to)
	}
	if c.Type == "datetime" {
		typ.Disable() // only numbers, categories and text convert
	}
	role := widget.NewSelect(app.ColumnRoles, nil)
	role.SetSelected(c.Role)
	role.OnChanged = func(to string) {
		if to != c.Role {
			d.setRole(ref, c.Name, to)
		}
	}

	p := c.Profile
	counts := fmt.Sprintf("%s missing · %s distinct", groupDigits(int64(p.Missing)), groupDigits(int64(p.Distinct)))
	if p.Hint != "" {
		counts += " · " + p.Hint
	}
	facts := widget.NewLabel(counts)
	facts.Truncation = fyne.TextTruncateEllipsis
	summary := widget.NewLabel(c.Summary())
	summary.Truncation = fyne.TextTruncateEllipsis
	summary.SizeName = theme.SizeNameCaptionText

	var values []float64
	if p.Histogram != nil {
		for _, n := range p.Histogram.Counts {
			values = append(values, float64(n))
		}
	} else {
		for _, lc := range p.Top {
			values = append(values, float64(lc.Count))
		}
	}
	hist := charts.NewChart(fyne.NewSize(100, 44), func(pal charts.Palette, w, h int) image.Image {
		return charts.Histogram(values, pal, w, h)
	})

	selects := container.NewGridWithColumns(2, typ, role)
	body := container.NewBorder(container.NewVBox(name, selects, facts, summary), nil, nil, nil, hist)
	return widget.NewCard("", "", body)
}

// typeChoices are the types a column of type from can be changed to, itself
// included.
func typeChoices(from string) []string {
	if from == "datetime" {
		return []string{"datetime"}
	}
	return app.ColumnTypes
}

func (d *dataScreen) setRole(ref, column, role string) {
	d.shell.background(func(ctx context.Context) {
		err := d.shell.studio.SetColumnRole(ctx, ref, column, role)
		detail, derr := d.shell.studio.Dataset(ctx, ref)
		post(func() {
			if err != nil {
				d.shell.showError("Could not change the role of "+column, err)
			}
			if derr == nil && d.detail != nil && d.detail.Ref == ref {
				d.detail.Schema = detail.Schema
				d.refreshCards()
				d.columns.Refresh()
				d.colHead.SetText(cardTitle(d.detail))
				d.shell.train.datasetEdited(ref)
			}
		})
	})
}

func (d *dataScreen) confirmTypeChange(ref string, c app.ColumnInfo, to string) {
	msg := fmt.Sprintf("Stored data does not change in place: this makes a new version of the dataset in which %q is %s. "+
		"%s stays as it is, with the models trained on it.", c.Name, to, ref)
	if to == "numeric" {
		msg += " Every value must be a number."
	}
	label := widget.NewLabel(msg)
	label.Wrapping = fyne.TextWrapWord
	dlg := dialog.NewCustomConfirm(fmt.Sprintf("Make %q %s?", c.Name, to), "Make new version", "Cancel", label, func(ok bool) {
		if ok {
			d.changeType(ref, c.Name, to)
		}
	}, d.shell.win)
	dlg.Resize(fyne.NewSize(520, 220))
	dlg.Show()
}

func (d *dataScreen) changeType(ref, column, to string) {
	s := d.shell
	if s.task.busy() {
		s.showError("Another job is running", fmt.Errorf("wait for it to finish or cancel it, then change the type again"))
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	label := fmt.Sprintf("Making %q %s", column, to)
	s.task.start(label, cancel)
	s.background(func(context.Context) {
		defer cancel()
		res, err := s.studio.ChangeColumnType(ctx, ref, column, to, s.task.throttled(label))
		post(func() {
			s.task.finish()
			if err != nil {
				if ctx.Err() == nil {
					s.showError("Could not change the type of "+column, err)
				}
				return
			}
			s.reloadDatasets(func() { s.openDataset(res.Dataset.Ref) })
		})
	})
}

func (d *dataScreen) refreshCards() {
	d.cards.Objects = d.profileCards(d.detail)
	d.cards.Refresh()
}

// cardTitle is how the cards tab names itself for a dataset.
func cardTitle(detail *app.DatasetDetail) string {
	if detail == nil {
		return "Columns"
	}
	var roles []string
	for _, c := range detail.Schema {
		if c.Role != "feature" {
			roles = append(roles, c.Name+": "+c.Role)
		}
	}
	if len(roles) == 0 {
		return fmt.Sprintf("Columns (%d)", len(detail.Schema))
	}
	return fmt.Sprintf("Columns (%d; %s)", len(detail.Schema), strings.Join(roles, ", "))
}

// cardGrid lays cards out in as many equal columns of at least cell.Width
// as the width allows, stretching them to fill it (GridWrap would leave the
// rest of the row empty). Like GridWrap, its MinSize uses the width it was
// last laid out at, which a vertical scroll gives it.
type cardGrid struct {
	cell  fyne.Size
	width float32
}

func (g *cardGrid) columns(width float32) int {
	p := theme.Padding()
	return max(1, int((width+p)/(g.cell.Width+p)))
}

func (g *cardGrid) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	g.width = size.Width
	p := theme.Padding()
	cols := g.columns(size.Width)
	w := (size.Width - p*float32(cols-1)) / float32(cols)
	for i, o := range objs {
		r, c := i/cols, i%cols
		o.Move(fyne.NewPos(float32(c)*(w+p), float32(r)*(g.cell.Height+p)))
		o.Resize(fyne.NewSize(w, g.cell.Height))
	}
}

func (g *cardGrid) MinSize(objs []fyne.CanvasObject) fyne.Size {
	cols := g.columns(g.width)
	rows := (len(objs) + cols - 1) / cols
	if rows == 0 {
		return fyne.NewSize(g.cell.Width, 0)
	}
	return fyne.NewSize(g.cell.Width, float32(rows)*g.cell.Height+float32(rows-1)*theme.Padding())
}
