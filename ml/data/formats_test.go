package data

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// End-to-end tests of the non-CSV formats through ReadFile: the source, the
// dispatcher and the shared builder together.

const formatsRows = 12

// formatsCities is a low-cardinality string column: inference makes it categorical.
var formatsCities = []string{"Paris", "Lyon", "Nice"}

func writeFormatsJSONL(t *testing.T, dir string) string {
	var b strings.Builder
	for i := range formatsRows {
		age := fmt.Sprint(20 + i)
		if i == 3 {
			age = "null"
		}
		fmt.Fprintf(&b, `{"age": %s, "city": %q, "when": "2024-01-%02d", "ok": %t}`+"\n", age, formatsCities[i%3], i+1, i%2 == 0)
	}
	return writeFormatsFile(t, dir, "t.jsonl", []byte(b.String()))
}

func writeFormatsARFF(t *testing.T, dir string) string {
	var b strings.Builder
	b.WriteString("@relation t\n@attribute age numeric\n@attribute city {Paris,Lyon,Nice}\n@attribute when date yyyy-MM-dd\n@attribute note string\n@data\n")
	for i := range formatsRows {
		age := fmt.Sprint(20 + i)
		if i == 3 {
			age = "?"
		}
		fmt.Fprintf(&b, "%s,%s,2024-01-%02d,'note %d'\n", age, formatsCities[i%3], i+1, i)
	}
	return writeFormatsFile(t, dir, "t.arff", []byte(b.String()))
}

func writeFormatsParquet(t *testing.T, dir string) string {
	type row struct {
		Age  *int64   `parquet:"age,optional"`
		City string   `parquet:"city"`
		When int32    `parquet:"when,date"`
		OK   bool     `parquet:"ok"`
		X    *float64 `parquet:"x,optional"`
	}
	rows := make([]row, formatsRows)
	for i := range rows {
		if i != 3 {
			a := int64(20 + i)
			rows[i].Age = &a
		}
		rows[i].City = formatsCities[i%3]
		rows[i].When = days(time.Date(2024, 1, i+1, 0, 0, 0, 0, time.UTC))
		rows[i].OK = i%2 == 0
		if i%4 != 0 {
			x := float64(i) * 1.5
			rows[i].X = &x
		}
	}
	return writeParquet(t, dir, rows)
}

func writeFormatsXLSX(t *testing.T, dir string) string {
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	set := func(ref string, v any) {
		if err := f.SetCellValue(sheet, ref, v); err != nil {
			t.Fatal(err)
		}
	}
	set("A1", "age")
	set("B1", "city")
	set("C1", "score")
	for i := range formatsRows {
		r := i + 2
		if i != 3 {
			set(fmt.Sprint("A", r), 20+i)
		}
		set(fmt.Sprint("B", r), formatsCities[i%3])
		if i != 5 { // a missing last cell: a short row
			set(fmt.Sprint("C", r), float64(i)/8)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return writeFormatsFile(t, dir, "t.xlsx", buf.Bytes())
}

func writeFormatsFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// gzipCopy writes path+".gz".
func gzipCopy(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFormatsFile(t, filepath.Dir(path), filepath.Base(path)+".gz", buf.Bytes())
}

func TestReadFileFormats(t *testing.T) {
	tests := []struct {
		name  string
		write func(t *testing.T, dir string) string
		gz    bool
		kinds map[string]Kind
	}{
		{"JSON lines", writeFormatsJSONL, false, map[string]Kind{"age": Numeric, "city": Categorical, "when": Datetime}},
		{"JSON lines, gzip", writeFormatsJSONL, true, map[string]Kind{"age": Numeric, "city": Categorical, "when": Datetime}},
		{"ARFF", writeFormatsARFF, false, map[string]Kind{"age": Numeric, "city": Categorical, "when": Datetime, "note": Text}},
		{"Parquet", writeFormatsParquet, false, map[string]Kind{"age": Numeric, "city": Categorical, "when": Datetime, "ok": Categorical, "x": Numeric}},
		{"Parquet, gzip", writeFormatsParquet, true, map[string]Kind{"age": Numeric, "city": Categorical, "when": Datetime, "ok": Categorical, "x": Numeric}},
		{"XLSX", writeFormatsXLSX, false, map[string]Kind{"age": Numeric, "city": Categorical, "score": Numeric}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.write(t, t.TempDir())
			if tt.gz {
				path = gzipCopy(t, path)
			}
			f, err := ReadFile(context.Background(), path, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if f.Rows() != formatsRows {
				t.Errorf("%d rows, want %d", f.Rows(), formatsRows)
			}
			if len(f.Columns) < len(tt.kinds) {
				t.Errorf("%d columns, want at least %d", len(f.Columns), len(tt.kinds))
			}
			for name, kind := range tt.kinds {
				c := f.Column(name)
				if c == nil {
					t.Errorf("no column %q", name)
					continue
				}
				if c.Kind != kind {
					t.Errorf("column %q is %v, want %v", name, c.Kind, kind)
				}
			}
			if age := f.Column("age"); age != nil && age.Kind == Numeric {
				if !age.IsMissing(3) || age.IsMissing(0) || age.Num[0] != 20 {
					t.Errorf("age: row 0 = %q, row 3 = %q; want 20 and missing", age.Format(0), age.Format(3))
				}
			}
			if when := f.Column("when"); when != nil && when.Kind == Datetime {
				if got := when.Format(1); got != "2024-01-02" {
					t.Errorf("when: row 1 = %q, want 2024-01-02", got)
				}
			}
		})
	}
}

func TestReadFileFormatErrors(t *testing.T) {
	tests := []struct {
		name     string
		write    func(t *testing.T, dir string) string
		sentinel error
		line     int
	}{
		{"JSON lines: a line that is not an object", func(t *testing.T, dir string) string {
			return writeFormatsFile(t, dir, "t.jsonl", []byte("{\"a\":1}\n[2]\n"))
		}, ErrSyntax, 2},
		{"ARFF: a bad nominal value", func(t *testing.T, dir string) string {
			return writeFormatsFile(t, dir, "t.arff", []byte("@attribute c {a,b}\n@data\na\nb\nc\n"))
		}, ErrSyntax, 5},
		{"ARFF: a numeric attribute with text", func(t *testing.T, dir string) string {
			return writeFormatsFile(t, dir, "t.arff", []byte("@attribute x real\n@data\n1\nabc\n"))
		}, nil, 4},
		{"Parquet: truncated", func(t *testing.T, dir string) string {
			path := writeFormatsParquet(t, dir)
			b, _ := os.ReadFile(path)
			return writeFormatsFile(t, dir, "cut.parquet", b[:len(b)/2])
		}, ErrTruncated, 0},
		{"XLSX: truncated", func(t *testing.T, dir string) string {
			path := writeFormatsXLSX(t, dir)
			b, _ := os.ReadFile(path)
			return writeFormatsFile(t, dir, "cut.xlsx", b[:len(b)/2])
		}, ErrTruncated, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.write(t, t.TempDir())
			_, err := ReadFile(context.Background(), path, ReadOptions{})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q does not wrap %q", err, tt.sentinel)
			}
			if pe.Line != tt.line {
				t.Errorf("error %q: line %d, want %d", err, pe.Line, tt.line)
			}
			if !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}
