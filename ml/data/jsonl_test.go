package data

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// sourceDump is everything a source yields, copied out of its reused slices.
type sourceDump struct {
	header  []string
	hints   []Kind
	records [][]string
	lines   []int
}

// dumpSource reads a source to the end or to its first error.
func dumpSource(src source) (sourceDump, error) {
	var d sourceDump
	h, err := src.Header()
	if err != nil {
		return d, err
	}
	d.header = append([]string(nil), h...)
	d.hints = src.Hints()
	for {
		rec, line, err := src.Next()
		if err == io.EOF {
			return d, nil
		}
		if err != nil {
			return d, err
		}
		d.records = append(d.records, append([]string(nil), rec...))
		d.lines = append(d.lines, line)
	}
}

// wantParseError checks that err is a *ParseError at line (and column, when
// col > 0) wrapping sentinel, with msg in its text.
func wantParseError(t *testing.T, err error, sentinel error, line, col int, msg string) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %q", err, sentinel)
	}
	if pe.Line != line {
		t.Errorf("error %q: line %d, want %d", err, pe.Line, line)
	}
	if col > 0 && pe.Column != col {
		t.Errorf("error %q: column %d, want %d", err, pe.Column, col)
	}
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not mention %q", err, msg)
	}
}

func TestJSONLSource(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		header  []string
		records [][]string
		lines   []int
	}{
		{
			name:    "keys in first-seen order, absent and null are missing",
			in:      `{"a":1,"b":"x"}` + "\n" + `{"b":"y","c":true}` + "\n" + `{"a":null,"c":false}` + "\n",
			header:  []string{"a", "b", "c"},
			records: [][]string{{"1", "x", ""}, {"", "y", "true"}, {"", "", "false"}},
			lines:   []int{1, 2, 3},
		},
		{
			name:    "numbers keep their full precision and form",
			in:      `{"n":12345678901234567890,"f":0.1000000000000000055511151231257827,"e":1e400}`,
			header:  []string{"n", "f", "e"},
			records: [][]string{{"12345678901234567890", "0.1000000000000000055511151231257827", "1e400"}},
			lines:   []int{1},
		},
		{
			name:    "nested values become compact JSON",
			in:      `{"o": {"x": [1, 2], "y": null}, "arr": [ "a" , {"b":1} ]}`,
			header:  []string{"o", "arr"},
			records: [][]string{{`{"x":[1,2],"y":null}`, `["a",{"b":1}]`}},
			lines:   []int{1},
		},
		{
			name:    "blank lines skipped, CRLF and BOM tolerated, line numbers kept",
			in:      "\uFEFF\r\n\n{\"a\":\"é\\n\\u00e9\"}\r\n   \n{\"a\":2}",
			header:  []string{"a"},
			records: [][]string{{"é\né"}, {"2"}},
			lines:   []int{3, 5},
		},
		{
			name:    "duplicate key: last wins",
			in:      `{"a":1,"a":2}`,
			header:  []string{"a"},
			records: [][]string{{"2"}},
			lines:   []int{1},
		},
		{
			name:    "a JSON array of objects; line is the object index",
			in:      "  [\n {\"a\": 1},\n {\"b\": \"x\"},\n {\"a\": 3, \"b\": null}\n]\n",
			header:  []string{"a", "b"},
			records: [][]string{{"1", ""}, {"", "x"}, {"3", ""}},
			lines:   []int{1, 2, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := newJSONLSource(strings.NewReader(tt.in), "t.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			d, err := dumpSource(src)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.header, tt.header) {
				t.Errorf("header %q, want %q", d.header, tt.header)
			}
			if d.hints != nil {
				t.Errorf("hints %v, want none", d.hints)
			}
			if !reflect.DeepEqual(d.records, tt.records) {
				t.Errorf("records %q, want %q", d.records, tt.records)
			}
			if !reflect.DeepEqual(d.lines, tt.lines) {
				t.Errorf("lines %v, want %v", d.lines, tt.lines)
			}
		})
	}
}

func TestJSONLSourceErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		sentinel error
		line     int
		msg      string
	}{
		{"a line that is an array", "{\"a\":1}\n[1,2]\n", ErrSyntax, 2, "not a JSON object"},
		{"a line that is a number", "{\"a\":1}\n\n42\n", ErrSyntax, 3, "not a JSON object"},
		{"broken JSON names the json error", "{\"a\":1}\n{\"a\":}\n", ErrSyntax, 2, "invalid character"},
		{"unterminated object", "{\"a\":1", ErrSyntax, 1, "syntax error"},
		{"two objects on one line", "{\"a\":1} {\"a\":2}\n", ErrSyntax, 1, "after the object"},
		{"array element that is not an object", "[{\"a\":1}, 2]", ErrSyntax, 2, "not a JSON object"},
		{"array not closed", "[{\"a\":1}", ErrSyntax, 2, "syntax error"},
		{"empty input", "", ErrEmpty, 0, "empty"},
		{"only blank lines", "\n \n\t\n", ErrEmpty, 0, "empty"},
		{"objects without keys", "{}\n{}\n", ErrEmpty, 0, "no object has any key"},
		{"empty array", "[]", ErrEmpty, 0, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := newJSONLSource(strings.NewReader(tt.in), "t.jsonl")
			if err != nil {
				t.Fatal(err)
			}
			_, err = dumpSource(src)
			wantParseError(t, err, tt.sentinel, tt.line, 0, tt.msg)
			if !strings.HasPrefix(err.Error(), "t.jsonl") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func FuzzJSONL(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x"}` + "\n" + `{"c":[1,{"d":null}]}`,
		`[{"a":1},{"b":2}]`,
		"\n\n{\"a\":true}\r\n",
		`{"a":1`,
		`[1]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		src, err := newJSONLSource(strings.NewReader(string(in)), "f.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		d, err := dumpSource(src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		for i, r := range d.records {
			if len(r) != len(d.header) {
				t.Fatalf("record %d has %d cells, header %d", i, len(r), len(d.header))
			}
		}
	})
}
