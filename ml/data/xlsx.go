package data

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// XLSX reader (excelize).
//
// Only the first sheet of the workbook is read (workbook order, not the sheet
// that was active when saved). Its first non-empty row is the header; later
// rows that are entirely empty are skipped, as blank lines are in CSV. Cells are
// the stored raw values, not the displayed text: number formats would otherwise
// round numbers ("0.00") or add separators ("1,234") that break parsing. The
// price is that a date cell arrives as its Excel serial number (days since
// 1899-12-30), which inference reads as numeric, and a boolean as "1" or "0".
//
// Spreadsheets do not store trailing empty cells, so a short row is padded with
// "" rather than reported as ragged; a non-empty cell to the right of the
// header's last column is an ErrRagged error. Line is the spreadsheet row number.
//
// excelize holds the whole compressed file in memory and the rows are streamed
// from the sheet's XML; sheets above excelize's size limit are spooled to a
// temporary file, which Close (or reading to the end) removes.

type xlsxSource struct {
	file   string
	f      *excelize.File
	rows   *excelize.Rows
	sheet  string
	row    int // spreadsheet row number of the last row read
	header []string
	rec    []string
	err    error
}

func newXLSXSource(r io.Reader, file string) (source, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, xlsxOpenError(file, err)
	}
	s := &xlsxSource{file: file, f: f}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, &ParseError{File: file, Err: fmt.Errorf("%w: the workbook has no sheet", ErrEmpty)}
	}
	s.sheet = sheets[0]
	s.rows, err = f.Rows(s.sheet)
	if err != nil {
		f.Close()
		return nil, xlsxOpenError(file, err)
	}
	if err := s.readHeader(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// xlsxOpenError sorts a failure to open into "damaged" (the zip container is
// broken: a truncated download) and "not a workbook we read" (an old binary
// .xls, an encrypted workbook, a missing part).
func xlsxOpenError(file string, err error) error {
	sentinel := ErrFormat
	if errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrAlgorithm) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		sentinel = ErrTruncated
	}
	return &ParseError{File: file, Err: fmt.Errorf("%w: %w", sentinel, err)}
}

// readRow advances to the next spreadsheet row and returns its cells.
func (s *xlsxSource) readRow() ([]string, error) {
	if !s.rows.Next() {
		if err := s.rows.Error(); err != nil {
			return nil, &ParseError{File: s.file, Line: s.row + 1, Err: fmt.Errorf("%w: %w", ErrTruncated, err)}
		}
		return nil, io.EOF
	}
	// Next advances one row at a time, also over rows absent from the XML, so
	// counting calls gives the spreadsheet row number.
	s.row++
	cells, err := s.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, &ParseError{File: s.file, Line: s.row, Err: fmt.Errorf("%w: %w", ErrTruncated, err)}
	}
	return cells, nil
}

func emptyRow(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

func (s *xlsxSource) readHeader() error {
	for {
		cells, err := s.readRow()
		if err == io.EOF {
			return &ParseError{File: s.file, Err: ErrEmpty}
		}
		if err != nil {
			return err
		}
		if emptyRow(cells) {
			continue
		}
		// Trailing empty header cells are formatting residue, not columns.
		n := len(cells)
		for n > 0 && cells[n-1] == "" {
			n--
		}
		s.header = append([]string(nil), cells[:n]...)
		s.rec = make([]string, n)
		return nil
	}
}

func (s *xlsxSource) Header() ([]string, error) { return s.header, nil }
func (s *xlsxSource) Hints() []Kind             { return nil }

// Close releases excelize's temporary files. Next calls it at the end and on
// an error, so a caller that reads to the end need not.
func (s *xlsxSource) Close() error {
	var err error
	if s.rows != nil {
		err = s.rows.Close()
		s.rows = nil
	}
	if s.f != nil {
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
		s.f = nil
	}
	return err
}

func (s *xlsxSource) Next() ([]string, int, error) {
	if s.err != nil {
		return nil, s.row, s.err
	}
	rec, err := s.next()
	if err != nil {
		s.err = err
		s.Close()
		return nil, s.row, err
	}
	return rec, s.row, nil
}

func (s *xlsxSource) next() ([]string, error) {
	if s.rows == nil {
		return nil, io.EOF
	}
	for {
		cells, err := s.readRow()
		if err != nil {
			return nil, err
		}
		if emptyRow(cells) {
			continue
		}
		for i := len(s.header); i < len(cells); i++ {
			if cells[i] != "" {
				return nil, &ParseError{File: s.file, Line: s.row, Column: i + 1,
					Err: fmt.Errorf("%w: a value %q right of the header's last column %d", ErrRagged, truncateForError(cells[i]), len(s.header))}
			}
		}
		n := copy(s.rec, cells)
		clear(s.rec[n:])
		return s.rec, nil
	}
}
