package nn

import (
	"errors"
	"fmt"
	"math"

	"modelsmith/ml/learn/wire"
)

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
	e := wire.Encoder{B: append(make([]byte, 0, n), magic...)}
	e.U64(version)
	e.U64(uint64(m.classes))
	e.U64(uint64(m.act))
	e.U64(uint64(len(m.sizes)))
	for _, s := range m.sizes {
		e.U64(uint64(s))
	}
	for l := range m.w {
		e.Floats(m.w[l])
		e.Floats(m.b[l])
	}
	e.Floats(m.mean)
	e.Floats(m.scale)
	e.F64(m.ymean)
	e.F64(m.yscale)
	return e.B, nil
}

// Decode reverses MarshalBinary. It returns an error, never panics, on bytes
// that are not a model it can use.
func Decode(b []byte) (*Model, error) {
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, errors.New("nn: decode: not a neural network model")
	}
	d := wire.NewDecoder(b[len(magic):], "nn")
	if v := d.U64(); d.Err == nil && v != version {
		return nil, fmt.Errorf("nn: decode: model format version %d; this build reads version %d", v, version)
	}
	classes, act := d.U64(), d.U64()
	nsizes := d.Count(8)
	if d.Err != nil {
		return nil, d.Err
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
		s := d.U64()
		limit := uint64(maxWidth)
		switch i {
		case 0:
			limit = maxInputs
		case nsizes - 1:
			limit = max(classes, 1)
		}
		if d.Err == nil && (s < 1 || s > limit) {
			return nil, fmt.Errorf("nn: decode: layer %d has %d units", i, s)
		}
		m.sizes[i] = int(s)
	}
	if d.Err != nil {
		return nil, d.Err
	}
	if m.Outputs() != max(m.classes, 1) {
		return nil, fmt.Errorf("nn: decode: %d outputs for %d classes", m.Outputs(), m.classes)
	}
	for l := range nsizes - 1 {
		w, bias := d.Floats(), d.Floats()
		if d.Err != nil {
			return nil, d.Err
		}
		if len(w) != m.sizes[l]*m.sizes[l+1] || len(bias) != m.sizes[l+1] {
			return nil, fmt.Errorf("nn: decode: layer %d has the wrong number of weights", l+1)
		}
		m.w, m.b = append(m.w, w), append(m.b, bias)
	}
	m.mean, m.scale = d.Floats(), d.Floats()
	m.ymean, m.yscale = d.F64(), d.F64()
	if d.Err != nil {
		return nil, d.Err
	}
	if len(d.B) != 0 {
		return nil, fmt.Errorf("nn: decode: %d bytes after the model", len(d.B))
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
