package serve

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestDecodeInferRequest(t *testing.T) {
	body := []byte(`{"id":"a\"b","parameters":{"x":[1,{"y":null}]},"inputs":[
		{"name":"n","datatype":"FP64","shape":[2,1],"data":[[1.5e3],[-0]]},
		{"name":"s","datatype":"BYTES","shape":[2],"parameters":{},"data":["caf\u00e9 \ud83d\ude00","x\\y"]},
		{"name":"m","datatype":"INT64","shape":[1],"data":[null]}],
		"outputs":[{"name":"label","parameters":{"binary_data":false}}]}`)
	var req inferRequest
	if err := decodeInferRequest(body, &req); err != nil {
		t.Fatal(err)
	}
	if req.id != `a"b` || len(req.inputs) != 3 || len(req.outputs) != 1 || req.outputs[0] != "label" {
		t.Fatalf("decoded %+v", req)
	}
	n, s, m := req.inputs[0], req.inputs[1], req.inputs[2]
	if n.data[0].text != "1.5e3" || n.data[1].text != "-0" || len(n.shape) != 2 || n.shape[0] != 2 {
		t.Errorf("numeric input %+v", n)
	}
	if s.data[0].text != "café 😀" || s.data[1].text != `x\y` {
		t.Errorf("strings %q %q", s.data[0].text, s.data[1].text)
	}
	if m.data[0].kind != cellNull {
		t.Errorf("null = %+v", m.data[0])
	}
	for _, tc := range []struct{ body, want string }{
		{``, "expected an object, found end of input"},
		{`{"inputs":[]} x`, "after the request object"},
		{`{"inputs":[{"name":"a","datatype":"FP64","shape":[1],"data":[01]}]}`, "expected ',' or ']'"},
		{`{"inputs":[{"name":"a","datatype":"FP64","shape":[1],"data":[1.]}]}`, "no digits after '.'"},
		{`{"inputs":[{"name":"a","datatype":"FP64","shape":[-1],"data":[1]}]}`, "not a non-negative whole number"},
		{`{"inputs":[{"name":"a","datatype":"BYTES","shape":[1],"data":["\x"]}]}`, `invalid escape`},
		{`{"inputs":[{"name":"a","datatype":"BYTES","shape":[1],"data":[{}]}]}`, "holds an object"},
		{`{"inputs":[{"name":"a","shape":[1],"data":[1]}]}`, `input "a" has no "datatype"`},
		{`{"id":"x"}`, `has no "inputs"`},
		{`{"inputs":[{"data":` + strings.Repeat("[", 200), "nested deeper"},
		{`{"parameters":` + strings.Repeat(`{"a":[`, 100), "nested deeper"},
	} {
		err := decodeInferRequest([]byte(tc.body), &req)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: error %v, want one saying %q", tc.body, err, tc.want)
		}
	}
}

// FuzzDecodeInferRequest: the decoder never panics, agrees with
// encoding/json on what is valid JSON, and what it accepts re-encodes to a
// request it decodes to the same cells.
func FuzzDecodeInferRequest(f *testing.F) {
	f.Add([]byte(`{"inputs":[{"name":"a","datatype":"FP64","shape":[1],"data":[1]}]}`))
	f.Add([]byte(`{"id":"x","inputs":[{"name":"b","datatype":"BYTES","shape":[2,1],"data":[["\u00e9"],[null]]}],"outputs":[{"name":"label"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var req inferRequest
		err := decodeInferRequest(b, &req)
		var se *syntaxError
		if errors.As(err, &se) && json.Valid(b) {
			t.Fatalf("valid JSON refused as malformed: %v", err)
		}
		if err != nil {
			return
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON accepted: %q", b)
		}
		// Re-encode and decode again.
		var out []byte
		out = append(out, `{"id":`...)
		out = appendJSONString(out, req.id)
		out = append(out, `,"inputs":[`...)
		for i, in := range req.inputs {
			if i > 0 {
				out = append(out, ',')
			}
			out = append(out, `{"name":`...)
			out = appendJSONString(out, in.name)
			out = append(out, `,"datatype":`...)
			out = appendJSONString(out, in.datatype)
			out = append(out, `,"shape":[`...)
			for j, d := range in.shape {
				if j > 0 {
					out = append(out, ',')
				}
				out = append(out, []byte(itoa(d))...)
			}
			out = append(out, `],"data":[`...)
			for j, c := range in.data {
				if j > 0 {
					out = append(out, ',')
				}
				switch c.kind {
				case cellString:
					out = appendJSONString(out, c.text)
				case cellNull:
					out = append(out, "null"...)
				default:
					out = append(out, c.text...)
				}
			}
			out = append(out, "]}"...)
		}
		out = append(out, "]}"...)
		var again inferRequest
		if err := decodeInferRequest(out, &again); err != nil {
			t.Fatalf("re-encoded %q: %v", out, err)
		}
		if len(again.inputs) != len(req.inputs) {
			t.Fatalf("inputs %d then %d", len(req.inputs), len(again.inputs))
		}
		for i := range req.inputs {
			a, b := req.inputs[i], again.inputs[i]
			if len(a.data) != len(b.data) {
				t.Fatalf("input %d: %d then %d cells", i, len(a.data), len(b.data))
			}
			for j := range a.data {
				if a.data[j].kind != b.data[j].kind || (a.data[j].kind != cellString && a.data[j].text != b.data[j].text) {
					t.Fatalf("input %d cell %d: %+v then %+v", i, j, a.data[j], b.data[j])
				}
			}
		}
	})
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
