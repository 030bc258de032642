package forest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The encoding: magic, version, then varints and little-endian float32s.
// Per tree: node, leaf and set counts; the sets (delta-coded codes); the
// nodes (flags, feature, threshold or set, children as signed varints:
// negative for leaves); the leaf values.
const (
	magic        = "MSFRST"
	codecVersion = 1
	flagDefLeft  = 1
	flagCat      = 2
	maxClasses   = 1 << 16
	maxCodes     = 1 << 24
)

// MarshalBinary implements learn.Predictor.
func (m *Model) MarshalBinary() ([]byte, error) {
	if m.Classes < 0 || m.Classes == 1 || m.Classes > maxClasses {
		return nil, fmt.Errorf("forest: encode: %d classes", m.Classes)
	}
	vpl := m.LeafValues()
	size := 64
	for i := range m.Trees {
		size += 16*len(m.Trees[i].Nodes) + 4*len(m.Trees[i].Values)
	}
	b := make([]byte, 0, size)
	b = append(b, magic...)
	b = binary.AppendUvarint(b, codecVersion)
	b = binary.AppendUvarint(b, uint64(m.Classes))
	b = binary.AppendUvarint(b, uint64(len(m.Features)))
	for _, f := range m.Features {
		b = binary.AppendUvarint(b, uint64(len(f.Name)))
		b = append(b, f.Name...)
		b = append(b, byte(b2i(f.Categorical)))
		b = binary.AppendUvarint(b, uint64(max(f.Levels, 0)))
	}
	b = binary.AppendUvarint(b, uint64(len(m.Trees)))
	for ti := range m.Trees {
		t := &m.Trees[ti]
		if len(t.Values) != (len(t.Nodes)+1)*vpl {
			return nil, fmt.Errorf("forest: encode: tree %d has %d values for %d nodes", ti, len(t.Values), len(t.Nodes))
		}
		b = binary.AppendUvarint(b, uint64(len(t.Nodes)))
		b = binary.AppendUvarint(b, uint64(len(t.Sets)))
		for _, s := range t.Sets {
			b = binary.AppendUvarint(b, uint64(len(s)))
			prev := int64(-1)
			for _, c := range s {
				if int64(c) <= prev {
					return nil, fmt.Errorf("forest: encode: tree %d: category set not sorted", ti)
				}
				b = binary.AppendUvarint(b, uint64(int64(c)-prev-1))
				prev = int64(c)
			}
		}
		for _, n := range t.Nodes {
			flags := byte(0)
			if n.DefaultLeft {
				flags |= flagDefLeft
			}
			if n.Set >= 0 {
				flags |= flagCat
			}
			b = append(b, flags)
			b = binary.AppendUvarint(b, uint64(n.Feature))
			if n.Set >= 0 {
				b = binary.AppendUvarint(b, uint64(n.Set))
			} else {
				b = binary.LittleEndian.AppendUint32(b, math.Float32bits(n.Threshold))
			}
			b = binary.AppendVarint(b, int64(n.Left))
			b = binary.AppendVarint(b, int64(n.Right))
		}
		for _, v := range t.Values {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	return b, nil
}

var errCorrupt = errors.New("forest: decode: corrupt or truncated model")

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() { r.err = errCorrupt }

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length whose items take at least minBytes bytes each, so
// that a corrupt count cannot make Decode allocate more than the input
// justifies.
func (r *reader) count(minBytes int) int {
	v := r.uvarint()
	if r.err == nil && v > uint64(len(r.b)/minBytes) {
		r.fail()
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail()
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

// Decode reverses MarshalBinary. It checks every count, index and value, so
// corrupt input gives an error, never a panic or a tree that could loop.
func Decode(data []byte) (*Model, error) {
	r := &reader{b: data}
	if string(r.bytes(len(magic))) != magic {
		return nil, errors.New("forest: decode: not a forest model")
	}
	if v := r.uvarint(); r.err == nil && v != codecVersion {
		return nil, fmt.Errorf("forest: decode: model format version %d, this build reads %d", v, codecVersion)
	}
	classes := r.uvarint()
	if r.err != nil || classes == 1 || classes > maxClasses {
		return nil, errCorrupt
	}
	m := &Model{Classes: int(classes)}
	vpl := m.LeafValues()
	nf := r.count(3)
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
	nt := r.count(3)
	if r.err != nil {
		return nil, r.err
	}
	m.Trees = make([]Tree, nt)
	for ti := range m.Trees {
		if err := r.tree(&m.Trees[ti], m.Features, vpl); err != nil {
			return nil, err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, errors.New("forest: decode: trailing bytes after the model")
	}
	m.catIndex()
	return m, nil
}

func (r *reader) tree(t *Tree, feats []FeatureInfo, vpl int) error {
	nn := r.count(7)
	ns := r.count(1)
	if r.err != nil {
		return r.err
	}
	if ns > 0 {
		t.Sets = make([][]int32, ns)
	}
	for i := range t.Sets {
		nc := r.count(1)
		if nc > maxCodes {
			return errCorrupt
		}
		s := make([]int32, nc)
		prev := int64(-1)
		for j := range s {
			c := prev + 1 + int64(r.uvarint())
			if r.err != nil || c > math.MaxInt32 || c < 0 {
				return errCorrupt
			}
			s[j] = int32(c)
			prev = c
		}
		t.Sets[i] = s
	}
	leaves := nn + 1
	t.Nodes = make([]Node, nn)
	// Every node but the root, and every leaf, must be the child of exactly
	// one node that comes before it: then the nodes form one tree and every
	// walk ends at a leaf.
	seenNode := make([]bool, nn)
	seenLeaf := make([]bool, leaves)
	for i := range t.Nodes {
		n := &t.Nodes[i]
		fb := r.bytes(1)
		if fb == nil || fb[0]&^(flagDefLeft|flagCat) != 0 {
			return errCorrupt
		}
		n.DefaultLeft = fb[0]&flagDefLeft != 0
		cat := fb[0]&flagCat != 0
		f := r.uvarint()
		if r.err != nil || f >= uint64(len(feats)) || feats[f].Categorical != cat {
			return errCorrupt
		}
		n.Feature = int32(f)
		n.Set = -1
		if cat {
			s := r.uvarint()
			if r.err != nil || s >= uint64(len(t.Sets)) {
				return errCorrupt
			}
			n.Set = int32(s)
		} else {
			n.Threshold = math.Float32frombits(r.u32())
			if n.Threshold != n.Threshold {
				return errCorrupt
			}
		}
		for _, child := range []*int32{&n.Left, &n.Right} {
			c := r.varint()
			if r.err != nil {
				return r.err
			}
			switch {
			case c > int64(i) && c < int64(nn) && !seenNode[c]:
				seenNode[c] = true
			case c < 0 && ^c < int64(leaves) && !seenLeaf[^c]:
				seenLeaf[^c] = true
			default:
				return errCorrupt
			}
			*child = int32(c)
		}
	}
	if r.err != nil {
		return r.err
	}
	for i := 1; i < nn; i++ {
		if !seenNode[i] {
			return errCorrupt
		}
	}
	if nn > 0 {
		// A binary tree with nn splits has nn+1 leaves, each reached once.
		for _, s := range seenLeaf {
			if !s {
				return errCorrupt
			}
		}
	}
	if len(r.b)/4 < leaves*vpl {
		return errCorrupt
	}
	t.Values = make([]float32, leaves*vpl)
	for i := range t.Values {
		t.Values[i] = math.Float32frombits(r.u32())
	}
	return r.err
}
