// Package wire is the little-endian field codec that several learner
// families (linear, knn, bayes, nn) write their models with: an Encoder that
// cannot fail and a Decoder whose first error sticks, so a family's Decode
// reads every field and checks Err once. Lengths are checked against the
// bytes left before anything is allocated, so corrupt input cannot ask for
// huge memory. It imports only the standard library.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
)

// Encoder appends fields to B.
type Encoder struct{ B []byte }

func (e *Encoder) U64(v uint64)  { e.B = binary.LittleEndian.AppendUint64(e.B, v) }
func (e *Encoder) F64(v float64) { e.U64(math.Float64bits(v)) }

// Floats writes a length, then the values.
func (e *Encoder) Floats(v []float64) {
	e.U64(uint64(len(v)))
	for _, x := range v {
		e.F64(x)
	}
}

// Decoder reads what Encoder wrote from B, consuming it.
type Decoder struct {
	B   []byte
	Err error
	// short is the error for running out of bytes, named after the family.
	short error
}

// NewDecoder reads b; family prefixes the truncation error ("knn: decode:
// model is truncated").
func NewDecoder(b []byte, family string) *Decoder {
	return &Decoder{B: b, short: errors.New(family + ": decode: model is truncated")}
}

func (d *Decoder) U64() uint64 {
	if d.Err != nil {
		return 0
	}
	if len(d.B) < 8 {
		d.Err = d.short
		return 0
	}
	v := binary.LittleEndian.Uint64(d.B)
	d.B = d.B[8:]
	return v
}

func (d *Decoder) F64() float64 { return math.Float64frombits(d.U64()) }

// Count reads a length and checks that at least size bytes per element are left.
func (d *Decoder) Count(size int) int {
	n := d.U64()
	if d.Err != nil {
		return 0
	}
	if n > uint64(len(d.B)/size) {
		d.Err = d.short
		return 0
	}
	return int(n)
}

// Floats reads what Encoder.Floats wrote.
func (d *Decoder) Floats() []float64 {
	n := d.Count(8)
	if d.Err != nil {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = d.F64()
	}
	return v
}
