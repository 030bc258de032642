package charts

import (
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/theme"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs in testdata")

func palettes() map[string]Palette {
	return map[string]Palette{
		"light": PaletteFromTheme(theme.DefaultTheme(), theme.VariantLight),
		"dark":  PaletteFromTheme(theme.DefaultTheme(), theme.VariantDark),
	}
}

func ptr(v float64) *float64 { return &v }

// charts are the drawings under test, each at a fixed size.
func goldenCharts() map[string]func(p Palette) image.Image {
	rng := rand.New(rand.NewPCG(1, 2))
	var actual, predicted []float64
	for range 300 {
		a := rng.Float64() * 100
		actual = append(actual, a)
		predicted = append(predicted, a+rng.NormFloat64()*8)
	}
	var steps, train, valid []float64
	for i := range 60 {
		steps = append(steps, float64(i))
		train = append(train, 0.7*math.Exp(-float64(i)/15)+0.1)
		v := 0.7*math.Exp(-float64(i)/12) + 0.18 + 0.002*float64(i)
		if i%10 == 3 {
			v = math.NaN() // not computed at this step: skipped
		}
		valid = append(valid, v)
	}
	return map[string]func(p Palette) image.Image{
		"curves": func(p Palette) image.Image {
			return Render(Spec{Title: "Learning curve", XLabel: "round", YLabel: "logloss", Series: []Series{
				{Name: "train", X: steps, Y: train}, {Name: "validation", X: steps, Y: valid}}}, p, 480, 300)
		},
		"roc": func(p Palette) image.Image {
			return Render(Spec{Title: "ROC (AUC 0.91)", XLabel: "false positive rate", YLabel: "true positive rate",
				Kind: "step", Diagonal: true, YMin: ptr(0), YMax: ptr(1), Series: []Series{
					{Name: "model", X: []float64{0, 0, 0.1, 0.1, 0.3, 0.3, 0.6, 1}, Y: []float64{0, 0.4, 0.4, 0.7, 0.7, 0.9, 1, 1}}}}, p, 360, 300)
		},
		"calibration": func(p Palette) image.Image {
			zero, one := 0.0, 1.0
			return Render(Spec{Title: "Calibration", XLabel: "predicted", YLabel: "observed", Diagonal: true, Points: true,
				XMin: &zero, XMax: &one, YMin: &zero, YMax: &one, Series: []Series{{Name: "model",
					X: []float64{0.05, 0.15, 0.33, 0.5, 0.71, 0.9}, Y: []float64{0.02, 0.2, 0.3, 0.55, 0.66, 0.93}}}}, p, 320, 300)
		},
		"scatter": func(p Palette) image.Image {
			return Render(Spec{Title: "Predicted against actual", XLabel: "actual", YLabel: "predicted", Kind: "scatter",
				Diagonal: true, Series: []Series{{X: actual, Y: predicted}}}, p, 400, 320)
		},
		"residuals": func(p Palette) image.Image {
			res := make([]float64, len(actual))
			for i := range actual {
				res[i] = actual[i] - predicted[i]
			}
			return Render(Spec{Title: "Residuals", XLabel: "predicted", YLabel: "actual - predicted", Kind: "scatter",
				ZeroLine: true, Series: []Series{{X: predicted, Y: res}}}, p, 400, 260)
		},
		"bars": func(p Palette) image.Image {
			return Bars("Permutation importance", []string{"capital_gain", "relationship", "education_num",
				"a very long feature name that gets shortened", "age", "hours_per_week"},
				[]float64{0.081, 0.05, 0.034, 0.02, 0.012, -0.001}, p, 420, 260)
		},
		"bars_few": func(p Palette) image.Image {
			return Bars("Three columns, a tall chart", []string{"x", "noise", "colour"}, []float64{0.4, 0.01, 0}, p, 420, 400)
		},
		"heatmap": func(p Palette) image.Image {
			return HeatmapAxes("Confusion matrix", "predicted", "actual", []string{"setosa", "versicolor", "virginica"},
				[]string{"setosa", "versicolor", "virginica"}, [][]float64{{15, 0, 0}, {0, 14, 1}, {0, 2, 13}}, p, 380, 320)
		},
		"histogram": func(p Palette) image.Image {
			return Histogram([]float64{1, 4, 9, 16, 25, 19, 12, 6, 0, 2}, p, 120, 40)
		},
		"empty": func(p Palette) image.Image {
			return Render(Spec{Title: "No points yet"}, p, 300, 200)
		},
	}
}

func TestGolden(t *testing.T) {
	for pname, p := range palettes() {
		for cname, draw := range goldenCharts() {
			t.Run(cname+"_"+pname, func(t *testing.T) {
				img := draw(p)
				path := filepath.Join("testdata", cname+"_"+pname+".png")
				if *update {
					writePNG(t, path, img)
					return
				}
				want := readPNG(t, path)
				if diff := pixelDiff(img, want); diff > 0.005 {
					writePNG(t, filepath.Join(t.TempDir(), "got.png"), img)
					t.Errorf("%s: %.2f%% of pixels differ from the golden (run go test -update to accept)", path, 100*diff)
				}
			})
		}
	}
}

// TestBackground: every drawing is filled with the theme's background, so a
// dark theme shows no white box, and the text is drawn in the foreground.
func TestBackground(t *testing.T) {
	for pname, p := range palettes() {
		for cname, draw := range goldenCharts() {
			img := draw(p)
			b := img.Bounds()
			corners := []image.Point{b.Min, {b.Max.X - 1, b.Min.Y}, {b.Min.X, b.Max.Y - 1}, {b.Max.X - 1, b.Max.Y - 1}}
			if cname == "histogram" {
				corners = corners[:2] // its bars reach the bottom edge
			}
			for _, pt := range corners {
				if !near(img.At(pt.X, pt.Y), p.Background, 2) {
					t.Errorf("%s %s: pixel %v is %v, not the background %v", cname, pname, pt, img.At(pt.X, pt.Y), p.Background)
				}
			}
			if cname == "histogram" {
				continue
			}
			if !hasColor(img, p.Foreground) {
				t.Errorf("%s %s: no text in the foreground colour %v", cname, pname, p.Foreground)
			}
		}
	}
}

// TestScale: at scale 2 an image twice the size shows the same chart, not
// a smaller one: the text is as many times taller.
func TestScale(t *testing.T) {
	p := palettes()["light"]
	spec := Spec{Title: "Title", Series: []Series{{X: []float64{0, 1}, Y: []float64{0, 1}}}}
	one := Render(spec, p, 300, 200)
	p.Scale = 2
	two := Render(spec, p, 600, 400)
	if two.Bounds().Dx() != 600 || two.Bounds().Dy() != 400 {
		t.Fatalf("size %v, want 600×400", two.Bounds())
	}
	h1, h2 := inkRows(one, p), inkRows(two, p)
	if h2 < 2*h1-3 || h2 > 2*h1+3 {
		t.Errorf("title %d rows tall at scale 1, %d at scale 2; want about twice", h1, h2)
	}
}

// inkRows counts the rows from the top that hold the title's first glyph
// run: the height of the title text.
func inkRows(img image.Image, p Palette) int {
	b := img.Bounds()
	first, last := -1, -1
	for y := b.Min.Y; y < b.Min.Y+b.Dy()/4; y++ {
		ink := false
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img.At(x, y), p.Foreground, 60) {
				ink = true
				break
			}
		}
		if ink {
			if first < 0 {
				first = y
			}
			last = y
		} else if first >= 0 {
			break
		}
	}
	return last - first + 1
}

func TestBadInput(t *testing.T) {
	p := palettes()["dark"]
	nan, inf := math.NaN(), math.Inf(1)
	cases := map[string]func() image.Image{
		"all NaN": func() image.Image {
			return Render(Spec{Series: []Series{{X: []float64{nan, 1}, Y: []float64{1, nan}}}}, p, 100, 80)
		},
		"ragged": func() image.Image {
			return Render(Spec{Series: []Series{{X: []float64{1, 2, 3}, Y: []float64{1}}}}, p, 100, 80)
		},
		"constant": func() image.Image {
			return Render(Spec{Series: []Series{{X: []float64{1, 1}, Y: []float64{2, 2}}}}, p, 100, 80)
		},
		"zero size":     func() image.Image { return Render(Spec{}, p, 0, 0) },
		"bars inf":      func() image.Image { return Bars("", []string{"a", "b"}, []float64{inf, nan}, p, 100, 80) },
		"bars none":     func() image.Image { return Bars("", nil, nil, p, 100, 80) },
		"heatmap empty": func() image.Image { return Heatmap("", nil, nil, nil, p, 100, 80) },
		"heatmap ragged": func() image.Image {
			return Heatmap("", []string{"a"}, nil, [][]float64{{1, 2}, {nan}}, p, 100, 80)
		},
		"hist zero": func() image.Image { return Histogram([]float64{0, 0}, p, 10, 10) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if img := f(); img == nil || img.Bounds().Empty() {
				t.Fatalf("no image")
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	p := palettes()["dark"]
	rng := rand.New(rand.NewPCG(3, 4))
	var x, y1, y2 []float64
	for i := range 500 {
		x = append(x, float64(i))
		y1 = append(y1, math.Exp(-float64(i)/100)+rng.Float64()*0.02)
		y2 = append(y2, math.Exp(-float64(i)/80)+0.1+rng.Float64()*0.02)
	}
	spec := Spec{Title: "Learning curve", XLabel: "round", YLabel: "loss",
		Series: []Series{{Name: "train", X: x, Y: y1}, {Name: "validation", X: x, Y: y2}}}
	b.ReportAllocs()
	for b.Loop() {
		Render(spec, p, 800, 400)
	}
}

func BenchmarkScatter5000(b *testing.B) {
	p := palettes()["dark"]
	rng := rand.New(rand.NewPCG(3, 4))
	var x, y []float64
	for range 5000 {
		a := rng.Float64()
		x, y = append(x, a), append(y, a+rng.NormFloat64()*0.1)
	}
	spec := Spec{Kind: "scatter", Diagonal: true, Series: []Series{{X: x, Y: y}}}
	b.ReportAllocs()
	for b.Loop() {
		Render(spec, p, 800, 400)
	}
}

func writePNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	t.Logf("wrote %s", path)
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create the goldens)", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return img
}

// pixelDiff is the share of pixels whose colour differs by more than a few
// levels in some channel; a different size differs everywhere.
func pixelDiff(a, b image.Image) float64 {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 1
	}
	ab, bb := a.Bounds(), b.Bounds()
	n := 0
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			if !near(a.At(ab.Min.X+x, ab.Min.Y+y), b.At(bb.Min.X+x, bb.Min.Y+y), 8) {
				n++
			}
		}
	}
	return float64(n) / float64(ab.Dx()*ab.Dy())
}

func near(a, b color.Color, tol int) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) bool { return abs(int(x>>8)-int(y>>8)) <= tol }
	return d(ar, br) && d(ag, bg) && d(ab, bb)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func hasColor(img image.Image, c color.Color) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if near(img.At(x, y), c, 12) {
				return true
			}
		}
	}
	return false
}
