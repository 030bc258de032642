package onnx

import (
	"math"
	"strconv"
)

// builder accumulates a graph: nodes in topological order (each is appended
// after its inputs exist), constants as initializers, fresh value names.
type builder struct {
	g    graph
	next int
}

// fresh returns a new value name; prefix says what it is, for a reader of
// the graph (Netron).
func (b *builder) fresh(prefix string) string {
	b.next++
	return prefix + "_" + strconv.Itoa(b.next)
}

// op adds a node of the default domain with one output and returns it.
func (b *builder) op(op string, inputs []string, attrs ...attribute) string {
	out := b.fresh(op)
	b.g.Nodes = append(b.g.Nodes, node{Inputs: inputs, Outputs: []string{out}, Name: out, Op: op, Attrs: attrs})
	return out
}

// mlop adds a node of the ai.onnx.ml domain with one output.
func (b *builder) mlop(op string, inputs []string, attrs ...attribute) string {
	out := b.fresh(op)
	b.g.Nodes = append(b.g.Nodes, node{Inputs: inputs, Outputs: []string{out}, Name: out, Op: op, Domain: mlDomain, Attrs: attrs})
	return out
}

// identity copies in to a value of the given name, for graph outputs.
func (b *builder) identity(in, name string) {
	b.g.Nodes = append(b.g.Nodes, node{Inputs: []string{in}, Outputs: []string{name}, Name: name, Op: "Identity"})
}

func (b *builder) init(t tensor) string {
	t.Name = b.fresh("c")
	b.g.Initializers = append(b.g.Initializers, t)
	return t.Name
}

// doubles is a double constant of the given shape (a scalar when dims is
// empty).
func (b *builder) doubles(v []float64, dims ...int64) string {
	return b.init(tensor{Type: tDouble, Dims: dims, Doubles: v})
}

func (b *builder) scalar(v float64) string { return b.doubles([]float64{v}) }

func (b *builder) int64s(v []int64, dims ...int64) string {
	return b.init(tensor{Type: tInt64, Dims: dims, Int64s: v})
}

func (b *builder) strings(v []string, dims ...int64) string {
	return b.init(tensor{Type: tString, Dims: dims, Strings: v})
}

// Common small subgraphs.

func (b *builder) add(x, y string) string { return b.op("Add", []string{x, y}) }
func (b *builder) sub(x, y string) string { return b.op("Sub", []string{x, y}) }
func (b *builder) mul(x, y string) string { return b.op("Mul", []string{x, y}) }
func (b *builder) div(x, y string) string { return b.op("Div", []string{x, y}) }
func (b *builder) where(c, x, y string) string {
	return b.op("Where", []string{c, x, y})
}
func (b *builder) cast(x string, to int32) string {
	return b.op("Cast", []string{x}, intAttr("to", int64(to)))
}
func (b *builder) isNaN(x string) string { return b.op("IsNaN", []string{x}) }

// concat joins tensors along axis.
func (b *builder) concat(axis int64, xs ...string) string {
	if len(xs) == 1 {
		return xs[0]
	}
	return b.op("Concat", xs, intAttr("axis", axis))
}

// split is StringSplit of x on delimiter ("" splits on runs of spaces);
// its output has one axis more, padded with "".
func (b *builder) split(x, delimiter string) string {
	out := b.fresh("StringSplit")
	var attrs []attribute
	if delimiter != "" {
		attrs = append(attrs, stringAttr("delimiter", delimiter))
	}
	b.g.Nodes = append(b.g.Nodes, node{Inputs: []string{x}, Outputs: []string{out, out + "_n"}, Name: out, Op: "StringSplit", Attrs: attrs})
	return out
}

// lower lower-cases the ASCII letters of x [C] string (StringNormalizer
// in the C locale, which also needs no locale installed).
func (b *builder) lower(x string) string {
	return b.op("StringNormalizer", []string{x},
		stringAttr("case_change_action", "LOWER"), intAttr("is_case_sensitive", 1), stringAttr("locale", "C"))
}

// reshape to a constant shape.
func (b *builder) reshape(x string, shape ...int64) string {
	return b.op("Reshape", []string{x, b.int64s(shape, int64(len(shape)))})
}

// softmax over axis 1 of [N, K] doubles.
func (b *builder) softmax(x string) string {
	return b.op("Softmax", []string{x}, intAttr("axis", 1))
}

// binaryProbs turns the positive class's probability p [N, 1] into
// [1-p, p] [N, 2].
func (b *builder) binaryProbs(p string) string {
	return b.concat(1, b.sub(b.scalar(1), p), p)
}

// sigmoid is ONNX's Sigmoid, 1/(1+exp(-x)); it differs from the learners'
// own forms by an ulp or two at most.
func (b *builder) sigmoid(x string) string {
	return b.op("Sigmoid", []string{x})
}

var nan = math.NaN()

// Attribute constructors.

func intAttr(name string, v int64) attribute { return attribute{Name: name, Type: aInt, I: v} }
func floatAttr(name string, v float32) attribute {
	return attribute{Name: name, Type: aFloat, F: v}
}
func stringAttr(name, v string) attribute { return attribute{Name: name, Type: aString, S: v} }
func intsAttr(name string, v []int64) attribute {
	return attribute{Name: name, Type: aInts, Ints: v}
}
func stringsAttr(name string, v []string) attribute {
	return attribute{Name: name, Type: aStrings, Strings: v}
}
func tensorAttr(name string, t tensor) attribute {
	return attribute{Name: name, Type: aTensor, T: &t}
}
