package data

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

func readString(t *testing.T, name, content string, opts ReadOptions) (*Frame, error) {
	t.Helper()
	return Read(context.Background(), strings.NewReader(content), name, opts)
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadErrors(t *testing.T) {
	longGz := gzipBytes(t, []byte("a,b\n"+strings.Repeat("1,2\n", 20000)))
	tests := []struct {
		name    string
		file    string
		content string
		want    error
		line    int
		column  int
		colName string
		msg     string // a substring of the message
	}{
		{name: "ragged row names its line", file: "r.csv", content: "a,b,c\n1,2,3\n4,5\n",
			want: ErrRagged, line: 3, msg: "r.csv: line 3: wrong number of fields: expected 3, found 2"},
		{name: "too many fields", file: "r.csv", content: "a,b\n1,2\n3,4,5\n", want: ErrRagged, line: 3},
		{name: "unterminated quote names where it started", file: "q.csv",
			content: "a,b\n1,2\n3,\"four\n5,6\n7,8\n", want: ErrQuote, line: 3},
		{name: "bare quote inside a field", file: "q.csv", content: "a,b\n1,x\"y\n", want: ErrQuote, line: 2},
		{name: "invalid UTF-8 names line and column", file: "u.csv", content: "a,b\n1,ok\n2,bad\xff\n",
			want: ErrInvalidUTF8, line: 3, column: 2, colName: "b"},
		{name: "invalid UTF-8 in the header", file: "u.csv", content: "a,\xfeb\n1,2\n", want: ErrInvalidUTF8, line: 1, column: 2},
		{name: "empty file", file: "e.csv", content: "", want: ErrEmpty},
		{name: "empty gzip member", file: "e.csv.gz", content: string(gzipBytes(t, nil)), want: ErrEmpty},
		{name: "header only", file: "h.csv", content: "a,b,c\n", want: ErrNoRows},
		{name: "duplicate column names", file: "d.csv", content: "a,b,a\n1,2,3\n",
			want: ErrDuplicateColumn, line: 1, column: 3, colName: "a", msg: "column 1 and column 3"},
		{name: "unnamed column clashing with a generated name", file: "d.csv", content: "column_2,\n1,2\n",
			want: ErrDuplicateColumn, column: 2},
		{name: "binary file renamed .csv", file: "b.csv", content: "PAR1\x00\x00\x15\x04binary", want: ErrBinary},
		{name: "truncated gzip", file: "t.csv.gz", content: string(longGz[:len(longGz)/2]), want: ErrTruncated},
		{name: "gzip with a broken header", file: "t.csv.gz", content: "\x1f\x8b\x01", want: ErrTruncated},
		{name: "unknown format", file: "x.csv", content: "a\n1\n", want: ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := ReadOptions{}
			if tt.name == "unknown format" {
				opts.Format = "dbase"
			}
			_, err := readString(t, tt.file, tt.content, opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %T %v, want a *ParseError", err, err)
			}
			if pe.File != tt.file {
				t.Errorf("File = %q, want %q", pe.File, tt.file)
			}
			if tt.line != 0 && pe.Line != tt.line {
				t.Errorf("Line = %d, want %d (%v)", pe.Line, tt.line, err)
			}
			if tt.column != 0 && pe.Column != tt.column {
				t.Errorf("Column = %d, want %d (%v)", pe.Column, tt.column, err)
			}
			if tt.colName != "" && pe.ColumnName != tt.colName {
				t.Errorf("ColumnName = %q, want %q", pe.ColumnName, tt.colName)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not contain %q", err.Error(), tt.msg)
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing file gives the os error with the path", func(t *testing.T) {
		path := filepath.Join(dir, "nope.csv")
		_, err := ReadFile(context.Background(), path, ReadOptions{})
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("truncated gz on disk names the file", func(t *testing.T) {
		gz := gzipBytes(t, []byte("a,b\n"+strings.Repeat("10,20\n", 50000)))
		path := filepath.Join(dir, "cut.csv.gz")
		if err := os.WriteFile(path, gz[:len(gz)-9], 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ReadFile(context.Background(), path, ReadOptions{})
		var pe *ParseError
		if !errors.Is(err, ErrTruncated) || !errors.As(err, &pe) || pe.File != "cut.csv.gz" {
			t.Fatalf("err = %v", err)
		}
		if strings.HasPrefix(err.Error(), "unexpected EOF") {
			t.Fatalf("bare EOF message: %v", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		path := filepath.Join(dir, "big.csv")
		if err := os.WriteFile(path, []byte("a\n"+strings.Repeat("1\n", 10000)), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := ReadFile(ctx, path, ReadOptions{})
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "big.csv") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestReadCSVShapes(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		opts    ReadOptions
		names   []string
		rows    int
		check   func(t *testing.T, f *Frame)
	}{
		{name: "semicolon sniffed", file: "s.csv", content: "a;b;c\n1,5;2;x\n3;4;y\n",
			names: []string{"a", "b", "c"}, rows: 2},
		{name: "tab sniffed", file: "s.txt", content: "a\tb\n1\t2\n3\t4\n", names: []string{"a", "b"}, rows: 2},
		{name: "pipe sniffed", file: "s.csv", content: "a|b|c\n1|2|3\n", names: []string{"a", "b", "c"}, rows: 1},
		{name: "comma inside quotes does not fool the sniffer", file: "s.csv",
			content: "name;note\n\"Smith, J\";\"a, b, c\"\n\"Doe, K\";x\n", names: []string{"name", "note"}, rows: 2},
		{name: ".tsv means tab even with commas around", file: "s.tsv", content: "a,x\tb\n1,5\t2\n",
			names: []string{"a,x", "b"}, rows: 1},
		{name: "explicit delimiter wins", file: "s.csv", content: "a;b,c\n1;2,3\n", opts: ReadOptions{Delimiter: ','},
			names: []string{"a;b", "c"}, rows: 1},
		{name: "quoted newline stays in the field", file: "q.csv", content: "id,text\n1,\"two\nlines\"\n2,one\n",
			names: []string{"id", "text"}, rows: 2, check: func(t *testing.T, f *Frame) {
				if got := f.Column("text").Format(0); got != "two\nlines" {
					t.Errorf("text[0] = %q", got)
				}
			}},
		{name: "BOM is stripped from the first name", file: "b.csv", content: "\xEF\xBB\xBFa,b\n1,2\n",
			names: []string{"a", "b"}, rows: 1},
		{name: "CRLF line ends", file: "c.csv", content: "a,b\r\n1,2\r\n3,4\r\n", names: []string{"a", "b"}, rows: 2},
		{name: "empty header names are generated", file: "e.csv", content: ",b,\n1,2,3\n",
			names: []string{"column_1", "b", "column_3"}, rows: 1},
		{name: "no trailing newline", file: "n.csv", content: "a,b\n1,2", names: []string{"a", "b"}, rows: 1},
		{name: "spaces are kept", file: "s.csv", content: "a,b\n x ,1\ny,2\n", names: []string{"a", "b"}, rows: 2,
			check: func(t *testing.T, f *Frame) {
				if got := f.Column("a").Format(0); got != " x " {
					t.Errorf("a[0] = %q", got)
				}
			}},
		{name: "gzip detected by magic without .gz", file: "plain.csv",
			content: string(gzipBytes(t, []byte("a,b\n1,2\n"))), names: []string{"a", "b"}, rows: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := readString(t, tt.file, tt.content, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range f.Columns {
				names = append(names, c.Name)
			}
			if strings.Join(names, "|") != strings.Join(tt.names, "|") {
				t.Errorf("names = %q, want %q", names, tt.names)
			}
			if f.Rows() != tt.rows {
				t.Errorf("rows = %d, want %d", f.Rows(), tt.rows)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestSniffDelimiter(t *testing.T) {
	tests := []struct {
		name   string
		sample string
		want   rune
	}{
		{"comma", "a,b,c\n1,2,3\n", ','},
		{"semicolon with decimal commas", "a;b\n1,5;2,5\n3,5;4\n", ';'},
		{"tab", "a\tb\tc\n1\t2\t3\n", '\t'},
		{"pipe", "a|b\n1|2\n", '|'},
		{"single column", "a\n1\n2\n", ','},
		{"quoted commas", "\"a,b\";c\n\"1,2\";3\n", ';'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniffDelimiter([]byte(tt.sample)); got != tt.want {
				t.Errorf("sniffDelimiter = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNATokens(t *testing.T) {
	for _, tok := range []string{"", "NA", "na", "N/A", "n/a", "null", "NULL", "Null", "?", "NaN", "nan", "NAN"} {
		t.Run("token "+strings.TrimSpace(tok+" "), func(t *testing.T) {
			content := "x,s\n1,a\n" + quoteCell(tok) + "," + quoteCell(tok) + "\n3,b\n"
			f, err := readString(t, "na.csv", content, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			x, s := f.Column("x"), f.Column("s")
			if x.Kind != Numeric || !x.IsMissing(1) {
				t.Errorf("x: kind %v, missing %v", x.Kind, x.IsMissing(1))
			}
			if s.Kind != Categorical || !s.IsMissing(1) || len(s.Levels) != 2 {
				t.Errorf("s: kind %v, missing %v, levels %q", s.Kind, s.IsMissing(1), s.Levels)
			}
		})
	}
	t.Run("custom tokens replace the defaults", func(t *testing.T) {
		f, err := readString(t, "na.csv", "x,s\n1,NA\n-999,b\n", ReadOptions{NATokens: []string{"-999", ""}})
		if err != nil {
			t.Fatal(err)
		}
		if !f.Column("x").IsMissing(1) {
			t.Error("-999 not missing")
		}
		if s := f.Column("s"); s.IsMissing(0) || s.Format(0) != "NA" {
			t.Errorf("NA should be a value now: %q", s.Format(0))
		}
	})
	t.Run("non-ASCII custom token", func(t *testing.T) {
		f, err := readString(t, "na.csv", "s\nÑA\nx\nñA\n", ReadOptions{NATokens: []string{"ÑA"}})
		if err != nil {
			t.Fatal(err)
		}
		if s := f.Column("s"); !s.IsMissing(0) || s.IsMissing(2) {
			t.Errorf("levels %q codes %v", s.Levels, s.Codes)
		}
	})
	t.Run("near misses are values", func(t *testing.T) {
		f, err := readString(t, "na.csv", "s\nNAN!\n NA\nnull?\nNA\n", ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s := f.Column("s")
		if s.IsMissing(0) || s.IsMissing(1) || s.IsMissing(2) || !s.IsMissing(3) {
			t.Errorf("missing flags wrong: levels %q codes %v", s.Levels, s.Codes)
		}
	})
}

func quoteCell(s string) string {
	if s == "" {
		return ""
	}
	return s
}

func TestTypeInference(t *testing.T) {
	tests := []struct {
		name    string
		content string
		opts    ReadOptions
		kind    Kind
		check   func(t *testing.T, c *Column)
	}{
		{name: "integers and decimals are numeric", content: "x\n1\n-2.5\n3e2\n+4\n.5\n", kind: Numeric,
			check: func(t *testing.T, c *Column) {
				want := []float64{1, -2.5, 300, 4, 0.5}
				for i, w := range want {
					if c.Num[i] != w {
						t.Errorf("x[%d] = %v, want %v", i, c.Num[i], w)
					}
				}
			}},
		{name: "a late word turns numbers into categories", content: "x\n1\n2.50\nNA\nthree\n", kind: Categorical,
			check: func(t *testing.T, c *Column) {
				got := []string{c.Format(0), c.Format(1), c.Format(2), c.Format(3)}
				if strings.Join(got, "|") != "1|2.5||three" {
					t.Errorf("values = %q", got)
				}
			}},
		{name: "ISO dates", content: "d\n2024-01-31\n2023-12-01\nNA\n", kind: Datetime,
			check: func(t *testing.T, c *Column) {
				if c.Num[0] != 1706659200 || !c.IsMissing(2) {
					t.Errorf("d = %v", c.Num)
				}
			}},
		{name: "RFC 3339 times with zones", content: "t\n2024-01-31T10:00:00Z\n2024-01-31T12:00:00+02:00\n", kind: Datetime,
			check: func(t *testing.T, c *Column) {
				if c.Num[0] != c.Num[1] {
					t.Errorf("same instant differs: %v", c.Num)
				}
			}},
		{name: "date and time with a space", content: "t\n2024-01-31 10:00:00\n2024-02-01 11:30:15\n", kind: Datetime},
		{name: "US dates", content: "t\n01/31/2024\n12/01/2023\n", kind: Datetime},
		{name: "mixed layouts stay categorical", content: "t\n2024-01-31\n01/31/2024\n", kind: Categorical},
		{name: "impossible dates stay categorical", content: "t\n2024-02-31\n2024-01-01\n", kind: Categorical},
		{name: "short labels are categorical", content: "s\nred\ngreen\nred\nblue\n", kind: Categorical},
		{name: "sentences are text", content: "s\n" + strings.Repeat("the quick brown fox jumps over the lazy dog\nanother rather long sentence with spaces in it\n", 3),
			kind: Text},
		{name: "many distinct values are text", content: "s\n" + manyDistinct(300), kind: Text},
		{name: "all missing is categorical without levels", content: "s,x\n,1\nNA,2\n", kind: Categorical,
			check: func(t *testing.T, c *Column) {
				if len(c.Levels) != 0 || c.Len() != 2 {
					t.Errorf("levels %q, len %d", c.Levels, c.Len())
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := readString(t, "t.csv", tt.content, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			c := f.Columns[0]
			if c.Kind != tt.kind {
				t.Fatalf("kind = %v, want %v", c.Kind, tt.kind)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func manyDistinct(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString("id-")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a' + i%26)))
		b.WriteString(string(rune('a' + (i/26)%26)))
		b.WriteString("\n")
	}
	return b.String()
}

// hintedSource is a source with declared kinds, standing in for ARFF/Parquet.
type hintedSource struct {
	header []string
	hints  []Kind
	rows   [][]string
	i      int
}

func (s *hintedSource) Header() ([]string, error) { return s.header, nil }
func (s *hintedSource) Hints() []Kind             { return s.hints }
func (s *hintedSource) Next() ([]string, int, error) {
	if s.i == len(s.rows) {
		return nil, 0, errEOF
	}
	s.i++
	return s.rows[s.i-1], s.i + 1, nil
}

func TestHints(t *testing.T) {
	na := newNAMatcher(nil)
	t.Run("numeric hint refuses a word with its place", func(t *testing.T) {
		src := &hintedSource{header: []string{"id", "age"}, hints: []Kind{Unknown, Numeric},
			rows: [][]string{{"a", "1"}, {"b", "abc"}}}
		_, err := build(context.Background(), src, "h.arff", na, nil)
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
			t.Fatalf("err = %v", err)
		}
		if pe.Line != 3 || pe.Column != 2 || pe.ColumnName != "age" || !strings.Contains(err.Error(), `"abc" is not a number`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("categorical hint keeps numbers as written", func(t *testing.T) {
		src := &hintedSource{header: []string{"zip"}, hints: []Kind{Categorical}, rows: [][]string{{"007"}, {"1.50"}}}
		f, err := build(context.Background(), src, "h.arff", na, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := f.Columns[0]
		if c.Kind != Categorical || c.Format(0) != "007" || c.Format(1) != "1.50" {
			t.Errorf("kind %v, values %q", c.Kind, c.Levels)
		}
	})
	t.Run("text hint", func(t *testing.T) {
		src := &hintedSource{header: []string{"s"}, hints: []Kind{Text}, rows: [][]string{{"a"}, {"a"}}}
		f, err := build(context.Background(), src, "h.arff", na, nil)
		if err != nil || f.Columns[0].Kind != Text {
			t.Fatalf("f %v, err %v", f, err)
		}
	})
	t.Run("datetime hint accepts mixed layouts and refuses garbage", func(t *testing.T) {
		src := &hintedSource{header: []string{"t"}, hints: []Kind{Datetime},
			rows: [][]string{{"2024-01-01"}, {"2024-01-01T00:00:00Z"}, {"?"}}}
		f, err := build(context.Background(), src, "h.arff", na, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := f.Columns[0]
		if c.Kind != Datetime || c.Num[0] != c.Num[1] || !c.IsMissing(2) {
			t.Errorf("kind %v, values %v", c.Kind, c.Num)
		}
		src = &hintedSource{header: []string{"t"}, hints: []Kind{Datetime}, rows: [][]string{{"2024-01-01"}, {"soon"}}}
		_, err = build(context.Background(), src, "h.arff", na, nil)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 3 || !strings.Contains(err.Error(), `"soon"`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("numeric hint on an all-missing column stays numeric", func(t *testing.T) {
		src := &hintedSource{header: []string{"x"}, hints: []Kind{Numeric}, rows: [][]string{{""}, {"NA"}}}
		f, err := build(context.Background(), src, "h.arff", na, nil)
		if err != nil || f.Columns[0].Kind != Numeric {
			t.Fatalf("f %v, err %v", f, err)
		}
	})
}

var errEOF = io.EOF

func parseFloatStrconv(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	var ne *strconv.NumError
	if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
		return v, nil
	}
	return v, err
}

func TestParseNumberMatchesStrconv(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "748", "-2.5", "0.1", "123456789012345", "1234567890123456",
		"99999999999999999999", "3.14159265358979", "1e5", "1E-3", ".5", "5.", "+7", "-", "+", ".", "",
		"1.2.3", "0x10", "Inf", "-inf", "infinity", "nan", "1_000", "1e400", "0.000000000000001", "12345678.1234567"} {
		got, gotOK := parseNumber(s)
		want, err := parseFloatStrconv(s)
		if gotOK != (err == nil) || gotOK && math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Errorf("parseNumber(%q) = %v, %v; strconv: %v, %v", s, got, gotOK, want, err)
		}
	}
}

func TestProgressAndReadFile(t *testing.T) {
	dir := t.TempDir()
	content := []byte("a,b\n" + strings.Repeat("1,x\n2,y\n", 20000))
	path := filepath.Join(dir, "p.csv.gz")
	if err := os.WriteFile(path, gzipBytes(t, content), 0o644); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	var calls int
	var lastDone, lastTotal int64
	f, err := ReadFile(context.Background(), path, ReadOptions{Progress: func(done, total int64) {
		calls++
		lastDone, lastTotal = done, total
	}})
	if err != nil {
		t.Fatal(err)
	}
	if f.Rows() != 40000 {
		t.Errorf("rows = %d", f.Rows())
	}
	if calls == 0 || lastDone != st.Size() || lastTotal != st.Size() {
		t.Errorf("progress: %d calls, last %d/%d, size %d", calls, lastDone, lastTotal, st.Size())
	}
	plain := filepath.Join(dir, "p.csv")
	if err := os.WriteFile(plain, content, 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFile(context.Background(), plain, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Hash() != g.Hash() {
		t.Error(".csv and .csv.gz hash differently")
	}
}

// datasetMeta is the part of a dataset's meta.json the integration tests use.
type datasetMeta struct {
	TrainRows           int      `json:"train_rows"`
	Target              string   `json:"target"`
	Task                string   `json:"task"`
	CategoricalFeatures []string `json:"categorical_features"`
	MissingCells        int      `json:"missing_cells"`
	Files               struct {
		Train string `json:"train"`
	} `json:"files"`
}

func TestRealDatasets(t *testing.T) {
	for _, name := range []string{"iris", "breast_cancer", "diabetes", "adult", "california_housing", "flights_delay"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(datasetsDir, name)
			raw, err := os.ReadFile(filepath.Join(dir, "meta.json"))
			if err != nil {
				t.Skip("dataset not available:", err)
			}
			if testing.Short() && name == "flights_delay" {
				t.Skip("large; skipped in -short mode")
			}
			var meta datasetMeta
			if err := json.Unmarshal(raw, &meta); err != nil {
				t.Fatal(err)
			}
			f, err := ReadFile(context.Background(), filepath.Join(dir, meta.Files.Train), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Rows() != meta.TrainRows {
				t.Errorf("rows = %d, want %d", f.Rows(), meta.TrainRows)
			}
			categorical := map[string]bool{}
			for _, c := range meta.CategoricalFeatures {
				categorical[c] = true
			}
			if meta.Task != "regression" && name != "flights_delay" {
				categorical[meta.Target] = true // string class labels
			}
			missing := 0
			for _, c := range f.Columns {
				want := Numeric
				if categorical[c.Name] {
					want = Categorical
				}
				if c.Kind != want {
					t.Errorf("column %q is %v, want %v", c.Name, c.Kind, want)
				}
				for i := range c.Len() {
					if c.IsMissing(i) {
						missing++
					}
				}
				if _, err := json.Marshal(ProfileColumn(c)); err != nil {
					t.Errorf("profile of %q: %v", c.Name, err)
				}
			}
			// meta.json counts the missing cells of train and test together;
			// adult's train share was counted with pandas.read_csv.
			if want, ok := map[string]int{"adult": 5162}[name]; ok && missing != want {
				t.Errorf("missing cells = %d, want %d", missing, want)
			}
			if missing > meta.MissingCells {
				t.Errorf("missing cells = %d, meta says %d over train and test", missing, meta.MissingCells)
			}
			t.Logf("%s: %d rows, %d missing cells, hash %s", name, f.Rows(), missing, f.Hash()[:12])
		})
	}
}

// TestLargeCSVAcrossBlocks exercises the block splitter: quoted newlines and
// delimiters on both sides of block boundaries, and errors far into the file
// reported with their true line.
func TestLargeCSVAcrossBlocks(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,note,x\n")
	rows := 60000
	for i := range rows {
		if i%7 == 0 {
			fmt.Fprintf(&b, "%d,\"multi\nline, \"\"quoted\"\"\",%d.5\n", i, i)
		} else {
			fmt.Fprintf(&b, "%d,plain%d,%d\n", i, i%5, i)
		}
	}
	content := b.String()
	lines := strings.Count(content, "\n")
	t.Run("values survive block boundaries", func(t *testing.T) {
		f, err := readString(t, "big.csv", content, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Rows() != rows {
			t.Fatalf("rows = %d, want %d", f.Rows(), rows)
		}
		id, note, x := f.Column("id"), f.Column("note"), f.Column("x")
		for i := range rows {
			wantNote, wantX := fmt.Sprintf("plain%d", i%5), float64(i)
			if i%7 == 0 {
				wantNote, wantX = "multi\nline, \"quoted\"", float64(i)+0.5
			}
			if id.Num[i] != float64(i) || note.Format(i) != wantNote || x.Num[i] != wantX {
				t.Fatalf("row %d: %v %q %v", i, id.Num[i], note.Format(i), x.Num[i])
			}
		}
	})
	t.Run("a ragged row deep in the file", func(t *testing.T) {
		_, err := readString(t, "big.csv", content+"1,2\n", ReadOptions{})
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrRagged) || pe.Line != lines+1 {
			t.Fatalf("err = %v, want line %d", err, lines+1)
		}
	})
	t.Run("a bad number deep in the file is a category, not an error", func(t *testing.T) {
		f, err := readString(t, "big.csv", content+"x,y,z\n", ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Column("id").Kind != Text { // 60,001 distinct values
			t.Errorf("id is %v", f.Column("id").Kind)
		}
	})
	t.Run("an unterminated quote deep in the file", func(t *testing.T) {
		_, err := readString(t, "big.csv", content+"1,\"open,3\n2,b,4\n", ReadOptions{})
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrQuote) || pe.Line != lines+1 {
			t.Fatalf("err = %v, want line %d", err, lines+1)
		}
	})
	t.Run("invalid UTF-8 deep in the file", func(t *testing.T) {
		_, err := readString(t, "big.csv", content+"1,caf\xe9,3\n", ReadOptions{})
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidUTF8) || pe.Line != lines+1 || pe.Column != 2 {
			t.Fatalf("err = %v, want line %d column 2", err, lines+1)
		}
	})
}

func TestCancelMidRead(t *testing.T) {
	content := "a,b\n" + strings.Repeat("1,x\n", 300000)
	gz := gzipBytes(t, []byte(content))
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls int
	_, err := Read(ctx, bytes.NewReader(gz), "c.csv.gz", ReadOptions{Progress: func(done, total int64) {
		calls++
		cancel()
	}})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "c.csv.gz") {
		t.Fatalf("err = %v after %d progress calls", err, calls)
	}
	// Every goroutine of the read (decompression, splitting, parsing) is gone.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines left running, %d before", n, before)
	}
}

func TestFormatDetection(t *testing.T) {
	byName := []struct {
		name string
		want Format
	}{
		{"a.csv", CSV}, {"a.txt", CSV}, {"a.tsv", TSV}, {"a.jsonl", JSONL}, {"a.ndjson", JSONL},
		{"a.json", JSONL}, {"a.parquet", Parquet}, {"a.xlsx", XLSX}, {"a.arff", ARFF}, {"a.dat", ""},
	}
	for _, tt := range byName {
		t.Run("name "+tt.name, func(t *testing.T) {
			if got := formatFromName(tt.name); got != tt.want {
				t.Errorf("formatFromName = %q, want %q", got, tt.want)
			}
		})
	}
	byContent := []struct {
		name, head string
		want       Format
	}{
		{"parquet magic", "PAR1\x15\x04", Parquet},
		{"zip magic", "PK\x03\x04", XLSX},
		{"json object", "\n  {\"a\": 1}", JSONL},
		{"arff relation", "@RELATION iris\n", ARFF},
		{"arff comment", "% a comment\n@relation x\n", ARFF},
		{"anything else", "a,b\n1,2\n", CSV},
	}
	for _, tt := range byContent {
		t.Run("content "+tt.name, func(t *testing.T) {
			if got := sniffFormat([]byte(tt.head)); got != tt.want {
				t.Errorf("sniffFormat = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("jsonl.gz read end to end", func(t *testing.T) {
		gz := gzipBytes(t, []byte("{\"a\": 1, \"b\": \"x\"}\n{\"a\": 2, \"b\": \"y\"}\n"))
		f, err := Read(context.Background(), bytes.NewReader(gz), "d.jsonl.gz", ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if f.Rows() != 2 || f.Column("a") == nil || f.Column("a").Kind != Numeric {
			t.Errorf("frame %+v", f.Columns)
		}
	})
	t.Run("binary renamed .jsonl", func(t *testing.T) {
		_, err := readString(t, "b.jsonl", "{\x00\x00}", ReadOptions{})
		if !errors.Is(err, ErrBinary) {
			t.Errorf("err = %v", err)
		}
	})
}
