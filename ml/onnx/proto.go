package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The ONNX protobuf messages this package writes, reduced to the fields it
// uses. Field numbers are those of onnx/onnx.proto (IR version 10); the
// messages are encoded by hand with protowire rather than generated code, so
// the package needs no .proto toolchain.

// Tensor element types (TensorProto.DataType).
const (
	tFloat  int32 = 1
	tUint8  int32 = 2
	tInt64  int32 = 7
	tString int32 = 8
	tBool   int32 = 9
	tDouble int32 = 11
)

// Attribute types (AttributeProto.AttributeType).
const (
	aFloat   = 1
	aInt     = 2
	aString  = 3
	aTensor  = 4
	aFloats  = 6
	aInts    = 7
	aStrings = 8
)

// tensor is a TensorProto: dims and exactly one of the data fields, by Type.
type tensor struct {
	Name    string
	Type    int32
	Dims    []int64
	Floats  []float32
	Doubles []float64
	Int64s  []int64
	Strings []string
	Bytes   []byte // raw_data, for uint8 and bool
}

func (t *tensor) marshal() []byte {
	var b []byte
	for _, d := range t.Dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(t.Type))
	if len(t.Floats) > 0 {
		p := make([]byte, 0, 4*len(t.Floats))
		for _, f := range t.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendBytes(b, 4, p)
	}
	for _, s := range t.Strings {
		b = appendBytes(b, 6, []byte(s))
	}
	if len(t.Int64s) > 0 {
		var p []byte
		for _, v := range t.Int64s {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendBytes(b, 7, p)
	}
	if t.Name != "" {
		b = appendBytes(b, 8, []byte(t.Name))
	}
	if len(t.Bytes) > 0 {
		b = appendBytes(b, 9, t.Bytes)
	}
	if len(t.Doubles) > 0 {
		p := make([]byte, 0, 8*len(t.Doubles))
		for _, f := range t.Doubles {
			p = protowire.AppendFixed64(p, math.Float64bits(f))
		}
		b = appendBytes(b, 10, p)
	}
	return b
}

// attribute is an AttributeProto of one of the types above.
type attribute struct {
	Name    string
	Type    int
	F       float32
	I       int64
	S       string
	T       *tensor
	Floats  []float32
	Ints    []int64
	Strings []string
}

func (a *attribute) marshal() []byte {
	var b []byte
	b = appendBytes(b, 1, []byte(a.Name))
	switch a.Type {
	case aFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case aInt:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.I))
	case aString:
		b = appendBytes(b, 4, []byte(a.S))
	case aTensor:
		b = appendBytes(b, 5, a.T.marshal())
	case aFloats:
		p := make([]byte, 0, 4*len(a.Floats))
		for _, f := range a.Floats {
			p = protowire.AppendFixed32(p, math.Float32bits(f))
		}
		b = appendBytes(b, 7, p)
	case aInts:
		var p []byte
		for _, v := range a.Ints {
			p = protowire.AppendVarint(p, uint64(v))
		}
		b = appendBytes(b, 8, p)
	case aStrings:
		for _, s := range a.Strings {
			b = appendBytes(b, 9, []byte(s))
		}
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(a.Type))
	return b
}

// node is a NodeProto.
type node struct {
	Inputs  []string
	Outputs []string
	Name    string
	Op      string
	Domain  string
	Attrs   []attribute
}

func (n *node) marshal() []byte {
	var b []byte
	for _, s := range n.Inputs {
		b = appendBytes(b, 1, []byte(s))
	}
	for _, s := range n.Outputs {
		b = appendBytes(b, 2, []byte(s))
	}
	if n.Name != "" {
		b = appendBytes(b, 3, []byte(n.Name))
	}
	b = appendBytes(b, 4, []byte(n.Op))
	for i := range n.Attrs {
		b = appendBytes(b, 5, n.Attrs[i].marshal())
	}
	if n.Domain != "" {
		b = appendBytes(b, 7, []byte(n.Domain))
	}
	return b
}

// valueInfo is a ValueInfoProto of a tensor type; a dim of -1 is symbolic
// (named by Param, "N" for the batch).
type valueInfo struct {
	Name  string
	Type  int32
	Dims  []int64
	Param string
	Doc   string
}

func (v *valueInfo) marshal() []byte {
	var shape []byte
	for _, d := range v.Dims {
		var dim []byte
		if d < 0 {
			dim = appendBytes(dim, 2, []byte(v.Param))
		} else {
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		}
		shape = appendBytes(shape, 1, dim)
	}
	var tt []byte
	tt = protowire.AppendTag(tt, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(v.Type))
	tt = appendBytes(tt, 2, shape)
	var typ []byte
	typ = appendBytes(typ, 1, tt)
	var b []byte
	b = appendBytes(b, 1, []byte(v.Name))
	b = appendBytes(b, 2, typ)
	if v.Doc != "" {
		b = appendBytes(b, 3, []byte(v.Doc))
	}
	return b
}

// graph is a GraphProto.
type graph struct {
	Name         string
	Nodes        []node
	Initializers []tensor
	Inputs       []valueInfo
	Outputs      []valueInfo
	Doc          string
}

func (g *graph) marshal() []byte {
	var b []byte
	for i := range g.Nodes {
		b = appendBytes(b, 1, g.Nodes[i].marshal())
	}
	b = appendBytes(b, 2, []byte(g.Name))
	for i := range g.Initializers {
		b = appendBytes(b, 5, g.Initializers[i].marshal())
	}
	if g.Doc != "" {
		b = appendBytes(b, 10, []byte(g.Doc))
	}
	for i := range g.Inputs {
		b = appendBytes(b, 11, g.Inputs[i].marshal())
	}
	for i := range g.Outputs {
		b = appendBytes(b, 12, g.Outputs[i].marshal())
	}
	return b
}

// opset is an OperatorSetIdProto.
type opset struct {
	Domain  string
	Version int64
}

// modelProto is a ModelProto.
type modelProto struct {
	IRVersion       int64
	Opsets          []opset
	Producer        string
	ProducerVersion string
	Doc             string
	Graph           *graph
	Metadata        [][2]string
}

func (m *modelProto) marshal() []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(m.IRVersion))
	b = appendBytes(b, 2, []byte(m.Producer))
	b = appendBytes(b, 3, []byte(m.ProducerVersion))
	if m.Doc != "" {
		b = appendBytes(b, 6, []byte(m.Doc))
	}
	b = appendBytes(b, 7, m.Graph.marshal())
	for _, o := range m.Opsets {
		var ob []byte
		if o.Domain != "" {
			ob = appendBytes(ob, 1, []byte(o.Domain))
		}
		ob = protowire.AppendTag(ob, 2, protowire.VarintType)
		ob = protowire.AppendVarint(ob, uint64(o.Version))
		b = appendBytes(b, 8, ob)
	}
	for _, kv := range m.Metadata {
		var e []byte
		e = appendBytes(e, 1, []byte(kv[0]))
		e = appendBytes(e, 2, []byte(kv[1]))
		b = appendBytes(b, 14, e)
	}
	return b
}

func appendBytes(b []byte, field protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}
