package nn

import (
	"encoding/binary"
	"errors"
	"fmt"
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

var errShort = errors.New("nn: decode: model is truncated")

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

const (
	magic   = "MSNN"
	version = 1
)

// Limits Decode accepts, beyond which bytes are taken for corruption.
const (
	maxInputs  = 1 << 20
	maxClasses = 1 << 20
)

// MarshalBinary encodes the model: a magic, a version, then the number of
// classes, the activation, the layer sizes, each layer's weights and biases,
// the feature scalers and the target's scaler.
func (m *Model) MarshalBinary() ([]byte, error) {
	n := 64 + 8*(2*len(m.mean)+len(m.sizes))
	for l := range m.w {
		n += 8 * (len(m.w[l]) + len(m.b[l]) + 2)
	}
	e := encoder{b: append(make([]byte, 0, n), magic...)}
	e.u64(version)
	e.u64(uint64(m.classes))
	e.u64(uint64(m.act))
	e.u64(uint64(len(m.sizes)))
	for _, s := range m.sizes {
		e.u64(uint64(s))
	}
	for l := range m.w {
		e.floats(m.w[l])
		e.floats(m.b[l])
	}
	e.floats(m.mean)
	e.floats(m.scale)
	e.f64(m.ymean)
	e.f64(m.yscale)
	return e.b, nil
}

// Decode reverses MarshalBinary. It returns an error, never panics, on bytes
// that are not a model it can use.
func Decode(b []byte) (*Model, error) {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, errors.New("nn: decode: not a neural network model")
	}
	d := decoder{b: b[len(magic):]}
	if v := d.u64(); d.err == nil && v != version {
		return nil, fmt.Errorf("nn: decode: model format version %d; this build reads version %d", v, version)
	}
	classes, act := d.u64(), d.u64()
	nsizes := d.count(8)
	if d.err != nil {
		return nil, d.err
	}
	if classes == 1 || classes > maxClasses {
		return nil, fmt.Errorf("nn: decode: %d classes", classes)
	}
	if act >= uint64(numActivations) {
		return nil, fmt.Errorf("nn: decode: unknown activation %d", act)
	}
	if nsizes < 3 || nsizes > maxLayers+2 {
		return nil, fmt.Errorf("nn: decode: %d layers", nsizes)
	}
	m := &Model{classes: int(classes), yscale: 1}
	m.act = activation(act)
	m.sizes = make([]int, nsizes)
	for i := range m.sizes {
		s := d.u64()
		limit := uint64(maxWidth)
		switch i {
		case 0:
			limit = maxInputs
		case nsizes - 1:
			limit = max(classes, 1)
		}
		if d.err == nil && (s < 1 || s > limit) {
			return nil, fmt.Errorf("nn: decode: layer %d has %d units", i, s)
		}
		m.sizes[i] = int(s)
	}
	if d.err != nil {
		return nil, d.err
	}
	if m.Outputs() != max(m.classes, 1) {
		return nil, fmt.Errorf("nn: decode: %d outputs for %d classes", m.Outputs(), m.classes)
	}
	for l := range nsizes - 1 {
		w, bias := d.floats(), d.floats()
		if d.err != nil {
			return nil, d.err
		}
		if len(w) != m.sizes[l]*m.sizes[l+1] || len(bias) != m.sizes[l+1] {
			return nil, fmt.Errorf("nn: decode: layer %d has the wrong number of weights", l+1)
		}
		m.w, m.b = append(m.w, w), append(m.b, bias)
	}
	m.mean, m.scale = d.floats(), d.floats()
	m.ymean, m.yscale = d.f64(), d.f64()
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("nn: decode: %d bytes after the model", len(d.b))
	}
	if len(m.mean) != m.sizes[0] || len(m.scale) != m.sizes[0] {
		return nil, errors.New("nn: decode: inconsistent shapes")
	}
	all := append(append([][]float64{m.mean, m.scale, {m.ymean, m.yscale}}, m.w...), m.b...)
	for _, v := range all {
		for _, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, errors.New("nn: decode: non-finite parameter")
			}
		}
	}
	for _, s := range append(m.scale, m.yscale) {
		if !(s > 0) {
			return nil, errors.New("nn: decode: non-positive scale")
		}
	}
	if m.classes > 0 && (m.ymean != 0 || m.yscale != 1) {
		return nil, errors.New("nn: decode: a classifier with a target scaler")
	}
	return m, nil
}
