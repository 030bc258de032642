package data

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const weatherARFF = `% The classic Weka example, with a few twists.
@RELATION weather

@ATTRIBUTE outlook {sunny, overcast, 'rainy day'}
@attribute temperature REAL
@Attribute 'relative humidity' integer   % a quoted name
@ATTRIBUTE windy{TRUE,FALSE}
@ATTRIBUTE note string
@ATTRIBUTE when DATE "yyyy-MM-dd HH:mm"
@ATTRIBUTE day date 'dd/MM/yyyy'
@ATTRIBUTE ts date

@DATA
sunny,85,85,FALSE,'it\'s hot',"2024-03-01 14:30",01/03/2024,2024-03-01T14:30:15
% a comment between rows

'rainy day', 70.5 , ?, TRUE, "a, b", ?, 5/3/2024, ?   % trailing comment
overcast,?,90,FALSE,'50% off "x"',2024-12-31 23:59,31/12/2024,2024-12-31T00:00:00
`

func TestARFFSource(t *testing.T) {
	src, err := newARFFSource(strings.NewReader(weatherARFF), "weather.arff")
	if err != nil {
		t.Fatal(err)
	}
	d, err := dumpSource(src)
	if err != nil {
		t.Fatal(err)
	}
	want := sourceDump{
		header: []string{"outlook", "temperature", "relative humidity", "windy", "note", "when", "day", "ts"},
		hints:  []Kind{Categorical, Numeric, Numeric, Categorical, Text, Datetime, Datetime, Datetime},
		records: [][]string{
			{"sunny", "85", "85", "FALSE", "it's hot", "2024-03-01T14:30:00Z", "2024-03-01", "2024-03-01T14:30:15Z"},
			{"rainy day", "70.5", "", "TRUE", "a, b", "", "2024-03-05", ""},
			{"overcast", "", "90", "FALSE", `50% off "x"`, "2024-12-31T23:59:00Z", "2024-12-31", "2024-12-31T00:00:00Z"},
		},
		lines: []int{14, 17, 18},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got\n%+v\nwant\n%+v", d, want)
	}
}

// arffWith is a small header (a numeric, a nominal, a string attribute) and the
// given data lines; data starts on line 6.
func arffWith(data ...string) string {
	return "@relation r\n@attribute x numeric\n@attribute c {a,b,'c d'}\n@attribute s string\n@data\n" +
		strings.Join(data, "\n") + "\n"
}

func TestARFFSourceRows(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		records [][]string
		lines   []int
	}{
		{
			name:    "sparse rows fill unlisted numeric with 0 and nominal with its first value",
			in:      arffWith("{0 1.5, 2 x}", "{1 'c d'}", "{}"),
			records: [][]string{{"1.5", "a", "x"}, {"0", "c d", ""}, {"0", "a", ""}},
			lines:   []int{6, 7, 8},
		},
		{
			name:    "a sparse missing value",
			in:      arffWith("{0 ?, 1 b}"),
			records: [][]string{{"", "b", ""}},
			lines:   []int{6},
		},
		{
			name:    "instance weights are ignored",
			in:      arffWith("1,a,x,{0.5}", "{0 2}, {3}"),
			records: [][]string{{"1", "a", "x"}, {"2", "a", ""}},
			lines:   []int{6, 7},
		},
		{
			name:    "a quoted ? is a value, a bare one is missing",
			in:      arffWith("?,?,'?'"),
			records: [][]string{{"", "", "?"}},
			lines:   []int{6},
		},
		{
			name:    "escapes and commas inside quotes",
			in:      arffWith(`3,'c d','tab\there, \"q\" \\'`),
			records: [][]string{{"3", "c d", "tab\there, \"q\" \\"}},
			lines:   []int{6},
		},
		{
			name:    "no data rows",
			in:      arffWith(),
			records: nil,
			lines:   nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := newARFFSource(strings.NewReader(tt.in), "t.arff")
			if err != nil {
				t.Fatal(err)
			}
			d, err := dumpSource(src)
			if err != nil {
				t.Fatal(err)
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

func TestARFFSourceErrors(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		sentinel error
		line     int
		col      int
		msg      string
	}{
		{"a nominal value not declared", arffWith("1,a,x", "2,z,y"), ErrSyntax, 7, 2, `"z" is not one of the declared values of "c"`},
		{"too few values", arffWith("1,a"), ErrRagged, 6, 0, "2 values, expected 3"},
		{"too many values", arffWith("1,a,x,y"), ErrRagged, 6, 0, "4 values, expected 3"},
		{"missing @DATA", "@relation r\n@attribute x numeric\n\n", ErrSyntax, 3, 0, "no @DATA"},
		{"unknown type", "@relation r\n@attribute x complex\n@data\n", ErrSyntax, 2, 0, `unknown type "complex"`},
		{"relational attributes are not supported", "@attribute bag relational\n@data\n", ErrSyntax, 1, 0, "unknown type"},
		{"attribute without a type", "@attribute x\n@data\n", ErrSyntax, 1, 0, "has no type"},
		{"nominal type not closed", "@attribute c {a,b\n@data\n", ErrSyntax, 1, 0, "closing }"},
		{"data before attributes", "@relation r\n@data\n1\n", ErrSyntax, 2, 0, "before any @ATTRIBUTE"},
		{"not ARFF at all", "a,b,c\n1,2,3\n", ErrSyntax, 1, 0, "expected @RELATION"},
		{"empty file", "% only a comment\n\n", ErrEmpty, 0, 0, "empty"},
		{"unterminated quote", arffWith("1,a,'x"), ErrQuote, 6, 0, "unterminated"},
		{"sparse index out of range", arffWith("{3 1}"), ErrSyntax, 6, 0, "not an attribute index"},
		{"sparse entry without a value", arffWith("{0}"), ErrSyntax, 6, 0, `not "index value"`},
		{"sparse row not closed", arffWith("{0 1"), ErrSyntax, 6, 0, "closing }"},
		{"sparse bad nominal", arffWith("{1 q}"), ErrSyntax, 6, 2, "not one of the declared values"},
		{"date not matching its format", "@attribute d date 'yyyy-MM-dd'\n@data\n2024-01-02\n02/01/2024\n", ErrSyntax, 4, 1, `does not match the date format "yyyy-MM-dd"`},
		{"unsupported date pattern letters", "@attribute d date 'yyyy-ww'\n@data\n", ErrSyntax, 1, 0, `unsupported pattern letters "ww"`},
		{"invalid UTF-8", arffWith("1,a,\xff"), ErrInvalidUTF8, 6, 0, "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := newARFFSource(strings.NewReader(tt.in), "t.arff")
			if err == nil {
				_, err = dumpSource(src)
			}
			wantParseError(t, err, tt.sentinel, tt.line, tt.col, tt.msg)
		})
	}
}

func TestARFFErrorIsSticky(t *testing.T) {
	src, err := newARFFSource(strings.NewReader(arffWith("1,z,x", "2,a,y")), "t.arff")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err1 := src.Next()
	_, _, err2 := src.Next()
	if err1 == nil || !errors.Is(err2, ErrSyntax) {
		t.Fatalf("after a bad row, Next gave %v then %v; want the same error twice", err1, err2)
	}
}

func TestJavaDatePatterns(t *testing.T) {
	tests := []struct {
		pattern, in, want string
	}{
		{arffDefaultDate, "2024-01-02T03:04:05", "2024-01-02T03:04:05Z"},
		{"yyyy-MM-dd", "2024-1-5", "2024-01-05"},
		{"yyyyMMdd", "20240105", "2024-01-05"},
		{"dd.MM.yy HH:mm:ss.SSS", "05.01.24 13:14:15.250", "2024-01-05T13:14:15.25Z"},
		{"yyyy-MM-dd'T'HH:mm:ssXXX", "2024-01-05T10:00:00+02:00", "2024-01-05T08:00:00Z"},
		{"yyyy-MM-dd HH:mm:ss Z", "2024-01-05 10:00:00 -0100", "2024-01-05T11:00:00Z"},
		{"MMM d, yyyy h:mm a", "Jan 5, 2024 1:30 PM", "2024-01-05T13:30:00Z"},
		{"EEE, d MMMM yyyy", "Fri, 5 January 2024", "2024-01-05"},
		{"yyyy-MM-dd 'at' HH:mm", "2024-01-05 at 09:07", "2024-01-05T09:07:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			d, err := compileJavaDate(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			tm, err := d.parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := formatRFC3339(tm, d.hasTime); got != tt.want {
				t.Errorf("%q → %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "yyyy-ww", "'unterminated", "yyyy '1st' MM", "ss SSS", "yyyy 'Jan'"} {
		t.Run("rejects "+bad, func(t *testing.T) {
			if _, err := compileJavaDate(bad); err == nil {
				t.Errorf("pattern %q accepted", bad)
			}
		})
	}
}

func FuzzARFF(f *testing.F) {
	f.Add([]byte(weatherARFF))
	f.Add([]byte(arffWith("{0 1.5, 2 x}", "1,a,x,{2}", "?,'c d','q\\'s'")))
	f.Add([]byte("@attribute d date 'dd.MM.yy HH:mm:ss.SSS'\n@data\n05.01.24 13:14:15.250\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		src, err := newARFFSource(strings.NewReader(string(in)), "f.arff")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			return
		}
		d, err := dumpSource(src)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line <= 0 {
				t.Fatalf("error %v is not a *ParseError with a line", err)
			}
		}
		if len(d.hints) != len(d.header) {
			t.Fatalf("%d hints for %d columns", len(d.hints), len(d.header))
		}
		prev := 0
		for i, r := range d.records {
			if len(r) != len(d.header) {
				t.Fatalf("record %d has %d cells, header %d", i, len(r), len(d.header))
			}
			if d.lines[i] <= prev {
				t.Fatalf("line numbers not increasing: %v", d.lines)
			}
			prev = d.lines[i]
		}
	})
}
