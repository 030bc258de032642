package gbdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The encoding: magic, version, then varints and little-endian floats. Nodes
// are written in order; a child index is stored as its distance after the
// parent, which is positive by construction and small.
const (
	magic         = "MSGBDT"
	codecVersion  = 1
	kindLeaf      = 0
	kindNumeric   = 1
	kindCat       = 2
	flagDefLeft   = 4
	maxCategories = 1 << 24
)

var objCodes = []string{ObjLogloss, ObjSoftmax, ObjL2}

// MarshalBinary implements learn.Predictor.
func (m *Model) MarshalBinary() ([]byte, error) {
	obj := -1
	for i, o := range objCodes {
		if o == m.Objective {
			obj = i
		}
	}
	if obj < 0 {
		return nil, fmt.Errorf("gbdt: encode: unknown objective %q", m.Objective)
	}
	b := []byte(magic)
	b = binary.AppendUvarint(b, codecVersion)
	b = append(b, byte(obj))
	b = binary.AppendUvarint(b, uint64(m.Classes))
	b = binary.AppendUvarint(b, uint64(len(m.BaseScore)))
	for _, v := range m.BaseScore {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	b = binary.AppendUvarint(b, uint64(len(m.Features)))
	for _, f := range m.Features {
		b = binary.AppendUvarint(b, uint64(len(f.Name)))
		b = append(b, f.Name...)
		if f.Categorical {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
		b = binary.AppendUvarint(b, uint64(f.Levels))
	}
	b = binary.AppendUvarint(b, uint64(len(m.Trees)))
	for _, t := range m.Trees {
		b = binary.AppendUvarint(b, uint64(len(t.Nodes)))
		for i, n := range t.Nodes {
			cover := math.Float32bits(float32(n.Cover))
			if n.IsLeaf() {
				b = append(b, kindLeaf)
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(n.Value))
				b = binary.LittleEndian.AppendUint32(b, cover)
				continue
			}
			if n.Left <= i || n.Right <= i {
				return nil, fmt.Errorf("gbdt: encode: node %d has a child before it", i)
			}
			kind := byte(kindNumeric)
			if n.Categories != nil {
				kind = kindCat
			}
			if n.DefaultLeft {
				kind |= flagDefLeft
			}
			b = append(b, kind)
			b = binary.AppendUvarint(b, uint64(n.Feature))
			if n.Categories != nil {
				b = binary.AppendUvarint(b, uint64(len(n.Categories)))
				prev := int32(-1)
				for _, c := range n.Categories {
					b = binary.AppendUvarint(b, uint64(c-prev-1))
					prev = c
				}
			} else {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(n.Threshold))
			}
			b = binary.AppendUvarint(b, uint64(n.Left-i))
			b = binary.AppendUvarint(b, uint64(n.Right-i))
			b = binary.LittleEndian.AppendUint32(b, cover)
		}
	}
	return b, nil
}

var errCorrupt = errors.New("gbdt: decode: corrupt or truncated model")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length that needs at least minBytes bytes per item, so that
// a corrupt count cannot make Decode allocate more than the input justifies.
func (r *reader) count(minBytes int) int {
	v := r.uvarint()
	if r.err == nil && v > uint64(len(r.b)/minBytes) {
		r.err = errCorrupt
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errCorrupt
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) u32() uint32 {
	s := r.bytes(4)
	if s == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(s)
}

func (r *reader) u64() uint64 {
	s := r.bytes(8)
	if s == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(s)
}

// Decode reverses MarshalBinary. It checks every count, index and value, so
// corrupt input gives an error, never a panic or a model that could loop.
func Decode(data []byte) (*Model, error) {
	r := &reader{b: data}
	if string(r.bytes(len(magic))) != magic {
		return nil, errors.New("gbdt: decode: not a gbdt model")
	}
	if v := r.uvarint(); r.err == nil && v != codecVersion {
		return nil, fmt.Errorf("gbdt: decode: model format version %d, this build reads %d", v, codecVersion)
	}
	m := &Model{}
	ob := r.bytes(1)
	if ob == nil || int(ob[0]) >= len(objCodes) {
		return nil, errCorrupt
	}
	m.Objective = objCodes[ob[0]]
	classes := r.uvarint()
	groups := r.count(8)
	if r.err != nil || classes > 1<<20 || groups < 1 {
		return nil, errCorrupt
	}
	m.Classes = int(classes)
	switch {
	case m.Objective == ObjL2 && (m.Classes != 0 || groups != 1),
		m.Objective == ObjLogloss && (m.Classes != 2 || groups != 1),
		m.Objective == ObjSoftmax && (m.Classes < 2 || groups != m.Classes):
		return nil, errCorrupt
	}
	m.BaseScore = make([]float64, groups)
	for i := range m.BaseScore {
		m.BaseScore[i] = math.Float64frombits(r.u64())
	}
	nf := r.count(2)
	m.Features = make([]FeatureInfo, nf)
	for i := range m.Features {
		f := &m.Features[i]
		f.Name = string(r.bytes(r.count(1)))
		cat := r.bytes(1)
		if cat == nil || cat[0] > 1 {
			return nil, errCorrupt
		}
		f.Categorical = cat[0] == 1
		lv := r.uvarint()
		if lv > math.MaxInt32 {
			return nil, errCorrupt
		}
		f.Levels = int(lv)
	}
	nt := r.count(1)
	if r.err != nil {
		return nil, r.err
	}
	m.Trees = make([]Tree, nt)
	for ti := range m.Trees {
		nn := r.count(9)
		if r.err != nil {
			return nil, r.err
		}
		if nn == 0 {
			return nil, errCorrupt
		}
		nodes := make([]Node, nn)
		for i := range nodes {
			n := &nodes[i]
			kb := r.bytes(1)
			if kb == nil {
				return nil, errCorrupt
			}
			kind := kb[0] &^ flagDefLeft
			if kind == kindLeaf {
				if kb[0] != kindLeaf {
					return nil, errCorrupt
				}
				n.Feature = -1
				n.Value = math.Float64frombits(r.u64())
				n.Cover = float64(math.Float32frombits(r.u32()))
				continue
			}
			if kind != kindNumeric && kind != kindCat {
				return nil, errCorrupt
			}
			n.DefaultLeft = kb[0]&flagDefLeft != 0
			feat := r.uvarint()
			if r.err != nil || feat >= uint64(nf) || m.Features[feat].Categorical != (kind == kindCat) {
				return nil, errCorrupt
			}
			n.Feature = int(feat)
			if kind == kindCat {
				nc := r.count(1)
				if nc > maxCategories {
					return nil, errCorrupt
				}
				n.Categories = make([]int32, nc)
				prev := int64(-1)
				for j := range n.Categories {
					c := prev + 1 + int64(r.uvarint())
					if c > math.MaxInt32 || c < 0 {
						return nil, errCorrupt
					}
					n.Categories[j] = int32(c)
					prev = c
				}
			} else {
				n.Threshold = math.Float32frombits(r.u32())
				if n.Threshold != n.Threshold {
					return nil, errCorrupt
				}
			}
			dl, dr := r.uvarint(), r.uvarint()
			if r.err != nil || dl == 0 || dr == 0 || dl >= uint64(nn-i) || dr >= uint64(nn-i) || dl == dr {
				return nil, errCorrupt
			}
			n.Left, n.Right = i+int(dl), i+int(dr)
			n.Cover = float64(math.Float32frombits(r.u32()))
		}
		if r.err != nil {
			return nil, r.err
		}
		m.Trees[ti] = Tree{Nodes: nodes}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, errors.New("gbdt: decode: trailing bytes after the model")
	}
	if err := checkTrees(m.Trees); err != nil {
		return nil, err
	}
	m.flat = m.compile()
	return m, nil
}

// checkTrees makes sure every node is reached exactly once from the root, so
// compile's recursion and prediction terminate and see every node once.
func checkTrees(trees []Tree) error {
	for _, t := range trees {
		seen := make([]bool, len(t.Nodes))
		seen[0] = true
		for i, n := range t.Nodes {
			if !seen[i] {
				return errCorrupt
			}
			if n.IsLeaf() {
				continue
			}
			if seen[n.Left] || seen[n.Right] {
				return errCorrupt
			}
			seen[n.Left], seen[n.Right] = true, true
		}
	}
	return nil
}
