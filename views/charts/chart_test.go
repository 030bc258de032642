package charts

import (
	"image"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// fakeClock moves only when told; AfterFunc callbacks run when Advance
// passes their time.
type fakeClock struct {
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	f  func()
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) AfterFunc(d time.Duration, f func()) {
	c.timers = append(c.timers, fakeTimer{c.now.Add(d), f})
}

func (c *fakeClock) Advance(d time.Duration) {
	c.now = c.now.Add(d)
	var keep []fakeTimer
	var due []func()
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			due = append(due, t.f)
		} else {
			keep = append(keep, t)
		}
	}
	c.timers = keep
	for _, f := range due {
		f()
	}
}

func newTestChart(t *testing.T) (*Chart, *fakeClock, *[]Palette) {
	t.Helper()
	var seen []Palette
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	c := NewChart(fyne.NewSize(200, 100), func(p Palette, w, h int) image.Image {
		seen = append(seen, p)
		return Render(Spec{Series: []Series{{X: []float64{0, 1}, Y: []float64{0, 1}}}}, p, w, h)
	})
	c.clock = clk
	return c, clk, &seen
}

func TestChartThrottle(t *testing.T) {
	test.NewTempApp(t)
	c, clk, _ := newTestChart(t)
	w := test.NewTempWindow(t, container.NewStack(c))
	w.Resize(fyne.NewSize(300, 200))
	base := c.Renders()
	if base == 0 {
		t.Fatalf("not drawn when laid out")
	}

	// A burst of updates within one interval: at most one render now and
	// one when the interval ends.
	clk.Advance(time.Second)
	for range 1000 {
		c.Update()
		clk.Advance(time.Millisecond)
	}
	// 1000 updates over one second: at most one render per 250 ms.
	got := c.Renders() - base
	if got < 3 || got > 5 {
		t.Errorf("1000 updates over 1 s drew %d times, want 3 to 5", got)
	}
	// The last update is never lost: it is drawn when its interval ends.
	before := c.Renders()
	c.Update()
	clk.Advance(MinInterval)
	if c.Renders() != before+1 {
		t.Errorf("the final update was drawn %d times after its interval, want 1", c.Renders()-before)
	}
	clk.Advance(10 * time.Second)
	if c.Renders() != before+1 {
		t.Errorf("drew without an update")
	}
}

func TestChartSizeAndTheme(t *testing.T) {
	a := test.NewTempApp(t)
	c, clk, seen := newTestChart(t)
	w := test.NewTempWindow(t, container.NewStack(c))
	w.Resize(fyne.NewSize(300, 200))
	clk.Advance(time.Second)

	img := c.Image()
	if img == nil {
		t.Fatal("no image after layout")
	}
	want := c.Size()
	if img.Bounds().Dx() != int(want.Width+0.5) || img.Bounds().Dy() != int(want.Height+0.5) {
		t.Errorf("image %v for a widget of %v (scale 1)", img.Bounds().Size(), want)
	}

	// A resize draws at the new size.
	w.Resize(fyne.NewSize(400, 300))
	clk.Advance(time.Second)
	if got := c.Image().Bounds().Dx(); got != int(c.Size().Width+0.5) {
		t.Errorf("after resize the image is %d wide, the widget %v", got, c.Size().Width)
	}

	// A theme change redraws with the new palette.
	a.Settings().SetTheme(theme.DarkTheme())
	clk.Advance(time.Second)
	last := (*seen)[len(*seen)-1]
	dark := PaletteFromTheme(theme.DefaultTheme(), theme.VariantDark)
	if !near(last.Background, dark.Background, 1) {
		t.Errorf("after switching to the dark theme the chart drew on %v, want %v", last.Background, dark.Background)
	}
}

// On a HiDPI canvas the chart draws with the canvas's pixels, not the
// widget's units: twice as many at scale 2, with a palette saying so.
func TestChartHiDPI(t *testing.T) {
	test.NewTempApp(t)
	c, clk, seen := newTestChart(t)
	w := test.NewTempWindow(t, container.NewStack(c))
	w.Canvas().(test.WindowlessCanvas).SetScale(2)
	w.Resize(fyne.NewSize(300, 200))
	c.Refresh()
	clk.Advance(time.Second)
	size := c.Size()
	img := c.Image()
	if img == nil {
		t.Fatal("no image")
	}
	if got, want := img.Bounds().Dx(), int(2*size.Width+0.5); got != want {
		t.Errorf("image %d pixels wide for a widget %.0f units wide at scale 2, want %d", got, size.Width, want)
	}
	if p := (*seen)[len(*seen)-1]; p.Scale != 2 {
		t.Errorf("palette scale %v, want 2", p.Scale)
	}
}
