package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// csvSource reads delimited text through encoding/csv. Fields are passed on
// exactly as written (no trimming) except that a leading UTF-8 byte order mark
// is dropped from the first line.
type csvSource struct {
	r      *csv.Reader
	file   string
	header []string
	// suspect, when set, says whether the input may hold invalid UTF-8 (see
	// utf8Watch); nil means it may, and every field is checked.
	suspect *atomic.Bool
}

// newCSVSource returns a source over delimited text. delim must not be 0; use
// sniffDelimiter to choose one.
func newCSVSource(r io.Reader, file string, delim rune) source {
	cr := csv.NewReader(stripBOM(r))
	cr.Comma = delim
	cr.ReuseRecord = true
	// 0 makes encoding/csv fix the field count from the header, so a ragged
	// row is reported with its line by the parser itself.
	cr.FieldsPerRecord = 0
	return &csvSource{r: cr, file: file}
}

func (s *csvSource) Header() ([]string, error) {
	rec, err := s.r.Read()
	if err == io.EOF {
		return nil, &ParseError{File: s.file, Err: ErrEmpty}
	}
	if err != nil {
		return nil, s.mapError(err, rec)
	}
	// The header is kept: ReuseRecord would overwrite the slice on the next Read.
	s.header = append([]string(nil), rec...)
	if err := s.checkUTF8(rec); err != nil {
		return nil, err
	}
	return s.header, nil
}

func (s *csvSource) Hints() []Kind { return nil }

func (s *csvSource) Next() ([]string, int, error) {
	rec, err := s.r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		return nil, 0, s.mapError(err, rec)
	}
	line, _ := s.r.FieldPos(0)
	if err := s.checkUTF8(rec); err != nil {
		return nil, 0, err
	}
	return rec, line, nil
}

// checkUTF8 rejects a record with a field that is not valid UTF-8: encoding/csv
// passes such bytes through, and they would end up as garbage level names.
func (s *csvSource) checkUTF8(rec []string) error {
	if s.suspect != nil && !s.suspect.Load() {
		return nil
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			line, _ := s.r.FieldPos(i)
			pe := &ParseError{File: s.file, Line: line, Column: i + 1, Err: ErrInvalidUTF8}
			if i < len(s.header) {
				pe.ColumnName = s.header[i]
			}
			return pe
		}
	}
	return nil
}

// mapError turns an encoding/csv error into a *ParseError with our sentinels.
func (s *csvSource) mapError(err error, rec []string) error {
	var ce *csv.ParseError
	if !errors.As(err, &ce) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return &ParseError{File: s.file, Err: fmt.Errorf("%w: %w", ErrTruncated, err)}
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			return err
		}
		return &ParseError{File: s.file, Err: err}
	}
	switch {
	case errors.Is(ce.Err, csv.ErrFieldCount):
		return &ParseError{File: s.file, Line: ce.StartLine,
			Err: fmt.Errorf("%w: expected %d, found %d", ErrRagged, len(s.header), len(rec))}
	case errors.Is(ce.Err, csv.ErrQuote):
		// An unterminated quote swallows the rest of the file, so the line where
		// the record (and in practice the quoted field) started is the useful one.
		return &ParseError{File: s.file, Line: ce.StartLine,
			Err: fmt.Errorf("%w: quoted field starting on line %d is not closed properly (at line %d, character %d)",
				ErrQuote, ce.StartLine, ce.Line, ce.Column)}
	case errors.Is(ce.Err, csv.ErrBareQuote):
		return &ParseError{File: s.file, Line: ce.Line,
			Err: fmt.Errorf("%w: bare \" in an unquoted field at character %d", ErrQuote, ce.Column)}
	default:
		return &ParseError{File: s.file, Line: ce.Line, Err: fmt.Errorf("%w: %w", ErrSyntax, ce.Err)}
	}
}

// bomReader drops a UTF-8 byte order mark at the start of the stream.
type bomReader struct {
	r       io.Reader
	checked bool
}

func stripBOM(r io.Reader) io.Reader { return &bomReader{r: r} }

func (b *bomReader) Read(p []byte) (int, error) {
	if b.checked {
		return b.r.Read(p)
	}
	var head [3]byte
	n, err := io.ReadFull(b.r, head[:])
	b.checked = true
	switch {
	case n == 3 && head == [3]byte{0xEF, 0xBB, 0xBF}:
		if err != nil {
			return 0, err
		}
		return b.r.Read(p)
	case n == 0:
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return 0, err
	}
	// Not a BOM: hand back what was read ahead, then carry on.
	b.r = io.MultiReader(bytes.NewReader(append([]byte(nil), head[:n]...)), b.r)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return 0, err
	}
	return b.r.Read(p)
}

// sniffDelimiter picks the delimiter among , tab ; | from the first lines of
// sample: the one that splits the most lines into the same number (> 1) of
// fields. Quoted sections are skipped so that commas inside quotes do not
// count. A comma wins ties and is the answer when nothing else fits.
func sniffDelimiter(sample []byte) rune {
	candidates := [...]byte{',', '\t', ';', '|'}
	lines := sampleLines(sample, 20)
	best, bestScore := byte(','), 0
	for _, d := range candidates {
		counts := make([]int, 0, len(lines))
		for _, ln := range lines {
			counts = append(counts, countOutsideQuotes(ln, d))
		}
		if len(counts) == 0 || counts[0] == 0 {
			continue
		}
		// Score: lines agreeing with the header's count, weighted by that count
		// so that "a;b;c" beats an incidental comma.
		agree := 0
		for _, c := range counts {
			if c == counts[0] {
				agree++
			}
		}
		score := agree * 1000 / len(counts) * 100
		score += min(counts[0], 99)
		if score > bestScore {
			best, bestScore = d, score
		}
	}
	return rune(best)
}

// sampleLines splits sample into at most n logical lines, keeping quoted
// newlines inside their line, and drops a last line that may be cut short.
func sampleLines(sample []byte, n int) [][]byte {
	var lines [][]byte
	inQuote, start := false, 0
	for i := 0; i < len(sample) && len(lines) < n; i++ {
		switch sample[i] {
		case '"':
			inQuote = !inQuote
		case '\n':
			if !inQuote {
				ln := bytes.TrimSuffix(sample[start:i], []byte("\r"))
				if len(ln) > 0 {
					lines = append(lines, ln)
				}
				start = i + 1
			}
		}
	}
	if len(lines) == 0 && start < len(sample) {
		lines = append(lines, sample[start:])
	}
	return lines
}

func countOutsideQuotes(line []byte, d byte) int {
	n, inQuote := 0, false
	for _, c := range line {
		switch {
		case c == '"':
			inQuote = !inQuote
		case c == d && !inQuote:
			n++
		}
	}
	return n
}

// extDelimiter is the delimiter a file name implies, or 0 to sniff.
func extDelimiter(name string) rune {
	if strings.HasSuffix(strings.TrimSuffix(strings.ToLower(name), ".gz"), ".tsv") {
		return '\t'
	}
	return 0
}
