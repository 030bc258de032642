package data

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet reader (parquet-go).
//
// Only flat schemas are read: every top-level field must be a required or
// optional leaf. A group (struct, list, map) or a repeated field is rejected with
// an ErrFormat error naming the column, rather than flattened into text, because
// a silently stringified list would reach training as a high-cardinality
// category nobody asked for.
//
// Cells: integers and floats in their shortest exact text (Numeric hint);
// booleans as "true"/"false" (Categorical hint); decimals scaled to their decimal
// text (Numeric); DATE as 2006-01-02, TIMESTAMP and legacy INT96 as RFC 3339 in
// UTC (Datetime hint; a timestamp not adjusted to UTC is taken as UTC); strings,
// enums, JSON and UUIDs as text (Unknown: inference decides categorical or text);
// other binary as 0x-prefixed hex; TIME of day as 15:04:05[.fff] text; null as "".
//
// Rows are read a row group at a time in batches of parquetBatch rows, so memory
// stays bounded by one batch plus the library's page buffers.

const parquetBatch = 512

type parquetColumn struct {
	name string
	kind parquet.Kind
	lt   format.LogicalTypeValue // nil when the column has no logical type
}

type parquetSource struct {
	file   string
	pf     *parquet.File
	cols   []parquetColumn
	pos    []int // leaf column index → header position
	header []string
	hints  []Kind

	groups []parquet.RowGroup
	group  int
	rows   parquet.Rows
	batch  []parquet.Row
	n, i   int
	row    int // 1-based number of the last row returned
	rec    []string
	err    error
}

func newParquetSource(r io.ReaderAt, size int64, file string) (src source, err error) {
	s := &parquetSource{file: file}
	// parquet-go panics on some malformed metadata (e.g. a DECIMAL column without
	// a length) instead of returning an error; a user's bad file must not crash us.
	defer func() {
		if p := recover(); p != nil {
			src, err = nil, s.corrupt(0, fmt.Errorf("%v", p))
		}
	}()
	pf, err := parquet.OpenFile(r, size, parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, s.corrupt(0, err)
	}
	s.pf = pf
	leaves := pf.Root().Columns()
	s.pos = make([]int, len(leaves))
	for i, c := range leaves {
		if !c.Leaf() || c.Repeated() {
			what := "nested"
			if c.Repeated() {
				what = "repeated"
			}
			return nil, &ParseError{File: file, Column: i + 1, ColumnName: c.Name(),
				Err: fmt.Errorf("%w: column %q is a %s field; only flat columns are supported", ErrFormat, c.Name(), what)}
		}
		pc := parquetColumn{name: c.Name(), kind: c.Type().Kind()}
		if lt := c.Type().LogicalType(); lt != nil {
			pc.lt = lt.Value
		}
		s.cols = append(s.cols, pc)
		s.header = append(s.header, pc.name)
		s.hints = append(s.hints, pc.hint())
		s.pos[i] = -1
		if idx := c.Index(); idx >= 0 && idx < len(leaves) {
			s.pos[idx] = i
		}
	}
	if len(s.cols) == 0 {
		return nil, &ParseError{File: file, Err: ErrEmpty}
	}
	s.groups = pf.RowGroups()
	s.batch = make([]parquet.Row, parquetBatch)
	s.rec = make([]string, len(s.cols))
	return s, nil
}

func (s *parquetSource) corrupt(row int, err error) error {
	return &ParseError{File: s.file, Line: row, Err: fmt.Errorf("%w: %w", ErrTruncated, err)}
}

func (s *parquetSource) Header() ([]string, error) { return s.header, nil }
func (s *parquetSource) Hints() []Kind             { return s.hints }

// Close releases the current row group's reader. Next calls it at the end and
// on an error, so a caller that reads to the end need not.
func (s *parquetSource) Close() error {
	if s.rows == nil {
		return nil
	}
	err := s.rows.Close()
	s.rows = nil
	return err
}

func (s *parquetSource) Next() ([]string, int, error) {
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

func (s *parquetSource) next() (rec []string, err error) {
	for s.i >= s.n {
		if err := s.fill(); err != nil {
			return nil, err
		}
	}
	row := s.batch[s.i]
	s.i++
	s.row++
	clear(s.rec)
	for _, v := range row {
		c := v.Column()
		if c < 0 || c >= len(s.pos) || s.pos[c] < 0 {
			return nil, s.corrupt(s.row, fmt.Errorf("value for unknown column %d", c))
		}
		p := s.pos[c]
		if v.IsNull() {
			s.rec[p] = ""
			continue
		}
		cell, err := s.cols[p].format(v)
		if err != nil {
			return nil, &ParseError{File: s.file, Line: s.row, Column: p + 1, ColumnName: s.cols[p].name, Err: fmt.Errorf("%w: %w", ErrTruncated, err)}
		}
		s.rec[p] = cell
	}
	return s.rec, nil
}

// fill reads the next batch, moving on to the next row group when one ends.
func (s *parquetSource) fill() (err error) {
	// Decoding pages of a corrupt file can panic inside parquet-go (out-of-range
	// slices in the decoders); turn that into the error it is.
	defer func() {
		if p := recover(); p != nil {
			err = s.corrupt(s.row+1, fmt.Errorf("%v", p))
		}
	}()
	s.i, s.n = 0, 0
	if s.rows == nil {
		if s.group >= len(s.groups) {
			return io.EOF
		}
		s.rows = s.groups[s.group].Rows()
		s.group++
	}
	n, err := s.rows.ReadRows(s.batch)
	s.n = n
	if errors.Is(err, io.EOF) {
		if cerr := s.Close(); cerr != nil && n == 0 {
			return s.corrupt(s.row+1, cerr)
		}
		return nil
	}
	if err != nil {
		return s.corrupt(s.row+n+1, err)
	}
	return nil
}

func (c *parquetColumn) hint() Kind {
	switch c.lt.(type) {
	case *format.DateType, *format.TimestampType:
		return Datetime
	case *format.DecimalType:
		return Numeric
	case *format.StringType, *format.EnumType, *format.JsonType, *format.UUIDType, *format.TimeType:
		return Unknown
	}
	switch c.kind {
	case parquet.Boolean:
		return Categorical
	case parquet.Int32, parquet.Int64, parquet.Float, parquet.Double:
		return Numeric
	case parquet.Int96:
		return Datetime
	}
	return Unknown
}

// julianUnixEpoch is the Julian day number of 1970-01-01, the base of INT96
// timestamps (Impala/Spark): 8 bytes of nanoseconds in the day, then the day.
const julianUnixEpoch = 2440588

func (c *parquetColumn) format(v parquet.Value) (string, error) {
	switch lt := c.lt.(type) {
	case *format.DateType:
		return time.Unix(int64(v.Int32())*86400, 0).UTC().Format("2006-01-02"), nil
	case *format.TimestampType:
		return formatRFC3339(unixIn(v.Int64(), lt.Unit.Value), true), nil
	case *format.TimeType:
		var d time.Duration
		if c.kind == parquet.Int32 {
			d = time.Duration(v.Int32()) * time.Millisecond
		} else {
			d = time.Duration(v.Int64()) * unitOf(lt.Unit.Value)
		}
		return time.Unix(0, int64(d)).UTC().Format("15:04:05.999999999"), nil
	case *format.DecimalType:
		return c.decimal(v, int(lt.Scale))
	case *format.IntType:
		if !lt.IsSigned {
			if c.kind == parquet.Int32 {
				return strconv.FormatUint(uint64(v.Uint32()), 10), nil
			}
			return strconv.FormatUint(v.Uint64(), 10), nil
		}
	case *format.UUIDType:
		b := v.ByteArray()
		if len(b) == 16 {
			h := hex.EncodeToString(b)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
		}
	}
	switch c.kind {
	case parquet.Boolean:
		return strconv.FormatBool(v.Boolean()), nil
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10), nil
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10), nil
	case parquet.Float:
		return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32), nil
	case parquet.Double:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64), nil
	case parquet.Int96:
		i := v.Int96()
		nanos := int64(uint64(i[1])<<32 | uint64(i[0]))
		days := int64(i[2]) - julianUnixEpoch
		return formatRFC3339(time.Unix(days*86400, nanos).UTC(), true), nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		b := v.ByteArray()
		if c.lt == nil && !utf8.Valid(b) {
			return "0x" + hex.EncodeToString(b), nil
		}
		return string(b), nil
	}
	return "", fmt.Errorf("unsupported physical type %v", c.kind)
}

func unitOf(u format.TimeUnitValue) time.Duration {
	if u == nil {
		return time.Millisecond
	}
	return u.Duration()
}

func unixIn(n int64, u format.TimeUnitValue) time.Time {
	switch unitOf(u) {
	case time.Millisecond:
		return time.UnixMilli(n)
	case time.Microsecond:
		return time.UnixMicro(n)
	default:
		return time.Unix(0, n)
	}
}

// decimal writes an unscaled integer (int32, int64 or big-endian two's
// complement bytes) with scale digits after the point.
func (c *parquetColumn) decimal(v parquet.Value, scale int) (string, error) {
	var u big.Int
	switch c.kind {
	case parquet.Int32:
		u.SetInt64(int64(v.Int32()))
	case parquet.Int64:
		u.SetInt64(v.Int64())
	case parquet.ByteArray, parquet.FixedLenByteArray:
		b := v.ByteArray()
		u.SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			u.Sub(&u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
	default:
		return "", fmt.Errorf("decimal stored as %v", c.kind)
	}
	if scale < 0 || scale > 1000 {
		return "", fmt.Errorf("decimal scale %d out of range", scale)
	}
	digits := u.String()
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits, nil
}
