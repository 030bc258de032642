package data

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

// writeCSV re-encodes f with encoding/csv so that reading it again must give
// the same frame. Datetimes are written in RFC 3339 (one layout for the whole
// column, which Format does not promise), a UTF-8 BOM leads the file (the
// reader strips one, so a name that itself starts with a BOM survives), and a
// one-field record holding "" is written quoted, since encoding/csv would write
// a blank line, which readers skip.
func writeCSV(t *testing.T, f *Frame) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("\xEF\xBB\xBF")
	w := csv.NewWriter(&buf)
	rec := make([]string, len(f.Columns))
	write := func() {
		if len(rec) == 1 && rec[0] == "" {
			w.Flush()
			buf.WriteString("\"\"\n")
			return
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range f.Columns {
		rec[i] = c.Name
	}
	write()
	for r := range f.Rows() {
		for i, c := range f.Columns {
			switch {
			case c.IsMissing(r):
				rec[i] = ""
			case c.Kind == Datetime:
				sec, frac := math.Modf(c.Num[r])
				rec[i] = time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC().Format(time.RFC3339Nano)
			default:
				rec[i] = c.Format(r)
			}
		}
		write()
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"a,b,c\n1,2,3\n4,5,6\n",
		"a,b\n1,x\nNA,y\n3.5,\n",
		"id,text\n1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n",
		"\xEF\xBB\xBFd,t\n2024-01-31,2024-01-31T10:00:00Z\n2023-02-01,2024-01-31T12:00:00+02:00\n",
		"x\n1\n2\nthree\n",
		",\n,\n",
		"a,a\n1,2\n",
		"a,b\n1\n",
		"s\n\"\"\n",
		"n\n1e400\n-0\n+Inf\n0x1p-2\n",
		"t\n01/02/2006\n12/31/1999\n",
	} {
		f.Add([]byte(s))
	}
	ctx := context.Background()
	opts := ReadOptions{Format: CSV, Delimiter: ','}
	f.Fuzz(func(t *testing.T, b []byte) {
		first, err := Read(ctx, bytes.NewReader(b), "fuzz.csv", opts)
		if err != nil {
			return
		}
		again, err := Read(ctx, bytes.NewReader(writeCSV(t, first)), "again.csv", opts)
		if err != nil {
			t.Fatalf("re-reading what was read: %v", err)
		}
		if len(again.Columns) != len(first.Columns) || again.Rows() != first.Rows() {
			t.Fatalf("shape %dx%d, want %dx%d", again.Rows(), len(again.Columns), first.Rows(), len(first.Columns))
		}
		for i, c := range first.Columns {
			g := again.Columns[i]
			if g.Name != c.Name {
				t.Fatalf("column %d named %q, want %q", i, g.Name, c.Name)
			}
			if c.Kind == Datetime && g.Kind == Datetime {
				for r := range c.Num {
					if c.IsMissing(r) != g.IsMissing(r) || !c.IsMissing(r) && math.Abs(c.Num[r]-g.Num[r]) > 1e-6*max(1, math.Abs(c.Num[r])*1e-9) {
						t.Fatalf("column %q row %d = %v, want %v", c.Name, r, g.Num[r], c.Num[r])
					}
				}
				continue
			}
			sameColumn(t, "column "+c.Name, g, c)
		}
	})
}

// FuzzPlainMatchesEncodingCSV checks the quote-free fast path of the CSV
// reader against encoding/csv on the same block: same cells, same lines, and
// the same error (kind and line) where there is one.
func FuzzPlainMatchesEncodingCSV(f *testing.F) {
	f.Add([]byte("1,2,3\n4,5,6\n"), byte(','))
	f.Add([]byte("1;2\r\n\r\n3;4\r"), byte(';'))
	f.Add([]byte("a\tb\n\nc\td\te\n"), byte('\t'))
	f.Add([]byte("x|y\n\xff|z\n"), byte('|'))
	f.Add([]byte("a,b\r\rc,d\n \n"), byte(','))
	f.Fuzz(func(t *testing.T, block []byte, d byte) {
		delim := rune(",;\t|"[int(d)%4])
		if bytes.IndexByte(block, '"') >= 0 {
			return
		}
		probe := csv.NewReader(bytes.NewReader(block))
		probe.Comma, probe.FieldsPerRecord = delim, -1
		first, err := probe.Read()
		if err != nil {
			return
		}
		width := len(first)
		s := &csvSource{file: "f.csv", delim: delim, header: make([]string, width)}
		plain, quoted := &prefetchBatch{}, &prefetchBatch{}
		s.parsePlain(plain, block, 5, width)
		s.parseQuoted(quoted, block, 5, width)
		if (plain.err == nil) != (quoted.err == nil) {
			t.Fatalf("errors differ: plain %v, encoding/csv %v", plain.err, quoted.err)
		}
		if plain.err != nil {
			var pe, qe *ParseError
			if !errors.As(plain.err, &pe) || !errors.As(quoted.err, &qe) || pe.Line != qe.Line || pe.Column != qe.Column ||
				errors.Is(plain.err, ErrRagged) != errors.Is(quoted.err, ErrRagged) {
				t.Fatalf("errors differ: plain %v, encoding/csv %v", plain.err, quoted.err)
			}
		}
		if !slices.Equal(plain.cells, quoted.cells) || !slices.Equal(plain.lines, quoted.lines) {
			t.Fatalf("records differ:\nplain  %q %v\nquoted %q %v", plain.cells, plain.lines, quoted.cells, quoted.lines)
		}
	})
}
