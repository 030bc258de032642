package charts

import (
	"image"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// MinInterval is the least time between two renders of a Chart: at most
// about four a second, however often Update is called.
const MinInterval = 250 * time.Millisecond

// Do runs f on the UI goroutine: fyne.Do. A delayed redraw reaches the
// widget through it; tests that guard their UI state with a lock of their
// own replace it with a version that takes the lock.
var Do = fyne.Do

// clock is the time source of the throttle; tests replace it.
type clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func())
}

type realClock struct{}

func (realClock) Now() time.Time                      { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) { time.AfterFunc(d, f) }

// Chart is a widget showing an image drawn by a function of the theme's
// palette and the widget's size in device pixels. It draws at the canvas
// scale, so it stays crisp on HiDPI screens; redraws when resized or when the
// theme changes; and, told by Update that its data changed, redraws at most
// once per MinInterval.
//
// Every method, and the draw function, runs on the UI goroutine: draw may read
// state the view changes there without locks. Drawing an 800×400 line chart
// takes about 12 ms on one core (BenchmarkRender), so four redraws a second
// cost the UI goroutine about 5%.
type Chart struct {
	widget.BaseWidget

	draw  func(p Palette, w, h int) image.Image
	min   fyne.Size
	img   *canvas.Image
	clock clock

	last    time.Time // when the last render happened
	pending bool      // a render is scheduled
	drawnW  int       // pixel size of the image shown
	drawnH  int
	renders int // renders so far (tests count them)
}

// NewChart returns a chart that is at least minSize and shows what draw
// returns. draw gets the palette of the widget's theme and the pixel size to
// fill; it should return an image of that size (any other is stretched).
func NewChart(minSize fyne.Size, draw func(p Palette, w, h int) image.Image) *Chart {
	c := &Chart{draw: draw, min: minSize, clock: realClock{}}
	c.img = canvas.NewImageFromImage(nil)
	c.img.FillMode = canvas.ImageFillStretch
	c.img.ScaleMode = canvas.ImageScaleSmooth
	c.ExtendBaseWidget(c)
	return c
}

// Update says the chart's data changed: it redraws now, or, if it drew less
// than MinInterval ago, once when the interval is over. Calls in between
// coalesce into that one redraw.
func (c *Chart) Update() {
	if c.pending {
		return
	}
	wait := MinInterval - c.clock.Now().Sub(c.last)
	if wait <= 0 {
		c.render()
		return
	}
	c.pending = true
	c.clock.AfterFunc(wait, func() {
		Do(func() {
			c.pending = false
			c.render()
		})
	})
}

// Renders is how many times the chart has drawn itself.
func (c *Chart) Renders() int { return c.renders }

// Image is the image shown now (nil before the first render).
func (c *Chart) Image() image.Image { return c.img.Image }

// pixelSize is the widget's size in device pixels and the scale between.
func (c *Chart) pixelSize() (w, h int, scale float64) {
	size := c.Size()
	if size.Width <= 0 || size.Height <= 0 {
		return 0, 0, 1
	}
	scale = 1
	if app := fyne.CurrentApp(); app != nil {
		if cnv := app.Driver().CanvasForObject(c); cnv != nil {
			// PixelCoordinateForPosition includes the texture scale of
			// Retina screens, which Canvas.Scale leaves out.
			px, _ := cnv.PixelCoordinateForPosition(fyne.NewPos(1000, 0))
			if px > 0 {
				scale = float64(px) / 1000
			}
		}
	}
	return int(float64(size.Width)*scale + 0.5), int(float64(size.Height)*scale + 0.5), scale
}

func (c *Chart) render() {
	w, h, scale := c.pixelSize()
	if w < 2 || h < 2 {
		return // not laid out yet: Layout asks again
	}
	variant := theme.VariantDark
	if a := fyne.CurrentApp(); a != nil {
		variant = a.Settings().ThemeVariant()
	}
	p := PaletteFromTheme(c.Theme(), variant)
	p.Scale = scale
	c.img.Image = c.draw(p, w, h)
	c.drawnW, c.drawnH = w, h
	c.last = c.clock.Now()
	c.renders++
	c.img.Refresh()
}

// CreateRenderer is part of fyne.Widget.
func (c *Chart) CreateRenderer() fyne.WidgetRenderer {
	return &chartRenderer{c: c}
}

type chartRenderer struct{ c *Chart }

func (r *chartRenderer) Layout(size fyne.Size) {
	r.c.img.Resize(size)
	if w, h, _ := r.c.pixelSize(); w != r.c.drawnW || h != r.c.drawnH {
		r.c.Update()
	}
}

func (r *chartRenderer) MinSize() fyne.Size           { return r.c.min }
func (r *chartRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.c.img} }
func (r *chartRenderer) Destroy()                     {}

// Refresh follows theme changes (Fyne refreshes every widget then) and
// explicit Refresh calls: both redraw, throttled.
func (r *chartRenderer) Refresh() { r.c.Update() }
