package onnx

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// A decoder for the messages this package writes, used to check the
// encoding: decoding an exported model and encoding it again must give the
// same bytes, and the decoded graph must be well formed.

type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64 // varint and fixed values
	b   []byte // bytes
}

var errDecode = errors.New("onnx: bad protobuf")

func fields(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, fmt.Errorf("%w: tag: %v", errDecode, protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.v = uint64(v)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			return nil, fmt.Errorf("%w: field %d has wire type %d", errDecode, num, typ)
		}
		if n < 0 {
			return nil, fmt.Errorf("%w: field %d: %v", errDecode, num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out, nil
}

func want(f field, typ protowire.Type) error {
	if f.typ != typ {
		return fmt.Errorf("%w: field %d has wire type %d, want %d", errDecode, f.num, f.typ, typ)
	}
	return nil
}

func packedVarints(b []byte) ([]int64, error) {
	var out []int64
	for len(b) > 0 {
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return nil, fmt.Errorf("%w: packed varint", errDecode)
		}
		out = append(out, int64(v))
		b = b[n:]
	}
	return out, nil
}

func packedFixed(b []byte, size int) ([]uint64, error) {
	if len(b)%size != 0 {
		return nil, fmt.Errorf("%w: packed fixed%d of %d bytes", errDecode, size*8, len(b))
	}
	out := make([]uint64, 0, len(b)/size)
	for i := 0; i < len(b); i += size {
		if size == 4 {
			v, _ := protowire.ConsumeFixed32(b[i:])
			out = append(out, uint64(v))
		} else {
			v, _ := protowire.ConsumeFixed64(b[i:])
			out = append(out, v)
		}
	}
	return out, nil
}

func decodeTensor(b []byte) (*tensor, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	t := &tensor{}
	for _, f := range fs {
		switch f.num {
		case 1:
			if f.typ != protowire.VarintType {
				return nil, fmt.Errorf("%w: tensor dims", errDecode)
			}
			t.Dims = append(t.Dims, int64(f.v))
		case 2:
			if err := want(f, protowire.VarintType); err != nil {
				return nil, err
			}
			t.Type = int32(f.v)
		case 4:
			if err := want(f, protowire.BytesType); err != nil {
				return nil, err
			}
			vs, err := packedFixed(f.b, 4)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				t.Floats = append(t.Floats, math.Float32frombits(uint32(v)))
			}
		case 6:
			if err := want(f, protowire.BytesType); err != nil {
				return nil, err
			}
			t.Strings = append(t.Strings, string(f.b))
		case 7:
			if err := want(f, protowire.BytesType); err != nil {
				return nil, err
			}
			if t.Int64s, err = packedVarints(f.b); err != nil {
				return nil, err
			}
		case 8:
			t.Name = string(f.b)
		case 9:
			t.Bytes = f.b
		case 10:
			if err := want(f, protowire.BytesType); err != nil {
				return nil, err
			}
			vs, err := packedFixed(f.b, 8)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				t.Doubles = append(t.Doubles, math.Float64frombits(v))
			}
		default:
			return nil, fmt.Errorf("%w: tensor field %d", errDecode, f.num)
		}
	}
	return t, nil
}

func decodeAttribute(b []byte) (*attribute, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	a := &attribute{}
	for _, f := range fs {
		switch f.num {
		case 1:
			a.Name = string(f.b)
		case 2:
			if err := want(f, protowire.Fixed32Type); err != nil {
				return nil, err
			}
			a.F = math.Float32frombits(uint32(f.v))
		case 3:
			if err := want(f, protowire.VarintType); err != nil {
				return nil, err
			}
			a.I = int64(f.v)
		case 4:
			a.S = string(f.b)
		case 5:
			if a.T, err = decodeTensor(f.b); err != nil {
				return nil, err
			}
		case 7:
			vs, err := packedFixed(f.b, 4)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				a.Floats = append(a.Floats, math.Float32frombits(uint32(v)))
			}
		case 8:
			if a.Ints, err = packedVarints(f.b); err != nil {
				return nil, err
			}
		case 9:
			a.Strings = append(a.Strings, string(f.b))
		case 20:
			if err := want(f, protowire.VarintType); err != nil {
				return nil, err
			}
			a.Type = int(f.v)
		default:
			return nil, fmt.Errorf("%w: attribute field %d", errDecode, f.num)
		}
	}
	return a, nil
}

func decodeNode(b []byte) (*node, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	n := &node{}
	for _, f := range fs {
		if f.typ != protowire.BytesType {
			return nil, fmt.Errorf("%w: node field %d", errDecode, f.num)
		}
		switch f.num {
		case 1:
			n.Inputs = append(n.Inputs, string(f.b))
		case 2:
			n.Outputs = append(n.Outputs, string(f.b))
		case 3:
			n.Name = string(f.b)
		case 4:
			n.Op = string(f.b)
		case 5:
			a, err := decodeAttribute(f.b)
			if err != nil {
				return nil, err
			}
			n.Attrs = append(n.Attrs, *a)
		case 7:
			n.Domain = string(f.b)
		default:
			return nil, fmt.Errorf("%w: node field %d", errDecode, f.num)
		}
	}
	return n, nil
}

func submessage(b []byte, num protowire.Number) ([]byte, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.num == num && f.typ == protowire.BytesType {
			return f.b, nil
		}
	}
	return nil, fmt.Errorf("%w: no field %d", errDecode, num)
}

func decodeValueInfo(b []byte) (*valueInfo, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	v := &valueInfo{}
	for _, f := range fs {
		if f.typ != protowire.BytesType {
			return nil, fmt.Errorf("%w: value info field %d", errDecode, f.num)
		}
		switch f.num {
		case 1:
			v.Name = string(f.b)
		case 3:
			v.Doc = string(f.b)
		case 2:
			tt, err := submessage(f.b, 1)
			if err != nil {
				return nil, err
			}
			tfs, err := fields(tt)
			if err != nil {
				return nil, err
			}
			for _, tf := range tfs {
				switch {
				case tf.num == 1 && tf.typ == protowire.VarintType:
					v.Type = int32(tf.v)
				case tf.num == 2 && tf.typ == protowire.BytesType:
					dims, err := fields(tf.b)
					if err != nil {
						return nil, err
					}
					for _, d := range dims {
						dfs, err := fields(d.b)
						if err != nil || len(dfs) != 1 {
							return nil, fmt.Errorf("%w: dimension", errDecode)
						}
						switch {
						case dfs[0].num == 1 && dfs[0].typ == protowire.VarintType:
							v.Dims = append(v.Dims, int64(dfs[0].v))
						case dfs[0].num == 2 && dfs[0].typ == protowire.BytesType:
							v.Dims = append(v.Dims, -1)
							v.Param = string(dfs[0].b)
						default:
							return nil, fmt.Errorf("%w: dimension field %d", errDecode, dfs[0].num)
						}
					}
				default:
					return nil, fmt.Errorf("%w: tensor type field %d", errDecode, tf.num)
				}
			}
		default:
			return nil, fmt.Errorf("%w: value info field %d", errDecode, f.num)
		}
	}
	return v, nil
}

func decodeGraph(b []byte) (*graph, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	g := &graph{}
	for _, f := range fs {
		if f.typ != protowire.BytesType {
			return nil, fmt.Errorf("%w: graph field %d", errDecode, f.num)
		}
		switch f.num {
		case 1:
			n, err := decodeNode(f.b)
			if err != nil {
				return nil, err
			}
			g.Nodes = append(g.Nodes, *n)
		case 2:
			g.Name = string(f.b)
		case 5:
			t, err := decodeTensor(f.b)
			if err != nil {
				return nil, err
			}
			g.Initializers = append(g.Initializers, *t)
		case 10:
			g.Doc = string(f.b)
		case 11, 12:
			v, err := decodeValueInfo(f.b)
			if err != nil {
				return nil, err
			}
			if f.num == 11 {
				g.Inputs = append(g.Inputs, *v)
			} else {
				g.Outputs = append(g.Outputs, *v)
			}
		default:
			return nil, fmt.Errorf("%w: graph field %d", errDecode, f.num)
		}
	}
	return g, nil
}

func decodeModel(b []byte) (*modelProto, error) {
	fs, err := fields(b)
	if err != nil {
		return nil, err
	}
	m := &modelProto{}
	for _, f := range fs {
		switch f.num {
		case 1:
			if err := want(f, protowire.VarintType); err != nil {
				return nil, err
			}
			m.IRVersion = int64(f.v)
		case 2, 3, 6, 7, 8, 14:
			if err := want(f, protowire.BytesType); err != nil {
				return nil, err
			}
			switch f.num {
			case 2:
				m.Producer = string(f.b)
			case 3:
				m.ProducerVersion = string(f.b)
			case 6:
				m.Doc = string(f.b)
			case 7:
				if m.Graph, err = decodeGraph(f.b); err != nil {
					return nil, err
				}
			case 8:
				ofs, err := fields(f.b)
				if err != nil {
					return nil, err
				}
				var o opset
				for _, of := range ofs {
					switch {
					case of.num == 1 && of.typ == protowire.BytesType:
						o.Domain = string(of.b)
					case of.num == 2 && of.typ == protowire.VarintType:
						o.Version = int64(of.v)
					default:
						return nil, fmt.Errorf("%w: opset field %d", errDecode, of.num)
					}
				}
				m.Opsets = append(m.Opsets, o)
			case 14:
				kfs, err := fields(f.b)
				if err != nil {
					return nil, err
				}
				var kv [2]string
				for _, kf := range kfs {
					if (kf.num != 1 && kf.num != 2) || kf.typ != protowire.BytesType {
						return nil, fmt.Errorf("%w: metadata field %d", errDecode, kf.num)
					}
					kv[kf.num-1] = string(kf.b)
				}
				m.Metadata = append(m.Metadata, kv)
			}
		default:
			return nil, fmt.Errorf("%w: model field %d", errDecode, f.num)
		}
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("%w: model has no graph", errDecode)
	}
	return m, nil
}

// checkGraph checks that every node input is a graph input, an initializer
// or an earlier node's output (topological order, SSA names), and that the
// graph outputs are produced.
func checkGraph(g *graph) error {
	have := map[string]bool{"": true} // "" is an omitted optional input
	for _, v := range g.Inputs {
		have[v.Name] = true
	}
	for _, t := range g.Initializers {
		if have[t.Name] {
			return fmt.Errorf("initializer %q defined twice", t.Name)
		}
		have[t.Name] = true
	}
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if !have[in] {
				return fmt.Errorf("node %d (%s %s): input %q is not defined before it", i, n.Op, n.Name, in)
			}
		}
		for _, out := range n.Outputs {
			if have[out] {
				return fmt.Errorf("node %d (%s): output %q defined twice", i, n.Op, out)
			}
			have[out] = true
		}
	}
	for _, v := range g.Outputs {
		if !have[v.Name] {
			return fmt.Errorf("graph output %q is never produced", v.Name)
		}
	}
	return nil
}

// checkDecodes decodes an exported model, checks its graph and that
// encoding it again gives the same bytes.
func checkDecodes(t *testing.T, b []byte) {
	t.Helper()
	m, err := decodeModel(b)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := checkGraph(m.Graph); err != nil {
		t.Fatalf("graph: %v", err)
	}
	if m.IRVersion != irVersion || len(m.Opsets) != 2 {
		t.Fatalf("ir version %d, opsets %v", m.IRVersion, m.Opsets)
	}
	if again := m.marshal(); !bytes.Equal(again, b) {
		t.Fatalf("re-encoding the decoded model gives other bytes (%d vs %d)", len(again), len(b))
	}
}

// FuzzDecode: the decoder never panics, and what it accepts re-encodes to
// something it decodes to the same model.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeModel(b)
		if err != nil {
			return
		}
		again, err := decodeModel(m.marshal())
		if err != nil {
			t.Fatalf("re-encoded model does not decode: %v", err)
		}
		if !reflect.DeepEqual(normal(m), normal(again)) {
			t.Fatalf("round trip changed the model")
		}
	})
}

// normal blanks what encoding does not keep apart: NaN payloads compare
// unequal, so floats are compared by their bits via re-encoding.
func normal(m *modelProto) string { return fmt.Sprintf("%x", m.marshal()) }
