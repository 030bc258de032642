package onnx

import (
	"math"
	"reflect"
	"testing"
)

// TestProtoRoundTrip encodes each kind of message this package writes and
// decodes it back with the test decoder.
func TestProtoRoundTrip(t *testing.T) {
	tensors := []tensor{
		{Name: "d", Type: tDouble, Dims: []int64{2, 2}, Doubles: []float64{1.5, -2, math.MaxFloat64, math.SmallestNonzeroFloat64}},
		{Name: "f", Type: tFloat, Dims: []int64{3}, Floats: []float32{0.1, -1e30, 7}},
		{Name: "i", Type: tInt64, Dims: []int64{4}, Int64s: []int64{0, -1, math.MaxInt64, math.MinInt64}},
		{Name: "s", Type: tString, Dims: []int64{2}, Strings: []string{"", "héllo\x00"}},
		{Name: "u8", Type: tUint8, Dims: []int64{3}, Bytes: []byte{0, 6, 255}},
		{Name: "scalar", Type: tDouble, Doubles: []float64{3}},
	}
	for _, want := range tensors {
		got, err := decodeTensor(want.marshal())
		if err != nil {
			t.Fatalf("tensor %s: %v", want.Name, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("tensor %s: got %+v, want %+v", want.Name, *got, want)
		}
	}
	attrs := []attribute{
		intAttr("axis", -1), floatAttr("alpha", 0.25), stringAttr("mode", "TF"),
		intsAttr("ids", []int64{1, -2, 3}), stringsAttr("keys", []string{"a", "", "c"}),
		{Name: "fs", Type: aFloats, Floats: []float32{1, 2.5}},
		tensorAttr("t", tensors[0]),
	}
	for _, want := range attrs {
		got, err := decodeAttribute(want.marshal())
		if err != nil {
			t.Fatalf("attribute %s: %v", want.Name, err)
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("attribute %s: got %+v, want %+v", want.Name, *got, want)
		}
	}
	vi := valueInfo{Name: "x", Type: tString, Dims: []int64{-1, 1}, Param: "N", Doc: "doc"}
	if got, err := decodeValueInfo(vi.marshal()); err != nil || !reflect.DeepEqual(*got, vi) {
		t.Errorf("value info: got %+v, %v; want %+v", got, err, vi)
	}
	n := node{Inputs: []string{"a", "b"}, Outputs: []string{"c"}, Name: "c", Op: "TreeEnsemble", Domain: mlDomain, Attrs: attrs[:2]}
	if got, err := decodeNode(n.marshal()); err != nil || !reflect.DeepEqual(*got, n) {
		t.Errorf("node: got %+v, %v; want %+v", got, err, n)
	}
	// NaN separators of membership values survive bit for bit.
	nanT := tensor{Type: tDouble, Dims: []int64{2}, Doubles: []float64{1, math.NaN()}}
	got, err := decodeTensor(nanT.marshal())
	if err != nil || len(got.Doubles) != 2 || !math.IsNaN(got.Doubles[1]) {
		t.Errorf("NaN tensor: got %+v, %v", got, err)
	}
	for _, bad := range [][]byte{{0x0a}, {0x0a, 0x05, 0x01}, {0xff}, {0x3f}} {
		if _, err := decodeModel(bad); err == nil {
			t.Errorf("decodeModel(%x) accepted bad input", bad)
		}
	}
}
