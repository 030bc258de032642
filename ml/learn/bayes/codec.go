package bayes

import (
	"encoding/binary"
	"errors"
	"math"
)

// encoder appends little-endian fields; it cannot fail.
type encoder struct{ b []byte }

func (e *encoder) u64(v uint64)  { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) f64(v float64) { e.u64(math.Float64bits(v)) }

func (e *encoder) floats(v []float64) {
	e.u64(uint64(len(v)))
	for _, x := range v {
		e.f64(x)
	}
}

// decoder reads what encoder wrote. The first error sticks, so a caller
// checks d.err once at the end; lengths are checked against the bytes left
// before anything is allocated, so corrupt input cannot ask for huge memory.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("bayes: decode: model is truncated")

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.err = errShort
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }

// count reads a length and checks that at least size bytes per element are left.
func (d *decoder) count(size int) int {
	n := d.u64()
	if d.err != nil {
		return 0
	}
	if n > uint64(len(d.b)/size) {
		d.err = errShort
		return 0
	}
	return int(n)
}

func (d *decoder) floats() []float64 {
	n := d.count(8)
	if d.err != nil {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = d.f64()
	}
	return v
}
