package data

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

type parquetTestRow struct {
	ID    int64     `parquet:"id"`
	Score float64   `parquet:"score"`
	Ratio float32   `parquet:"ratio"`
	Count *int32    `parquet:"count,optional"`
	Name  string    `parquet:"name"`
	Note  *string   `parquet:"note,optional"`
	OK    bool      `parquet:"ok"`
	Born  int32     `parquet:"born,date"` // days; parquet-go v0.32 writes a time.Time with "date" wrongly
	Seen  time.Time `parquet:"seen,timestamp(microsecond)"`
	Price int64     `parquet:"price,decimal(2:10)"`
	Small uint32    `parquet:"small,uint(32)"`
}

func days(t time.Time) int32 { return int32(t.Unix() / 86400) }

// writeParquet writes rows to a file in dir with small row groups, so that
// reading crosses row-group boundaries.
func writeParquet[T any](t testing.TB, dir string, rows []T, opts ...parquet.WriterOption) string {
	t.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "t.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func openParquetSource(t testing.TB, path string) (source, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return newParquetSource(f, st.Size(), filepath.Base(path))
}

func TestParquetSource(t *testing.T) {
	seven := int32(7)
	note := "hello, world"
	rows := []parquetTestRow{
		{ID: 1, Score: 0.1, Ratio: 0.25, Count: &seven, Name: "ann", Note: &note, OK: true,
			Born: days(time.Date(1990, 5, 17, 0, 0, 0, 0, time.UTC)), Seen: time.Date(2024, 3, 1, 14, 30, 15, 123456000, time.UTC),
			Price: 12345, Small: 4000000000},
		{ID: -2, Score: 1e300, Ratio: -1.5, Name: "bob", OK: false,
			Born: days(time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)), Seen: time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
			Price: -5, Small: 0},
	}
	src, err := openParquetSource(t, writeParquet(t, t.TempDir(), rows))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dumpSource(src)
	if err != nil {
		t.Fatal(err)
	}
	want := sourceDump{
		header: []string{"id", "score", "ratio", "count", "name", "note", "ok", "born", "seen", "price", "small"},
		hints:  []Kind{Numeric, Numeric, Numeric, Numeric, Unknown, Unknown, Categorical, Datetime, Datetime, Numeric, Numeric},
		records: [][]string{
			{"1", "0.1", "0.25", "7", "ann", "hello, world", "true", "1990-05-17", "2024-03-01T14:30:15.123456Z", "123.45", "4000000000"},
			{"-2", "1e+300", "-1.5", "", "bob", "", "false", "1969-12-31", "1970-01-01T00:00:00Z", "-0.05", "0"},
		},
		lines: []int{1, 2},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got\n%+v\nwant\n%+v", d, want)
	}
}

func TestParquetSourceManyRowGroups(t *testing.T) {
	// More rows than one batch, in row groups whose size does not divide the
	// batch size, so both boundaries are crossed at odd places.
	const n = 3*parquetBatch + 17
	type row struct {
		I int64    `parquet:"i"`
		X *float64 `parquet:"x,optional"`
	}
	rows := make([]row, n)
	for i := range rows {
		rows[i].I = int64(i)
		if i%3 != 0 {
			x := float64(i) / 4
			rows[i].X = &x
		}
	}
	src, err := openParquetSource(t, writeParquet(t, t.TempDir(), rows, parquet.MaxRowsPerRowGroup(300)))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dumpSource(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.records) != n {
		t.Fatalf("%d records, want %d", len(d.records), n)
	}
	for i, r := range d.records {
		wantX := ""
		if i%3 != 0 {
			wantX = strconv.FormatFloat(float64(i)/4, 'g', -1, 64)
		}
		if r[0] != strconv.Itoa(i) || r[1] != wantX || d.lines[i] != i+1 {
			t.Fatalf("record %d (line %d) = %q, want [%d %q] on line %d", i, d.lines[i], r, i, wantX, i+1)
		}
	}
}

func TestParquetSourceErrors(t *testing.T) {
	type nested struct {
		ID   int64   `parquet:"id"`
		Tags []int32 `parquet:"tags,list"`
	}
	type repeated struct {
		ID   int64   `parquet:"id"`
		Vals []int64 `parquet:"vals"`
	}
	valid := func(t *testing.T) []byte {
		rows := make([]parquetTestRow, 200)
		for i := range rows {
			rows[i] = parquetTestRow{ID: int64(i), Name: fmt.Sprint("n", i), Seen: time.Unix(0, 0)}
		}
		b, err := os.ReadFile(writeParquet(t, t.TempDir(), rows))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name     string
		content  func(t *testing.T) []byte
		sentinel error
		msg      string
	}{
		{"truncated to half", func(t *testing.T) []byte { b := valid(t); return b[:len(b)/2] }, ErrTruncated, "t.parquet"},
		{"footer cut off", func(t *testing.T) []byte { b := valid(t); return b[:len(b)-3] }, ErrTruncated, "truncated or corrupt"},
		{"empty file", func(t *testing.T) []byte { return nil }, ErrTruncated, "t.parquet"},
		{"not parquet", func(t *testing.T) []byte { return []byte("id,name\n1,ann\n") }, ErrTruncated, "t.parquet"},
		{"a list column", func(t *testing.T) []byte {
			b, _ := os.ReadFile(writeParquet(t, t.TempDir(), []nested{{ID: 1, Tags: []int32{1, 2}}}))
			return b
		}, ErrFormat, `column "tags" is a nested field`},
		{"a repeated column", func(t *testing.T) []byte {
			b, _ := os.ReadFile(writeParquet(t, t.TempDir(), []repeated{{ID: 1, Vals: []int64{1, 2}}}))
			return b
		}, ErrFormat, `column "vals" is a repeated field`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "t.parquet")
			if err := os.WriteFile(path, tt.content(t), 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := openParquetSource(t, path)
			if err == nil {
				_, err = dumpSource(src)
			}
			wantParseError(t, err, tt.sentinel, 0, 0, tt.msg)
		})
	}
}

// TestParquetSourceCorruptPages damages bytes inside the data pages (the footer
// stays intact, so the file opens): reading must end in rows or an error, never
// a panic, and an error must be a *ParseError wrapping ErrTruncated.
func TestParquetSourceCorruptPages(t *testing.T) {
	rows := make([]parquetTestRow, 300)
	for i := range rows {
		s := fmt.Sprint("note ", i)
		rows[i] = parquetTestRow{ID: int64(i), Score: float64(i) / 7, Name: fmt.Sprint("n", i%5), Note: &s,
			Born: int32(i), Seen: time.Unix(int64(i), 0)}
	}
	good, err := os.ReadFile(writeParquet(t, t.TempDir(), rows, parquet.MaxRowsPerRowGroup(100)))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	failed := 0
	for trial := range 200 {
		b := bytes.Clone(good)
		// Stay clear of the 4-byte magic and the footer (its length is in the last 8 bytes).
		footer := int(uint32(b[len(b)-8]) | uint32(b[len(b)-7])<<8 | uint32(b[len(b)-6])<<16 | uint32(b[len(b)-5])<<24)
		limit := len(b) - 8 - footer
		for range 1 + trial%8 {
			b[4+rng.IntN(limit-4)] = byte(rng.Uint32())
		}
		path := filepath.Join(t.TempDir(), "t.parquet")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := openParquetSource(t, path)
		if err == nil {
			_, err = dumpSource(src)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrTruncated) {
				t.Fatalf("trial %d: error %v is not a *ParseError wrapping ErrTruncated", trial, err)
			}
			failed++
		}
	}
	t.Logf("%d of 200 damaged files gave an error", failed)
}
