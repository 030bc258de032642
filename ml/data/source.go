package data

import (
	"errors"
	"fmt"
)

// Format names a file format that ReadFile understands.
type Format string

// The supported formats. A ".gz" suffix on any of them means gzip compression.
const (
	CSV     Format = "csv"
	TSV     Format = "tsv"
	JSONL   Format = "jsonl"
	Parquet Format = "parquet"
	XLSX    Format = "xlsx"
	ARFF    Format = "arff"
)

// Sentinel errors; a reader wraps them in a *ParseError that says where.
var (
	ErrEmpty           = errors.New("the file is empty")
	ErrNoRows          = errors.New("the file has a header but no data rows")
	ErrRagged          = errors.New("wrong number of fields")
	ErrQuote           = errors.New("unterminated or misplaced quote")
	ErrInvalidUTF8     = errors.New("invalid UTF-8")
	ErrDuplicateColumn = errors.New("duplicate column name")
	ErrBinary          = errors.New("not a text file (binary content)")
	ErrTruncated       = errors.New("the file is truncated or corrupt")
	ErrFormat          = errors.New("unsupported file format")
	ErrSyntax          = errors.New("syntax error")
)

// ParseError says what went wrong where. File is the base name (or path) of the
// input; Line is 1-based (0 when not applicable, e.g. inside a Parquet file);
// Column is the 1-based field position (0 when not applicable) and ColumnName its
// header name when known.
type ParseError struct {
	File       string
	Line       int
	Column     int
	ColumnName string
	Err        error
}

func (e *ParseError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += fmt.Sprintf(": line %d", e.Line)
	}
	if e.Column > 0 {
		if e.ColumnName != "" {
			s += fmt.Sprintf(", column %d (%q)", e.Column, e.ColumnName)
		} else {
			s += fmt.Sprintf(", column %d", e.Column)
		}
	}
	return s + ": " + e.Err.Error()
}

func (e *ParseError) Unwrap() error { return e.Err }

// source is what every format reader provides to the shared frame builder, which
// does NA handling, type inference and column building for all formats alike.
//
// A source yields the header once, then one record of string cells at a time.
// Missing cells are yielded as "" (the builder also treats the NA tokens of
// ReadOptions as missing). Errors are *ParseError values naming the file and,
// where it applies, the line and column.
type source interface {
	// Header returns the column names. It is called once, before Next.
	Header() ([]string, error)
	// Hints returns, per column, a kind the format declares (ARFF attribute types,
	// Parquet physical types) or Unknown to let inference decide. It may return nil.
	Hints() []Kind
	// Next returns the next record and the 1-based line (or row) it started on,
	// or io.EOF after the last record. The returned slice may be reused by the
	// next call. A record with the wrong number of cells is an error.
	Next() (record []string, line int, err error)
}
