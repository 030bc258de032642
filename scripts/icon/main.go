// Command icon draws Modelsmith's application icon — a small neural network
// forged on an anvil, on a rounded square of indigo fading to teal — and
// writes it as resources/icon.png (512×512). Shapes are sampled 4×4 per pixel
// for smooth edges. Run it from the repository root: go run ./scripts/icon
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

const (
	size = 512
	ss   = 4 // samples per pixel along each axis
)

type point struct{ x, y float64 }

// shape reports whether a point of the unit square is inside, and its colour
// there; later shapes paint over earlier ones.
type shape struct {
	inside func(p point) bool
	paint  func(p point) color.NRGBA
}

func solid(c color.NRGBA) func(point) color.NRGBA { return func(point) color.NRGBA { return c } }

func roundedSquare(margin, radius float64) func(point) bool {
	return func(p point) bool {
		lo, hi := margin+radius, 1-margin-radius
		dx := math.Max(math.Max(lo-p.x, p.x-hi), 0)
		dy := math.Max(math.Max(lo-p.y, p.y-hi), 0)
		if p.x < margin || p.x > 1-margin || p.y < margin || p.y > 1-margin {
			return false
		}
		return dx*dx+dy*dy <= radius*radius
	}
}

func circle(c point, r float64) func(point) bool {
	return func(p point) bool { return (p.x-c.x)*(p.x-c.x)+(p.y-c.y)*(p.y-c.y) <= r*r }
}

// segment is a line from a to b, w wide, with round ends.
func segment(a, b point, w float64) func(point) bool {
	return func(p point) bool {
		vx, vy := b.x-a.x, b.y-a.y
		t := ((p.x-a.x)*vx + (p.y-a.y)*vy) / (vx*vx + vy*vy)
		t = math.Max(0, math.Min(1, t))
		dx, dy := p.x-(a.x+t*vx), p.y-(a.y+t*vy)
		return dx*dx+dy*dy <= w*w/4
	}
}

// polygon is the even-odd interior of the vertices.
func polygon(v ...point) func(point) bool {
	return func(p point) bool {
		in := false
		for i, j := 0, len(v)-1; i < len(v); j, i = i, i+1 {
			if (v[i].y > p.y) != (v[j].y > p.y) &&
				p.x < (v[j].x-v[i].x)*(p.y-v[i].y)/(v[j].y-v[i].y)+v[i].x {
				in = !in
			}
		}
		return in
	}
}

func mix(a, b color.NRGBA, t float64) color.NRGBA {
	f := func(x, y uint8) uint8 { return uint8(float64(x)*(1-t) + float64(y)*t + 0.5) }
	return color.NRGBA{f(a.R, b.R), f(a.G, b.G), f(a.B, b.B), f(a.A, b.A)}
}

func main() {
	indigo := color.NRGBA{0x2E, 0x33, 0x92, 0xff}
	teal := color.NRGBA{0x12, 0x9C, 0x96, 0xff}
	steel := color.NRGBA{0xF4, 0xF6, 0xFA, 0xff}
	shade := color.NRGBA{0xC9, 0xD1, 0xE0, 0xff}
	amber := color.NRGBA{0xFF, 0xB6, 0x27, 0xff}
	link := color.NRGBA{0xFF, 0xFF, 0xFF, 0xb0}

	shapes := []shape{{
		inside: roundedSquare(0.04, 0.2),
		paint:  func(p point) color.NRGBA { return mix(indigo, teal, math.Min(1, math.Max(0, (p.x+p.y)/2*1.15-0.05))) },
	}}

	// The network: three inputs, two hidden units, one output, every link drawn.
	layers := [][]point{
		{{0.28, 0.19}, {0.28, 0.33}, {0.28, 0.47}},
		{{0.50, 0.26}, {0.50, 0.40}},
		{{0.72, 0.33}},
	}
	for l := 0; l+1 < len(layers); l++ {
		for _, a := range layers[l] {
			for _, b := range layers[l+1] {
				shapes = append(shapes, shape{inside: segment(a, b, 0.018), paint: solid(link)})
			}
		}
	}
	for l, layer := range layers {
		r := 0.045
		if l == len(layers)-1 {
			r = 0.06
		}
		for _, c := range layer {
			shapes = append(shapes,
				shape{inside: circle(c, r+0.014), paint: solid(steel)},
				shape{inside: circle(c, r), paint: solid(amber)})
		}
	}

	// The anvil: a face with a horn to the left, a waist, a foot.
	anvil := polygon(
		point{0.12, 0.585}, point{0.30, 0.585}, point{0.84, 0.585}, point{0.84, 0.655},
		point{0.70, 0.680}, point{0.63, 0.700}, point{0.63, 0.765}, point{0.74, 0.800},
		point{0.74, 0.855}, point{0.28, 0.855}, point{0.28, 0.800}, point{0.39, 0.765},
		point{0.39, 0.700}, point{0.31, 0.665}, point{0.22, 0.640},
	)
	shapes = append(shapes,
		shape{inside: anvil, paint: func(p point) color.NRGBA { return mix(steel, shade, math.Min(1, math.Max(0, (p.y-0.585)/0.27))) }},
		// The working face catches the light.
		shape{inside: polygon(point{0.30, 0.585}, point{0.84, 0.585}, point{0.84, 0.605}, point{0.30, 0.605}), paint: solid(color.NRGBA{0xFF, 0xFF, 0xFF, 0xff})},
	)
	// Sparks where the network meets the anvil.
	for _, sp := range []struct {
		c point
		r float64
	}{{point{0.80, 0.53}, 0.014}, {point{0.87, 0.49}, 0.010}, {point{0.75, 0.50}, 0.009}, {point{0.17, 0.53}, 0.011}} {
		shapes = append(shapes, shape{inside: circle(sp.c, sp.r), paint: solid(amber)})
	}

	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					p := point{(float64(x) + (float64(sx)+0.5)/ss) / size, (float64(y) + (float64(sy)+0.5)/ss) / size}
					var cr, cg, cb, ca float64 // premultiplied, composited front to back in order
					for _, s := range shapes {
						if !s.inside(p) {
							continue
						}
						c := s.paint(p)
						al := float64(c.A) / 255
						cr = float64(c.R)*al + cr*(1-al)
						cg = float64(c.G)*al + cg*(1-al)
						cb = float64(c.B)*al + cb*(1-al)
						ca = al + ca*(1-al)
					}
					r, g, b, a = r+cr, g+cg, b+cb, a+ca
				}
			}
			n := float64(ss * ss)
			if a == 0 {
				continue
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(r/a + 0.5), uint8(g/a + 0.5), uint8(b/a + 0.5), uint8(255*a/n + 0.5)})
		}
	}
	f, err := os.Create("resources/icon.png")
	if err != nil {
		fmt.Fprintln(os.Stderr, "icon:", err)
		os.Exit(1)
	}
	if err := png.Encode(f, img); err != nil {
		fmt.Fprintln(os.Stderr, "icon: encode resources/icon.png:", err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "icon:", err)
		os.Exit(1)
	}
}
