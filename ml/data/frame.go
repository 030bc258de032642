// Package data holds Modelsmith's in-memory tables: the columnar Frame, the readers
// that build one from a file (CSV/TSV, JSON lines, Parquet, XLSX, ARFF, optionally
// gzip-compressed), per-column profiles, the content hash and the chunk codec that
// the workspace stores columns with.
//
// It is a pure library: it must not import storage, app, views or Fyne.
package data

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Kind is the logical type of a column.
type Kind uint8

// The column kinds. The zero Kind means "not known yet" (a reader's type hint
// that leaves the decision to inference).
const (
	Unknown Kind = iota
	Numeric
	Categorical
	Text
	Datetime
)

var kindNames = [...]string{"unknown", "numeric", "categorical", "text", "datetime"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind is the inverse of Kind.String for the four stored kinds.
func ParseKind(s string) (Kind, error) {
	for k := Numeric; k <= Datetime; k++ {
		if kindNames[k] == s {
			return k, nil
		}
	}
	return Unknown, fmt.Errorf("data: unknown column type %q", s)
}

// Column is one named column of a Frame.
//
// Numeric and Datetime columns keep one float64 per row in Num, NaN for a missing
// value; a Datetime value is seconds since the Unix epoch, UTC. Categorical and Text
// columns keep one code per row in Codes indexing Levels, -1 for a missing value.
// Exactly one of Num and Codes is used.
type Column struct {
	Name   string
	Kind   Kind
	Num    []float64
	Codes  []int32
	Levels []string
}

// Len is the number of rows.
func (c *Column) Len() int {
	if c.Kind == Categorical || c.Kind == Text {
		return len(c.Codes)
	}
	return len(c.Num)
}

// IsMissing reports whether row i has no value.
func (c *Column) IsMissing(i int) bool {
	if c.Kind == Categorical || c.Kind == Text {
		return c.Codes[i] < 0
	}
	return math.IsNaN(c.Num[i])
}

// Format returns row i as text for display: "" for a missing value, numbers in
// the shortest form that round-trips, datetimes in RFC 3339.
func (c *Column) Format(i int) string {
	if c.IsMissing(i) {
		return ""
	}
	switch c.Kind {
	case Categorical, Text:
		return c.Levels[c.Codes[i]]
	case Datetime:
		sec, frac := math.Modf(c.Num[i])
		t := time.Unix(int64(sec), int64(frac*1e9)).UTC()
		if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
			return t.Format("2006-01-02")
		}
		return t.Format(time.RFC3339Nano)
	default:
		return strconv.FormatFloat(c.Num[i], 'g', -1, 64)
	}
}

// Frame is a table held column by column. All columns have the same length.
type Frame struct {
	Columns []*Column
}

// Rows is the number of rows (0 for a frame without columns).
func (f *Frame) Rows() int {
	if len(f.Columns) == 0 {
		return 0
	}
	return f.Columns[0].Len()
}

// Column returns the column with the given name, or nil.
func (f *Frame) Column(name string) *Column {
	for _, c := range f.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}
