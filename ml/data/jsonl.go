package data

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// JSON lines reader: one JSON object per line (blank lines skipped), or a whole
// file that is one JSON array of objects.
//
// The columns are the union of the keys of all objects, in first-seen order. A
// key may first appear on the last line, so the header is only known after the
// whole input has been read: the source buffers every record (as one string per
// column seen so far) when Header is called. Memory is therefore about the size
// of the decoded text; the records are released as Next hands them out.
//
// Cells: numbers keep their literal text (full precision), strings as is, true
// and false as "true"/"false", null or an absent key as "" (missing), nested
// objects and arrays as their compact JSON text. For a duplicated key within one
// object the last value wins, as in encoding/json.

type jsonlRow struct {
	cells []string // by column index; shorter than the header when later keys are absent
	line  int
}

type jsonlSource struct {
	file   string
	r      io.Reader
	header []string
	index  map[string]int
	rows   []jsonlRow
	next   int
	rec    []string
	read   bool
	err    error
}

func newJSONLSource(r io.Reader, file string) (source, error) {
	return &jsonlSource{file: file, r: r, index: map[string]int{}}, nil
}

func (s *jsonlSource) Hints() []Kind { return nil }

func (s *jsonlSource) Header() ([]string, error) {
	if !s.read {
		s.read = true
		s.err = s.readAll()
	}
	if s.err != nil {
		return nil, s.err
	}
	return s.header, nil
}

func (s *jsonlSource) Next() ([]string, int, error) {
	if !s.read {
		if _, err := s.Header(); err != nil {
			return nil, 0, err
		}
	}
	if s.err != nil {
		return nil, 0, s.err
	}
	if s.next >= len(s.rows) {
		s.rows = nil
		return nil, 0, io.EOF
	}
	row := s.rows[s.next]
	s.rows[s.next] = jsonlRow{}
	s.next++
	if s.rec == nil {
		s.rec = make([]string, len(s.header))
	}
	n := copy(s.rec, row.cells)
	clear(s.rec[n:])
	return s.rec, row.line, nil
}

func (s *jsonlSource) syntaxError(line int, format string, args ...any) error {
	return &ParseError{File: s.file, Line: line, Err: fmt.Errorf("%w: "+format, append([]any{ErrSyntax}, args...)...)}
}

func (s *jsonlSource) readAll() error {
	br := bufio.NewReader(s.r)
	// A leading '[' means one JSON array of objects rather than lines. Sniffing
	// consumes the blank lines before it, so count them to keep line numbers right.
	skipped := 0
	for {
		b, err := br.Peek(1)
		if err != nil {
			if err == io.EOF {
				return &ParseError{File: s.file, Err: ErrEmpty}
			}
			return &ParseError{File: s.file, Err: fmt.Errorf("%w: %w", ErrTruncated, err)}
		}
		if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
			br.Discard(3)
			continue
		}
		if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
			if b[0] == '\n' {
				skipped++
			}
			br.ReadByte()
			continue
		}
		if b[0] == '[' {
			return s.readArray(br)
		}
		return s.readLines(br, skipped)
	}
}

func (s *jsonlSource) readLines(br *bufio.Reader, line int) error {
	for {
		raw, err := br.ReadBytes('\n')
		if len(raw) > 0 {
			line++
			if t := bytes.TrimSpace(raw); len(t) > 0 {
				if perr := s.addObject(t, line); perr != nil {
					return perr
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return &ParseError{File: s.file, Line: line + 1, Err: fmt.Errorf("%w: %w", ErrTruncated, err)}
		}
	}
	if len(s.rows) == 0 {
		return &ParseError{File: s.file, Err: ErrEmpty}
	}
	if len(s.header) == 0 {
		return &ParseError{File: s.file, Err: fmt.Errorf("%w: no object has any key", ErrEmpty)}
	}
	return nil
}

func (s *jsonlSource) readArray(br *bufio.Reader) error {
	dec := json.NewDecoder(br)
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // the '['
		return s.syntaxError(1, "%v", err)
	}
	for i := 1; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return s.syntaxError(i, "array element %d: %v", i, err)
		}
		if err := s.addObject(raw, i); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the ']'
		return s.syntaxError(len(s.rows)+1, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return s.syntaxError(len(s.rows)+1, "unexpected data after the array")
	}
	if len(s.rows) == 0 || len(s.header) == 0 {
		return &ParseError{File: s.file, Err: ErrEmpty}
	}
	return nil
}

var errNotObject = errors.New("not a JSON object")

// addObject decodes one object, keeping its keys in document order (a map would
// lose the order that defines the column order).
func (s *jsonlSource) addObject(b []byte, line int) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return s.syntaxError(line, "%v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return s.syntaxError(line, "%v: starts with %s", errNotObject, truncateForError(string(b)))
	}
	row := jsonlRow{line: line}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return s.syntaxError(line, "%v", err)
		}
		key, ok := tok.(string)
		if !ok {
			return s.syntaxError(line, "object key is not a string")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return s.syntaxError(line, "value of %q: %v", key, err)
		}
		cell, err := jsonCell(raw)
		if err != nil {
			return s.syntaxError(line, "value of %q: %v", key, err)
		}
		col, ok := s.index[key]
		if !ok {
			col = len(s.header)
			s.index[key] = col
			s.header = append(s.header, key)
		}
		for len(row.cells) <= col {
			row.cells = append(row.cells, "")
		}
		row.cells[col] = cell
	}
	if _, err := dec.Token(); err != nil { // the '}'
		return s.syntaxError(line, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return s.syntaxError(line, "unexpected data after the object")
	}
	s.rows = append(s.rows, row)
	return nil
}

// jsonCell turns one JSON value into the text the frame builder reads.
func jsonCell(raw json.RawMessage) (string, error) {
	if len(raw) == 0 {
		return "", nil
	}
	switch raw[0] {
	case 'n':
		return "", nil
	case 't', 'f':
		return string(raw), nil
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case '{', '[':
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return "", err
		}
		return b.String(), nil
	default: // a number: its literal text is its full precision
		return string(raw), nil
	}
}
