package serve

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The Open Inference Protocol v2 request, decoded by hand: encoding/json
// with reflection and an interface{} per cell costs more than the model on a
// one-row request. The decoder keeps every cell as text: a number as its JSON
// literal (which strconv.ParseFloat reads exactly as the model's CSV path
// does), a string as its unescaped value. Cells without escapes alias the
// request body, which the caller must therefore not reuse while they live.

// cellKind says what JSON value a cell was.
type cellKind uint8

const (
	cellNumber cellKind = iota + 1
	cellString
	cellNull
	cellBool
)

type cell struct {
	text string
	kind cellKind
}

// tensor is one named input of a request.
type tensor struct {
	name     string
	datatype string
	shape    []int64
	data     []cell
	hasShape bool
	hasData  bool
}

// inferRequest is a decoded OIP inference request.
type inferRequest struct {
	id      string
	inputs  []tensor
	outputs []string // the requested output names; none means all
}

func (r *inferRequest) reset() {
	r.id = ""
	for i := range r.inputs {
		r.inputs[i].data = r.inputs[i].data[:0]
		r.inputs[i].shape = r.inputs[i].shape[:0]
	}
	r.inputs = r.inputs[:0]
	r.outputs = r.outputs[:0]
}

// syntaxError is malformed JSON, with the byte offset where it was found.
type syntaxError struct {
	msg string
	off int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.off, e.msg)
}

// requestError is well-formed JSON that is not a valid request.
type requestError struct{ msg string }

func (e *requestError) Error() string { return e.msg }

type decoder struct {
	b   []byte
	pos int
}

func (d *decoder) fail(format string, args ...any) error {
	return &syntaxError{msg: fmt.Sprintf(format, args...), off: d.pos}
}

// wrongType is well-formed JSON of the wrong shape for a request.
func (d *decoder) wrongType(format string, args ...any) error {
	if d.peek() == 0 {
		return d.fail("unexpected end of input")
	}
	return &requestError{fmt.Sprintf(format, args...) + fmt.Sprintf(" (at byte %d)", d.pos)}
}

func (d *decoder) ws() {
	for d.pos < len(d.b) {
		switch d.b[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.pos >= len(d.b) {
		return 0
	}
	return d.b[d.pos]
}

func (d *decoder) expect(c byte) error {
	if d.peek() != c {
		if d.pos >= len(d.b) {
			return d.fail("unexpected end of input, expected %q", c)
		}
		return d.fail("expected %q, found %q", c, d.b[d.pos])
	}
	d.pos++
	return nil
}

func describe(c byte) string {
	if c == 0 {
		return "end of input"
	}
	return strconv.QuoteRune(rune(c))
}

// decodeInferRequest decodes body into req (reset first). It never panics.
// A *syntaxError is malformed JSON; a *requestError is JSON that is not an
// inference request.
func decodeInferRequest(body []byte, req *inferRequest) error {
	req.reset()
	d := &decoder{b: body}
	if c := d.peek(); c != '{' {
		if c == 0 {
			return d.fail("expected an object, found end of input")
		}
		return d.wrongType("the request must be a JSON object: expected an object, found %s", describe(c))
	}
	sawInputs := false
	err := d.object(func(key string) error {
		switch key {
		case "id":
			s, err := d.str()
			req.id = s
			return err
		case "inputs":
			sawInputs = true
			if d.peek() != '[' {
				return d.wrongType("\"inputs\" must be an array")
			}
			return d.array(func() error {
				if len(req.inputs) < cap(req.inputs) {
					req.inputs = req.inputs[:len(req.inputs)+1]
				} else {
					req.inputs = append(req.inputs, tensor{})
				}
				t := &req.inputs[len(req.inputs)-1]
				t.name, t.datatype, t.hasShape, t.hasData = "", "", false, false
				return d.tensor(t)
			})
		case "outputs":
			if d.peek() != '[' {
				return d.wrongType("\"outputs\" must be an array")
			}
			return d.array(func() error {
				if d.peek() != '{' {
					return d.wrongType("an output must be an object")
				}
				return d.object(func(key string) error {
					if key != "name" {
						return d.skip()
					}
					s, err := d.str()
					req.outputs = append(req.outputs, s)
					return err
				})
			})
		default: // parameters and any extension
			return d.skip()
		}
	})
	if err != nil {
		return err
	}
	if c := d.peek(); c != 0 {
		return d.fail("unexpected %s after the request object", describe(c))
	}
	if !sawInputs {
		return &requestError{"the request has no \"inputs\""}
	}
	for i := range req.inputs {
		t := &req.inputs[i]
		switch {
		case t.name == "":
			return &requestError{fmt.Sprintf("input %d has no \"name\"", i)}
		case t.datatype == "":
			return &requestError{fmt.Sprintf("input %q has no \"datatype\"", t.name)}
		case !t.hasShape:
			return &requestError{fmt.Sprintf("input %q has no \"shape\"", t.name)}
		case !t.hasData:
			return &requestError{fmt.Sprintf("input %q has no \"data\"", t.name)}
		}
	}
	return nil
}

func (d *decoder) tensor(t *tensor) error {
	if c := d.peek(); c != '{' {
		return d.wrongType("expected an input object, found %s", describe(c))
	}
	return d.object(func(key string) error {
		var err error
		switch key {
		case "name":
			t.name, err = d.str()
		case "datatype":
			t.datatype, err = d.str()
		case "shape":
			t.hasShape = true
			if d.peek() != '[' {
				return d.wrongType("\"shape\" must be an array")
			}
			err = d.array(func() error {
				if c := d.peek(); c != '-' && (c < '0' || c > '9') {
					return d.wrongType("a shape holds whole numbers")
				}
				start := d.pos
				c, err := d.value()
				if err != nil {
					return err
				}
				if c.kind != cellNumber {
					d.pos = start
					return d.wrongType("a shape holds whole numbers")
				}
				n, perr := strconv.ParseInt(c.text, 10, 64)
				if perr != nil || n < 0 {
					d.pos = start
					return d.wrongType("shape dimension %s is not a non-negative whole number", c.text)
				}
				t.shape = append(t.shape, n)
				return nil
			})
		case "data":
			t.hasData = true
			err = d.data(t, 0)
		default:
			err = d.skip()
		}
		return err
	})
}

// maxDepth bounds nested arrays, in data and in skipped values, so that a
// hostile body cannot exhaust the stack.
const maxDepth = 64

// data reads a tensor's data: a flat or nested (row-major) array of
// scalars, flattened.
func (d *decoder) data(t *tensor, depth int) error {
	if depth > maxDepth {
		return d.fail("arrays nested deeper than %d", maxDepth)
	}
	if c := d.peek(); c != '[' {
		return d.wrongType("\"data\" must be an array, found %s", describe(c))
	}
	return d.array(func() error {
		if d.peek() == '[' {
			return d.data(t, depth+1)
		}
		if d.peek() == '{' {
			return d.wrongType("\"data\" holds an object; it must hold numbers or strings")
		}
		c, err := d.value()
		if err != nil {
			return err
		}
		t.data = append(t.data, c)
		return nil
	})
}

// object calls field for every key, positioned at its value, which field
// must consume.
func (d *decoder) object(field func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		if c := d.peek(); c != '"' {
			return d.fail("expected a key string, found %s", describe(c))
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch c := d.peek(); c {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.fail("expected ',' or '}' in object, found %s", describe(c))
		}
	}
}

// array calls elem for every element, positioned at it.
func (d *decoder) array(elem func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch c := d.peek(); c {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.fail("expected ',' or ']' in array, found %s", describe(c))
		}
	}
}

// str reads a JSON string.
func (d *decoder) str() (string, error) {
	if d.peek() != '"' {
		return "", d.wrongType("expected a string, found %s", describe(d.peek()))
	}
	c, err := d.value()
	if err != nil {
		return "", err
	}
	if c.kind != cellString {
		return "", d.fail("expected a string")
	}
	return c.text, nil
}

// value reads one scalar: string, number, true, false or null.
func (d *decoder) value() (cell, error) {
	switch c := d.peek(); {
	case c == '"':
		s, err := d.stringLit()
		return cell{text: s, kind: cellString}, err
	case c == '-' || c >= '0' && c <= '9':
		s, err := d.number()
		return cell{text: s, kind: cellNumber}, err
	case c == 'n':
		return cell{kind: cellNull}, d.literal("null")
	case c == 't':
		return cell{text: "true", kind: cellBool}, d.literal("true")
	case c == 'f':
		return cell{text: "false", kind: cellBool}, d.literal("false")
	default:
		return cell{}, d.fail("expected a value, found %s", describe(c))
	}
}

func (d *decoder) literal(word string) error {
	if len(d.b)-d.pos < len(word) || string(d.b[d.pos:d.pos+len(word)]) != word {
		return d.fail("invalid literal, expected %s", word)
	}
	d.pos += len(word)
	return nil
}

// alias is the text of b without a copy; b must outlive it unchanged.
func alias(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// number reads a JSON number (RFC 8259 grammar) and returns its literal.
func (d *decoder) number() (string, error) {
	start := d.pos
	b := d.b
	i := d.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		d.pos = i
		return "", d.fail("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.pos = i
			return "", d.fail("invalid number: no digits after '.'")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			d.pos = i
			return "", d.fail("invalid number: no digits in the exponent")
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	d.pos = i
	return alias(b[start:i]), nil
}

// stringLit reads a JSON string literal. Without escapes the result aliases
// the body; with escapes it is a new string.
func (d *decoder) stringLit() (string, error) {
	d.pos++ // the opening quote
	start := d.pos
	b := d.b
	for i := start; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			d.pos = i + 1
			return alias(b[start:i]), nil
		case c == '\\':
			d.pos = i
			return d.escapedString(start)
		case c < 0x20:
			d.pos = i
			return "", d.fail("control character %#x in a string", c)
		}
	}
	d.pos = len(b)
	return "", d.fail("unterminated string")
}

func (d *decoder) escapedString(start int) (string, error) {
	b := d.b
	out := make([]byte, 0, d.pos-start+16)
	out = append(out, b[start:d.pos]...)
	i := d.pos
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			d.pos = i + 1
			return string(out), nil
		case c < 0x20:
			d.pos = i
			return "", d.fail("control character %#x in a string", c)
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch e := b[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				d.pos = i
				return "", d.fail("invalid \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(b, i+2); ok && i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			d.pos = i
			return "", d.fail("invalid escape \\%c", e)
		}
		i += 2
	}
	d.pos = len(b)
	return "", d.fail("unterminated string")
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skip consumes any value.
func (d *decoder) skip() error { return d.skipDepth(0) }

func (d *decoder) skipDepth(depth int) error {
	if depth > maxDepth {
		return d.fail("values nested deeper than %d", maxDepth)
	}
	switch d.peek() {
	case '{':
		return d.object(func(string) error { return d.skipDepth(depth + 1) })
	case '[':
		return d.array(func() error { return d.skipDepth(depth + 1) })
	}
	_, err := d.value()
	return err
}
