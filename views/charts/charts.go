// Package charts draws Modelsmith's charts — learning curves, ROC and PR
// curves, residuals, importance bars, confusion matrices, mini histograms —
// with gonum/plot, in the colours and font of the current Fyne theme (no
// white boxes on a dark theme), at the pixel size and scale of the canvas
// they are shown on. Chart is the live widget: it re-renders at most about
// four times a second however often it is told its data changed.
//
// charts imports gonum/plot, Fyne and x/image only; it must not import app, storage or
// ml: callers hand it plain numbers.
package charts

import (
	"fmt"
	"image"
	"image/color"
	imagedraw "image/draw"
	"math"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"golang.org/x/image/font/opentype"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Palette is what a chart takes from the theme: colours, font and scale.
type Palette struct {
	Background, Foreground, Grid color.Color
	// Series colours, used in turn; the first is the theme's primary colour.
	Series []color.Color
	// Typeface names a font registered by PaletteFromTheme; "" or an unknown
	// name means Liberation Sans.
	Typeface string
	// TextSize is the size of axis labels in Fyne units (points at scale 1);
	// 0 means 13.
	TextSize float64
	// Scale is the canvas scale (device pixels per Fyne unit); 0 means 1.
	// Render's w and h are device pixels, so text and lines are Scale times
	// as many pixels: a chart drawn for a HiDPI canvas is crisp, not blown up.
	Scale float64
}

// PaletteFromTheme reads th's colours and text font for variant v.
func PaletteFromTheme(th fyne.Theme, v fyne.ThemeVariant) Palette {
	bg := th.Color(theme.ColorNameBackground, v)
	fg := th.Color(theme.ColorNameForeground, v)
	p := Palette{
		Background: bg,
		Foreground: fg,
		Grid:       mix(bg, fg, 0.14),
		Series:     append([]color.Color{th.Color(theme.ColorNamePrimary, v)}, seriesColors(bg)...),
		TextSize:   float64(th.Size(theme.SizeNameText)) - 1,
		Scale:      1,
	}
	p.Typeface = registerFont(th.Font(fyne.TextStyle{}), th.Font(fyne.TextStyle{Bold: true}))
	return p
}

// seriesColors follow the primary colour: the Okabe–Ito set, which stays
// apart for colour-blind readers, without the one that vanishes into bg.
func seriesColors(bg color.Color) []color.Color {
	okabeIto := []color.Color{
		color.NRGBA{0xE6, 0x9F, 0x00, 0xff}, // orange
		color.NRGBA{0x00, 0x9E, 0x73, 0xff}, // bluish green
		color.NRGBA{0xCC, 0x79, 0xA7, 0xff}, // reddish purple
		color.NRGBA{0x56, 0xB4, 0xE9, 0xff}, // sky blue
		color.NRGBA{0xD5, 0x5E, 0x00, 0xff}, // vermillion
		color.NRGBA{0x00, 0x72, 0xB2, 0xff}, // blue
		color.NRGBA{0xF0, 0xE4, 0x42, 0xff}, // yellow
	}
	var out []color.Color
	for _, c := range okabeIto {
		if contrast(c, bg) >= 1.5 {
			out = append(out, c)
		}
	}
	return out
}

// Fonts registered from themes, by typeface name; Liberation is the fallback.
var (
	fontMu    sync.Mutex
	fontCache = font.NewCache(liberation.Collection())
	fontNames = map[string]bool{}
	handler   = text.Plain{Fonts: fontCache}
)

const fallbackTypeface = "Liberation"

// registerFont adds a theme's regular and bold fonts to the cache once and
// returns their typeface name, or "" when they cannot be parsed (a font the
// rasteriser does not read is drawn in Liberation Sans instead).
func registerFont(regular, bold fyne.Resource) string {
	if regular == nil {
		return ""
	}
	name := "fyne:" + regular.Name()
	fontMu.Lock()
	defer fontMu.Unlock()
	if ok, seen := fontNames[name]; seen {
		if ok {
			return name
		}
		return ""
	}
	reg, err := opentype.Parse(regular.Content())
	if err != nil {
		fontNames[name] = false
		return ""
	}
	coll := font.Collection{{Font: font.Font{Typeface: font.Typeface(name)}, Face: reg}}
	if bold != nil {
		if b, err := opentype.Parse(bold.Content()); err == nil {
			coll = append(coll, font.Face{Font: font.Font{Typeface: font.Typeface(name), Weight: 700}, Face: b})
		}
	}
	fontCache.Add(coll)
	fontNames[name] = true
	return name
}

func (p Palette) scale() float64 {
	if p.Scale <= 0 {
		return 1
	}
	return p.Scale
}

func (p Palette) textSize() vg.Length {
	if p.TextSize <= 0 {
		return 13
	}
	return vg.Length(p.TextSize)
}

func (p Palette) font(size vg.Length, bold bool) font.Font {
	f := font.Font{Typeface: font.Typeface(p.Typeface), Size: size}
	if p.Typeface == "" {
		f.Typeface, f.Variant = fallbackTypeface, "Sans"
	}
	if bold {
		f.Weight = 700
	}
	return f
}

func (p Palette) series(i int) color.Color {
	if len(p.Series) == 0 {
		return p.Foreground
	}
	return p.Series[i%len(p.Series)]
}

// newPlot is a plot.Plot styled with p: background, text colour and font,
// axis and tick colours.
func newPlot(title, xLabel, yLabel string, p Palette) *plot.Plot {
	pl := plot.New()
	pl.TextHandler = handler
	pl.BackgroundColor = p.Background
	ts := p.textSize()
	style := func(s *text.Style, size vg.Length, bold bool) {
		s.Color, s.Font, s.Handler = p.Foreground, p.font(size, bold), handler
	}
	pl.Title.Text = title
	style(&pl.Title.TextStyle, ts+1, true)
	pl.Title.Padding = ts / 2
	for _, ax := range []*plot.Axis{&pl.X, &pl.Y} {
		style(&ax.Label.TextStyle, ts, false)
		style(&ax.Tick.Label, ts-2, false)
		ax.Color = mix(p.Background, p.Foreground, 0.5)
		ax.LineStyle.Color = ax.Color
		ax.Tick.LineStyle.Color = ax.Color
		ax.Padding = 0
		ax.Tick.Marker = tidyTicks{}
	}
	pl.X.Label.Text, pl.Y.Label.Text = xLabel, yLabel
	style(&pl.Legend.TextStyle, ts-1, false)
	pl.Legend.Top = true
	pl.Legend.Padding = 2
	pl.Legend.XOffs, pl.Legend.YOffs = -ts/2, -ts/4
	return pl
}

// tidyTicks are gonum's default ticks with trailing zeros dropped from their
// labels ("25" and "0.4", not "25.00" and "0.40").
type tidyTicks struct{}

func (tidyTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i, t := range ticks {
		if strings.Contains(t.Label, ".") && !strings.ContainsAny(t.Label, "eE") {
			t.Label = strings.TrimRight(strings.TrimRight(t.Label, "0"), ".")
			if t.Label == "-0" {
				t.Label = "0"
			}
			ticks[i] = t
		}
	}
	return ticks
}

// drawPlot renders pl to a w×h image at p's scale. The plot is inset by a few
// pixels so that axis labels do not touch the image edge.
func drawPlot(pl *plot.Plot, p Palette, w, h int) image.Image {
	return drawPlotTop(pl, p, w, h, 0)
}

// drawPlotTop is drawPlot leaving all but the top maxPts points of the
// image empty (0: no limit).
func drawPlotTop(pl *plot.Plot, p Palette, w, h int, maxPts vg.Length) image.Image {
	if w < 1 {
		w = 1
	}
	if h < 1 {
		h = 1
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	dpi := int(math.Round(72 * p.scale()))
	c := vgimg.NewWith(vgimg.UseImage(img), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	// vgimg fills the image white: paint the theme background over all of
	// it with a plain copy (filling through the rasteriser cost two thirds
	// of a render), then draw the plot, without a background of its own,
	// inside a small margin.
	out := c.Image()
	imagedraw.Draw(out, out.Bounds(), image.NewUniform(p.Background), image.Point{}, imagedraw.Src)
	pl.BackgroundColor = nil
	m := p.textSize() / 2
	area := draw.Crop(dc, m, -m, m, -m)
	if maxPts > 0 && area.Max.Y-area.Min.Y > maxPts {
		area.Min.Y = area.Max.Y - maxPts
	}
	pl.Draw(area)
	return c.Image()
}

// Series is one named line or point set; X and Y have the same length.
type Series struct {
	Name string
	X, Y []float64
}

// Spec describes a line, scatter or step chart.
type Spec struct {
	Title, XLabel, YLabel string
	Series                []Series
	// Kind is "line" (the default), "scatter" or "step".
	Kind string
	// YMin and YMax fix the y range, XMin and XMax the x range; nil fits
	// the data.
	YMin, YMax, XMin, XMax *float64
	// Points marks every point of a line (few points: a reliability
	// diagram's bins).
	Points bool
	// Diagonal adds the y = x reference line (ROC curves, predicted against
	// actual) and puts the legend bottom right, out of its way.
	Diagonal bool
	// ZeroLine adds the y = 0 reference line (residuals).
	ZeroLine bool
	// LegendBottomLeft puts the legend where precision–recall curves
	// leave room: they start high on the left and fall on the right.
	LegendBottomLeft bool
}

// Render draws spec as a w×h pixel image. Points whose X or Y is NaN or
// infinite are skipped (learning curves record NaN where a value was not
// computed); a spec without any point draws its axes and title only.
func Render(spec Spec, p Palette, w, h int) image.Image {
	pl := newPlot(spec.Title, spec.XLabel, spec.YLabel, p)
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal.Color = p.Grid, p.Grid
	pl.Add(grid)

	xmin, xmax, ymin, ymax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	type entry struct {
		name  string
		thumb plot.Thumbnailer
	}
	var legend []entry
	for i, s := range spec.Series {
		xys := finitePoints(s)
		if len(xys) == 0 {
			continue
		}
		for _, pt := range xys {
			xmin, xmax = math.Min(xmin, pt.X), math.Max(xmax, pt.X)
			ymin, ymax = math.Min(ymin, pt.Y), math.Max(ymax, pt.Y)
		}
		col := p.series(i)
		var thumb plot.Thumbnailer
		switch spec.Kind {
		case "scatter":
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				continue // unreachable: the points are finite
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: withAlpha(col, 0xb0), Radius: 1.8, Shape: draw.CircleGlyph{}}
			pl.Add(sc)
			thumb = sc
		default:
			ln, err := plotter.NewLine(xys)
			if err != nil {
				continue
			}
			ln.LineStyle = draw.LineStyle{Color: col, Width: 1.8}
			if spec.Kind == "step" {
				ln.StepStyle = plotter.PostStep
			}
			pl.Add(ln)
			thumb = ln
			if spec.Points {
				if sc, err := plotter.NewScatter(xys); err == nil {
					sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: 2.6, Shape: draw.CircleGlyph{}}
					pl.Add(sc)
				}
			}
		}
		if s.Name != "" {
			legend = append(legend, entry{s.Name, thumb})
		}
	}
	if len(legend) > 1 { // one series needs no legend: the title says what it is
		for _, e := range legend {
			pl.Legend.Add(e.name, e.thumb)
		}
	}
	if spec.ZeroLine && !math.IsInf(xmin, 1) {
		ref, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: 0}, {X: xmax, Y: 0}})
		if err == nil {
			ref.LineStyle = draw.LineStyle{Color: mix(p.Background, p.Foreground, 0.45), Width: 1,
				Dashes: []vg.Length{4, 3}}
			pl.Add(ref)
		}
	}
	if math.IsInf(xmin, 1) {
		pl.X.Min, pl.X.Max, pl.Y.Min, pl.Y.Max = 0, 1, 0, 1
	} else if spec.Kind == "scatter" {
		// Room around the cloud, so that the extreme points are not cut in
		// half by the axes.
		dx, dy := 0.03*(pl.X.Max-pl.X.Min), 0.03*(pl.Y.Max-pl.Y.Min)
		pl.X.Min, pl.X.Max, pl.Y.Min, pl.Y.Max = pl.X.Min-dx, pl.X.Max+dx, pl.Y.Min-dy, pl.Y.Max+dy
	}
	if spec.YMin != nil {
		pl.Y.Min = *spec.YMin
	}
	if spec.YMax != nil {
		pl.Y.Max = *spec.YMax
	}
	if spec.XMin != nil {
		pl.X.Min = *spec.XMin
	}
	if spec.XMax != nil {
		pl.X.Max = *spec.XMax
	}
	if pl.Y.Min >= pl.Y.Max { // a constant series: give it some room
		pl.Y.Min, pl.Y.Max = pl.Y.Min-0.5, pl.Y.Max+0.5
	}
	if pl.X.Min >= pl.X.Max {
		pl.X.Min, pl.X.Max = pl.X.Min-0.5, pl.X.Max+0.5
	}
	if spec.Diagonal && !math.IsInf(xmin, 1) {
		// Across the whole square both axes share, drawn after the ranges
		// are final so that it does not stretch them.
		lo, hi := math.Max(pl.X.Min, pl.Y.Min), math.Min(pl.X.Max, pl.Y.Max)
		if ref, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}}); err == nil && lo < hi {
			ref.LineStyle = draw.LineStyle{Color: mix(p.Background, p.Foreground, 0.45), Width: 1,
				Dashes: []vg.Length{4, 3}}
			pl.Add(ref)
		}
		pl.Legend.Top = false
	}
	if spec.LegendBottomLeft {
		pl.Legend.Top, pl.Legend.Left = false, true
		pl.Legend.XOffs = -pl.Legend.XOffs // in from the left edge
	}
	return drawPlot(pl, p, w, h)
}

func finitePoints(s Series) plotter.XYs {
	n := min(len(s.X), len(s.Y))
	xys := make(plotter.XYs, 0, n)
	for i := range n {
		x, y := s.X[i], s.Y[i]
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		xys = append(xys, plotter.XY{X: x, Y: y})
	}
	return xys
}

// Bars draws horizontal bars, the first label at the top (importance). Long
// labels are shortened with an ellipsis; non-finite values draw as zero.
func Bars(title string, labels []string, values []float64, p Palette, w, h int) image.Image {
	pl := newPlot(title, "", "", p)
	n := min(len(labels), len(values))
	vals := make(plotter.Values, n)
	names := make([]string, n)
	for i := range n {
		// gonum puts the first value at the bottom: reverse.
		v := values[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0
		}
		vals[n-1-i] = v
		names[n-1-i] = shorten(labels[i], 28)
	}
	if n == 0 {
		pl.X.Min, pl.X.Max, pl.Y.Min, pl.Y.Max = 0, 1, 0, 1
		return drawPlot(pl, p, w, h)
	}
	grid := plotter.NewGrid()
	grid.Vertical.Color, grid.Horizontal = p.Grid, draw.LineStyle{}
	pl.Add(grid)
	rowPts := vg.Length(float64(h)/p.scale()) / vg.Length(n+2)
	// Bar thickness in points: most of each row's share of the height, but
	// no fatter than a line of text, so that three bars do not look like
	// walls.
	bars, err := plotter.NewBarChart(vals, min(rowPts*0.7, 2*p.textSize()))
	if err == nil {
		bars.Horizontal = true
		bars.Color = p.series(0)
		bars.LineStyle.Width = 0
		pl.Add(bars)
	}
	pl.NominalY(names...)
	pl.Y.Tick.Label.Font.Size = min(p.textSize()-1, max(rowPts*0.9, 6))
	if pl.X.Min > 0 {
		pl.X.Min = 0
	}
	if pl.X.Max <= pl.X.Min {
		pl.X.Max = pl.X.Min + 1
	}
	pl.Y.Min, pl.Y.Max = -0.6, float64(n)-0.4
	// A few bars keep to the top instead of spreading over a tall image.
	ts := p.textSize()
	return drawPlotTop(pl, p, w, h, vg.Length(n)*3*ts+6*ts)
}

// Heatmap draws m (rows × columns) as coloured cells with the value written
// in each, the first row at the top: a confusion matrix with actual classes
// as rows and predicted ones as columns.
func Heatmap(title string, rowLabels, colLabels []string, m [][]float64, p Palette, w, h int) image.Image {
	return HeatmapAxes(title, "", "", rowLabels, colLabels, m, p, w, h)
}

// HeatmapAxes is Heatmap with axis titles (say, "Predicted" and "Actual").
func HeatmapAxes(title, xLabel, yLabel string, rowLabels, colLabels []string, m [][]float64, p Palette, w, h int) image.Image {
	pl := newPlot(title, xLabel, yLabel, p)
	rows, cols := len(m), 0
	for _, r := range m {
		cols = max(cols, len(r))
	}
	if rows == 0 || cols == 0 {
		pl.X.Min, pl.X.Max, pl.Y.Min, pl.Y.Max = 0, 1, 0, 1
		return drawPlot(pl, p, w, h)
	}
	cells := &heatCells{m: m, rows: rows, cols: cols, p: p}
	pl.Add(cells)
	xs := make([]string, cols)
	for j := range xs {
		if j < len(colLabels) {
			xs[j] = shorten(colLabels[j], 14)
		}
	}
	ys := make([]string, rows)
	for i := range ys {
		if i < len(rowLabels) {
			ys[rows-1-i] = shorten(rowLabels[i], 18)
		}
	}
	pl.NominalX(xs...)
	pl.NominalY(ys...)
	pl.X.Min, pl.X.Max = -0.5, float64(cols)-0.5
	pl.Y.Min, pl.Y.Max = -0.5, float64(rows)-0.5
	if cols > 8 { // keep long class names from running into each other
		pl.X.Tick.Label.Rotation = math.Pi / 4
		pl.X.Tick.Label.XAlign, pl.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	return drawPlot(pl, p, w, h)
}

// heatCells draws the cells of a Heatmap and their values.
type heatCells struct {
	m          [][]float64
	rows, cols int
	p          Palette
}

func (hc *heatCells) Plot(c draw.Canvas, pl *plot.Plot) {
	trX, trY := pl.Transforms(&c)
	hi := 0.0
	for _, r := range hc.m {
		for _, v := range r {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				hi = math.Max(hi, math.Abs(v))
			}
		}
	}
	base := hc.p.series(0)
	cellW := trX(0.5) - trX(-0.5)
	cellH := trY(0.5) - trY(-0.5)
	size := min(hc.p.textSize(), min(cellW, cellH)*0.4)
	for i, r := range hc.m {
		y := float64(hc.rows - 1 - i)
		for j := range hc.cols {
			v := math.NaN()
			if j < len(r) {
				v = r[j]
			}
			share := 0.0
			if hi > 0 && !math.IsNaN(v) {
				share = math.Abs(v) / hi
			}
			fill := mix(hc.p.Background, base, 0.08+0.92*share)
			rect := vg.Rectangle{
				Min: vg.Point{X: trX(float64(j) - 0.5), Y: trY(y - 0.5)},
				Max: vg.Point{X: trX(float64(j) + 0.5), Y: trY(y + 0.5)},
			}
			c.SetColor(fill)
			c.Fill(rect.Path())
			c.SetLineStyle(draw.LineStyle{Color: hc.p.Background, Width: 1})
			c.Stroke(rect.Path())
			if size < 5 || math.IsNaN(v) {
				continue
			}
			ink := hc.p.Foreground
			if contrast(ink, fill) < 3 {
				ink = hc.p.Background
			}
			c.FillText(text.Style{Color: ink, Font: hc.p.font(size, true), Handler: handler,
				XAlign: draw.XCenter, YAlign: draw.YCenter},
				vg.Point{X: (rect.Min.X + rect.Max.X) / 2, Y: (rect.Min.Y + rect.Max.Y) / 2}, formatValue(v))
		}
	}
}

func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.3g", v)
}

// Histogram draws counts as a row of vertical bars filling a w×h image,
// without axes or text: the mini histogram of a column profile card.
func Histogram(counts []float64, p Palette, w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	fillRect(img, img.Bounds(), p.Background)
	hi := 0.0
	for _, c := range counts {
		if !math.IsNaN(c) && !math.IsInf(c, 0) {
			hi = math.Max(hi, c)
		}
	}
	n := len(counts)
	if n == 0 || hi <= 0 {
		return img
	}
	gap := 1
	if float64(w)/float64(n) < 3 {
		gap = 0
	}
	col := p.series(0)
	for i, c := range counts {
		if math.IsNaN(c) || c <= 0 {
			continue
		}
		x0 := i * w / n
		x1 := (i+1)*w/n - gap
		if x1 <= x0 {
			x1 = x0 + 1
		}
		bh := int(math.Round(math.Min(c, hi) / hi * float64(h)))
		bh = max(bh, 1) // a non-empty bin is never invisible
		fillRect(img, image.Rect(x0, h-bh, x1, h), col)
	}
	return img
}

func fillRect(img *image.RGBA, r image.Rectangle, c color.Color) {
	imagedraw.Draw(img, r, image.NewUniform(c), image.Point{}, imagedraw.Src)
}

func shorten(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// mix blends a towards b by t in [0, 1], opaque.
func mix(a, b color.Color, t float64) color.Color {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	f := func(x, y uint32) uint8 {
		return uint8(math.Round((float64(x)*(1-t) + float64(y)*t) / 257))
	}
	return color.NRGBA{f(ar, br), f(ag, bg), f(ab, bb), 0xff}
}

func withAlpha(c color.Color, a uint8) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	n.A = a
	return n
}

// contrast is the WCAG contrast ratio of two colours (1 to 21).
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	lin := func(v uint32) float64 {
		x := float64(v) / 0xffff
		if x <= 0.03928 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// Blank is a w×h image of the background colour: a chart with nothing to
// show yet.
func Blank(p Palette, w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
	fillRect(img, img.Bounds(), p.Background)
	return img
}
