package data

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xlsxBytes builds a workbook whose first sheet has the given cells (by
// reference, e.g. "B3") and an optional second sheet that must not be read.
func xlsxBytes(t testing.TB, cells map[string]any, second bool) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sheet := f.GetSheetName(0)
	for ref, v := range cells {
		if err := f.SetCellValue(sheet, ref, v); err != nil {
			t.Fatal(err)
		}
	}
	if second {
		if _, err := f.NewSheet("Other"); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellValue("Other", "A1", "not me"); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXSource(t *testing.T) {
	tests := []struct {
		name  string
		cells map[string]any
		want  sourceDump
	}{
		{
			name: "header, values and padded short rows",
			cells: map[string]any{
				"A1": "id", "B1": "score", "C1": "name", "D1": "flag",
				"A2": 1, "B2": 0.1, "C2": "ann", "D2": true,
				"A3": 2, "C3": "bob", // B3 and D3 absent: a short row, not a ragged one
				"A4": 3, "B4": 12345678.125,
			},
			want: sourceDump{
				header:  []string{"id", "score", "name", "flag"},
				records: [][]string{{"1", "0.1", "ann", "1"}, {"2", "", "bob", ""}, {"3", "12345678.125", "", ""}},
				lines:   []int{2, 3, 4},
			},
		},
		{
			name: "header below empty rows, empty rows in the data skipped",
			cells: map[string]any{
				"B3": "x", "C3": "y",
				"B4": 1, "C4": "a",
				"B6": 2, "C6": "b",
			},
			want: sourceDump{
				header:  []string{"", "x", "y"},
				records: [][]string{{"", "1", "a"}, {"", "2", "b"}},
				lines:   []int{4, 6},
			},
		},
		{
			name:  "a header without rows",
			cells: map[string]any{"A1": "only", "B1": "header"},
			want:  sourceDump{header: []string{"only", "header"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := newXLSXSource(bytes.NewReader(xlsxBytes(t, tt.cells, true)), "t.xlsx")
			if err != nil {
				t.Fatal(err)
			}
			d, err := dumpSource(src)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d, tt.want) {
				t.Errorf("got\n%+v\nwant\n%+v", d, tt.want)
			}
		})
	}
}

func TestXLSXSourceErrors(t *testing.T) {
	valid := xlsxBytes(t, map[string]any{"A1": "a", "A2": 1}, false)
	tests := []struct {
		name     string
		content  []byte
		sentinel error
		line     int
		col      int
		msg      string
	}{
		{"truncated to half", valid[:len(valid)/2], ErrTruncated, 0, 0, "t.xlsx"},
		{"not a zip at all", []byte("a,b\n1,2\n"), ErrTruncated, 0, 0, "truncated or corrupt"},
		{"an empty file", nil, ErrTruncated, 0, 0, "t.xlsx"},
		{"an old binary .xls (OLE container)", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...), ErrFormat, 0, 0, "unsupported"},
		{"an empty sheet", xlsxBytes(t, nil, false), ErrEmpty, 0, 0, "empty"},
		{"a value right of the header", xlsxBytes(t, map[string]any{"A1": "a", "B1": "b", "A2": 1, "D2": "stray"}, false), ErrRagged, 2, 4, "stray"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := newXLSXSource(bytes.NewReader(tt.content), "t.xlsx")
			if err == nil {
				_, err = dumpSource(src)
			}
			wantParseError(t, err, tt.sentinel, tt.line, tt.col, tt.msg)
		})
	}
}

func TestXLSXSourceCloseRemovesNothingTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.xlsx")
	if err := os.WriteFile(path, xlsxBytes(t, map[string]any{"A1": "a", "A2": 1}, false), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, err := newXLSXSource(f, "t.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	c := src.(interface{ Close() error })
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, _, err := src.Next(); err == nil {
		t.Error("Next after Close gave a record")
	}
}
