package data

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DefaultNATokens are the cells read as missing when ReadOptions.NATokens is nil.
// Tokens match ASCII-case-insensitively ("na", "Null" and "nan" are missing too).
var DefaultNATokens = []string{"", "NA", "N/A", "null", "?", "NaN"}

// DatetimeLayouts are the layouts a text column is tried with, in this order.
// A column becomes Datetime only when every non-missing value parses with one
// and the same layout, so "01/02/2006" is never mixed with ISO dates and a
// column of day-first dates is not misread half-way through. Values without a
// zone are taken as UTC; fractional seconds are accepted after the seconds.
var DatetimeLayouts = []string{
	"2006-01-02",
	time.RFC3339, // also accepts fractional seconds
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"01/02/2006",
}

// naMatcher decides whether a cell is missing. It is on the hot path (called
// for every cell), so it rejects most cells by length and first byte before
// comparing anything.
type naMatcher struct {
	tokens []string // lower-cased
	maxLen int
	empty  bool      // "" is a token
	first  [256]bool // first bytes of the non-empty tokens, in both cases
}

func newNAMatcher(tokens []string) *naMatcher {
	if tokens == nil {
		tokens = DefaultNATokens
	}
	m := &naMatcher{}
	for _, t := range tokens {
		if t == "" {
			m.empty = true
			continue
		}
		// Fold ASCII letters only, as is does: a Unicode lower-casing could
		// change the token's bytes in ways the per-byte comparison cannot undo.
		b := []byte(t)
		for i, c := range b {
			b[i] = lowerASCII(c)
		}
		lt := string(b)
		m.tokens = append(m.tokens, lt)
		m.maxLen = max(m.maxLen, len(lt))
		m.first[lt[0]] = true
		m.first[upperASCII(lt[0])] = true
	}
	return m
}

func (m *naMatcher) is(cell string) bool {
	if len(cell) == 0 {
		return m.empty
	}
	if len(cell) > m.maxLen || !m.first[cell[0]] {
		return false
	}
	for _, t := range m.tokens {
		if len(t) == len(cell) && equalFoldASCII(t, cell) {
			return true
		}
	}
	return false
}

func upperASCII(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFoldASCII compares lower (already lower case) with s, folding only ASCII
// letters: an NA token never matches a non-ASCII look-alike.
func equalFoldASCII(lower, s string) bool {
	for i := 0; i < len(s); i++ {
		if lowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber parses a numeric cell. Plain decimals with at most 15 significant
// digits ("748", "-0.25") take a fast path that is exact: the digits form an
// integer below 2^53 and dividing it by an exact power of ten is one correctly
// rounded IEEE operation, so the result equals strconv.ParseFloat's. Anything
// else (exponents, long mantissas, "Inf", hex) goes to strconv.ParseFloat.
func parseNumber(s string) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		i = 1
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return parseFloatSlow(s)
		}
	}
	if digits == 0 || digits > 15 {
		return parseFloatSlow(s)
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}

func parseFloatSlow(s string) (float64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Out of range still names a number (±Inf or 0): keep it numeric.
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, true
		}
		return 0, false
	}
	// A NaN spelled in a way that is not an NA token is still a missing value.
	return v, true
}

// colBuilder accumulates one column. It starts numeric (unless a hint says
// otherwise) and switches to a string dictionary at the first cell that is
// neither a number nor missing.
//
// Values go into fixed-size blocks that are joined once at the end: appending
// to one growing slice copied each column about four times over and left the
// slack of the last doubling allocated, which cost both time and peak memory.
type colBuilder struct {
	name   string
	pos    int  // 1-based
	hint   Kind // from the source; Unknown lets inference decide
	isStr  bool
	num    blocks[float64]
	codes  blocks[int32]
	levels []string
	dict   map[string]int32
	short  map[uint64]int32 // levels of at most 7 bytes, keyed by packShort
	times  []float64        // parsed value per level, for a Datetime hint
}

// blockSize is the number of values per block: big enough that the per-block
// overhead vanishes, small enough that the last block's slack does not matter.
const blockSize = 1 << 16

// blocks is an append-only sequence of values stored in fixed-size blocks.
type blocks[T any] struct {
	full [][]T
	cur  []T
	n    int
}

func (b *blocks[T]) add(v T) {
	if len(b.cur) == cap(b.cur) {
		b.grow()
	}
	b.cur = append(b.cur, v)
	b.n++
}

func (b *blocks[T]) grow() {
	// The first block grows from small, so that a 10-row file does not
	// allocate blockSize values per column.
	if len(b.full) == 0 && cap(b.cur) < blockSize {
		nb := make([]T, len(b.cur), min(blockSize, max(1024, 4*cap(b.cur))))
		copy(nb, b.cur)
		b.cur = nb
		return
	}
	b.full = append(b.full, b.cur)
	b.cur = make([]T, 0, blockSize)
}

// join returns all values in one slice of exact length and releases the blocks.
func (b *blocks[T]) join() []T {
	// A single block with little slack (a good reservation) is used as is.
	if len(b.full) == 0 && cap(b.cur)-len(b.cur) <= len(b.cur)/16+1024 {
		out := b.cur
		*b = blocks[T]{}
		return out
	}
	out := make([]T, 0, b.n)
	for i, blk := range b.full {
		out = append(out, blk...)
		b.full[i] = nil // let the block go as soon as it is copied
	}
	out = append(out, b.cur...)
	*b = blocks[T]{}
	return out
}

// reserve makes room for n values in the current block when the values so far
// fit in one, so that a column whose length was estimated right is built in
// place and join has nothing to copy.
func (b *blocks[T]) reserve(n int) {
	if len(b.full) > 0 || n <= cap(b.cur) {
		return
	}
	nb := make([]T, len(b.cur), n)
	copy(nb, b.cur)
	b.cur = nb
}

// each calls fn for every value in order.
func (b *blocks[T]) each(fn func(T)) {
	for _, blk := range b.full {
		for _, v := range blk {
			fn(v)
		}
	}
	for _, v := range b.cur {
		fn(v)
	}
}

// packShort packs a string of at most 7 bytes, with its length, into a map key
// that hashes and compares faster than the string (most categorical levels,
// such as airport codes, are this short).
func packShort(s string) uint64 {
	k := uint64(len(s)) << 56
	for i := 0; i < len(s); i++ {
		k |= uint64(s[i]) << (8 * i)
	}
	return k
}

// cellProblem says why a cell was refused.
type cellProblem uint8

const (
	cellOK cellProblem = iota
	cellNotNumber
	cellNotDatetime
)

// addColumn adds field j of the n records in cells (w fields each). It is the
// per-batch, column-at-a-time form of add: the tight loops over one column
// run markedly faster than switching columns every cell. On a refused cell it
// returns the record index and the problem.
func (c *colBuilder) addColumn(cells []string, j, w, n int, na *naMatcher) (int, cellProblem) {
	r := 0
	if !c.isStr {
		for ; r < n; r++ {
			cell := cells[r*w+j]
			if na.is(cell) {
				c.num.add(math.NaN())
				continue
			}
			v, ok := parseNumber(cell)
			if !ok {
				break
			}
			c.num.add(v)
		}
		if r == n {
			return -1, cellOK
		}
		if c.hint == Numeric {
			return r, cellNotNumber
		}
		c.toStrings()
	}
	for ; r < n; r++ {
		cell := cells[r*w+j]
		if na.is(cell) {
			c.codes.add(-1)
			continue
		}
		var code int32
		var ok bool
		if len(cell) <= 7 {
			code, ok = c.short[packShort(cell)]
		} else {
			code, ok = c.dict[cell]
		}
		if !ok {
			if c.hint == Datetime {
				t, ok := parseTimeAny(cell)
				if !ok {
					return r, cellNotDatetime
				}
				c.times = append(c.times, t)
			}
			code = c.newLevel(cell)
		}
		c.codes.add(code)
	}
	return -1, cellOK
}

func (c *colBuilder) lookup(s string) (int32, bool) {
	if len(s) <= 7 {
		code, ok := c.short[packShort(s)]
		return code, ok
	}
	code, ok := c.dict[s]
	return code, ok
}

func (c *colBuilder) newLevel(cell string) int32 {
	code := int32(len(c.levels))
	if len(cell) <= 7 {
		c.short[packShort(cell)] = code
	}
	// Clone: cell usually points into a whole record's backing string, which
	// would otherwise stay alive for as long as the level does.
	s := strings.Clone(cell)
	c.levels = append(c.levels, s)
	if len(cell) > 7 {
		c.dict[s] = code
	}
	return code
}

func (c *colBuilder) startStrings() {
	c.isStr = true
	c.dict = make(map[string]int32)
	c.short = make(map[uint64]int32)
}

// toStrings converts the numbers read so far into dictionary codes.
func (c *colBuilder) toStrings() {
	c.startStrings()
	c.num.each(func(v float64) {
		if math.IsNaN(v) {
			c.codes.add(-1)
			return
		}
		s := strconv.FormatFloat(v, 'g', -1, 64)
		code, ok := c.lookup(s)
		if !ok {
			code = c.newLevel(s)
		}
		c.codes.add(code)
	})
	c.num = blocks[float64]{}
}

// finish decides the column's kind and returns it.
func (c *colBuilder) finish() *Column {
	col := &Column{Name: c.name}
	if !c.isStr {
		col.Kind, col.Num = Numeric, c.num.join()
		if col.Num == nil {
			col.Num = []float64{}
		}
		if c.hint == Unknown && allNaN(col.Num) {
			// Nothing says it is a number: an empty categorical column is the
			// least surprising (its profile hint says "empty").
			col.Kind, col.Num, col.Codes = Categorical, nil, make([]int32, len(col.Num))
			for i := range col.Codes {
				col.Codes[i] = -1
			}
		}
		return col
	}
	col.Codes, col.Levels = c.codes.join(), c.levels
	if col.Codes == nil {
		col.Codes = []int32{}
	}
	switch c.hint {
	case Datetime:
		col.Kind, col.Num = Datetime, codesToTimes(col.Codes, c.times)
		col.Codes, col.Levels = nil, nil
		return col
	case Categorical, Text:
		col.Kind = c.hint
		return col
	}
	if len(c.levels) == 0 {
		col.Kind = Categorical
		return col
	}
	if times, ok := detectDatetime(c.levels); ok {
		col.Kind, col.Num = Datetime, codesToTimes(col.Codes, times)
		col.Codes, col.Levels = nil, nil
		return col
	}
	if looksLikeText(col.Codes, c.levels) {
		col.Kind = Text
	} else {
		col.Kind = Categorical
	}
	return col
}

func allNaN(v []float64) bool {
	for _, x := range v {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

func codesToTimes(codes []int32, times []float64) []float64 {
	out := make([]float64, len(codes))
	for i, k := range codes {
		if k < 0 {
			out[i] = math.NaN()
		} else {
			out[i] = times[k]
		}
	}
	return out
}

// unixSeconds converts t to the Datetime representation. It refuses years that
// RFC 3339 cannot write back (a zone offset can push 9999-12-31 into 10000).
func unixSeconds(t time.Time) (float64, bool) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return 0, false
	}
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9, true
}

func parseTimeLayout(layout, s string) (float64, bool) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return 0, false
	}
	return unixSeconds(t)
}

// parseTimeAny parses a value with any of DatetimeLayouts (for a Datetime hint,
// where the format declared the type and mixing layouts is acceptable).
func parseTimeAny(s string) (float64, bool) {
	for _, l := range DatetimeLayouts {
		if v, ok := parseTimeLayout(l, s); ok {
			return v, true
		}
	}
	return 0, false
}

// detectDatetime reports whether every level parses with one layout. Only the
// distinct values are parsed, and a cheap shape test rejects most text columns
// at the first level.
func detectDatetime(levels []string) ([]float64, bool) {
	for _, s := range levels {
		if len(s) < 8 || len(s) > 40 || s[0] < '0' || s[0] > '9' {
			return nil, false
		}
	}
	for _, layout := range DatetimeLayouts {
		if _, ok := parseTimeLayout(layout, levels[0]); !ok {
			continue
		}
		times := make([]float64, len(levels))
		ok := true
		for i, s := range levels {
			if times[i], ok = parseTimeLayout(layout, s); !ok {
				break
			}
		}
		if ok {
			return times, true
		}
	}
	return nil, false
}

// levelCounts counts the rows per level.
func levelCounts(codes []int32, nLevels int) (counts []int, missing int) {
	counts = make([]int, nLevels)
	for _, k := range codes {
		if k < 0 {
			missing++
		} else {
			counts[k]++
		}
	}
	return counts, missing
}

// looksLikeText tells free text from categories: long values with spaces (a
// sentence, a review), or so many distinct values that treating them as
// categories would make no sense.
func looksLikeText(codes []int32, levels []string) bool {
	counts, missing := levelCounts(codes, len(levels))
	present := len(codes) - missing
	if present == 0 {
		return false
	}
	var totalLen, withSpace int
	for k, n := range counts {
		totalLen += n * len(levels[k])
		if strings.IndexByte(levels[k], ' ') >= 0 {
			withSpace += n
		}
	}
	if totalLen >= 30*present && 2*withSpace >= present {
		return true
	}
	return len(levels) > 100 && 2*len(levels) > present
}

// reserveAfter is how many records are read before columns are sized from
// the source's row estimate (enough for the estimate to be steady).
const reserveAfter = 4096

// build reads a whole source into a Frame. file names the input in errors;
// progress (may be nil) is called after every batch of records (a few
// thousand: 2048 from prefetch, one 256 KiB block from CSV), which is also
// when ctx is checked.
func build(ctx context.Context, src source, file string, na *naMatcher, progress func()) (*Frame, error) {
	header, err := src.Header()
	if err != nil {
		return nil, withFile(err, file)
	}
	if len(header) == 0 {
		return nil, &ParseError{File: file, Err: ErrEmpty}
	}
	headerLine := 0
	if _, ok := src.(*csvSource); ok {
		headerLine = 1
	}
	names, err := columnNames(header, file, headerLine)
	if err != nil {
		return nil, err
	}
	hints := src.Hints()
	cols := make([]colBuilder, len(names))
	for i := range cols {
		cols[i] = colBuilder{name: names[i], pos: i + 1}
		if i < len(hints) {
			cols[i].hint = hints[i]
		}
		switch cols[i].hint {
		case Categorical, Text, Datetime:
			cols[i].startStrings()
		}
	}
	// Sources that hold resources (goroutines, excelize's temporary files)
	// release them however the build ends.
	switch c := src.(type) {
	case interface{ Close() }:
		defer c.Close()
	case interface{ Close() error }:
		defer c.Close()
	}
	// The CSV source parses on its own goroutines; others get one here.
	bs, ok := src.(batchSource)
	if !ok {
		pf := newPrefetch(src, len(cols))
		defer pf.Close()
		bs = pf
	}
	w := len(cols)
	rows, reserved := 0, false
	for {
		b := bs.nextBatch()
		if b == nil {
			break
		}
		n := len(b.lines)
		if len(b.cells) != n*w {
			// Sources check widths; this guards the indexing below.
			return nil, &ParseError{File: file, Err: fmt.Errorf("%w: expected %d fields a record", ErrRagged, w)}
		}
		failRow, failCol, prob := -1, -1, cellOK
		for j := range cols {
			r, p := cols[j].addColumn(b.cells, j, w, n, na)
			if p != cellOK && (failRow < 0 || r < failRow) {
				failRow, failCol, prob = r, j, p
			}
		}
		if failRow >= 0 {
			return nil, cellError(file, b.lines[failRow], &cols[failCol], b.cells[failRow*w+failCol], prob)
		}
		rows += n
		if !reserved && rows >= reserveAfter {
			reserveRows(src, cols)
			reserved = true
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", file, err)
		}
		if progress != nil {
			progress()
		}
		if b.err == io.EOF {
			break
		}
		if b.err != nil {
			return nil, withFile(b.err, file)
		}
	}
	if rows == 0 {
		return nil, &ParseError{File: file, Err: ErrNoRows}
	}
	f := &Frame{Columns: make([]*Column, len(cols))}
	for i := range cols {
		f.Columns[i] = cols[i].finish()
		cols[i] = colBuilder{}
	}
	return f, nil
}

// rowEstimator is implemented by sources that can guess their row count from
// the input size once some rows are read.
type rowEstimator interface {
	estimateRows() int
}

// reserveRows sizes every column for the source's estimated row count (plus a
// little), which saves building large columns in blocks and joining them: the
// join held every column twice at the end of a read, the peak of its memory.
func reserveRows(src source, cols []colBuilder) {
	e, ok := src.(rowEstimator)
	if !ok {
		return
	}
	n := e.estimateRows()
	if n <= blockSize {
		return
	}
	n += n / 50
	for i := range cols {
		if cols[i].isStr {
			cols[i].codes.reserve(n)
		} else {
			cols[i].num.reserve(n)
		}
	}
}

func cellError(file string, line int, c *colBuilder, cell string, p cellProblem) error {
	pe := &ParseError{File: file, Line: line, Column: c.pos, ColumnName: c.name}
	switch p {
	case cellNotNumber:
		pe.Err = detailError{ErrSyntax, fmt.Sprintf("%q is not a number", cell)}
	default:
		pe.Err = detailError{ErrSyntax, fmt.Sprintf("%q is not a date or time", cell)}
	}
	return pe
}

// detailError is a sentinel with a message that replaces the sentinel's own
// text, for messages that read better without it ("\"abc\" is not a number").
type detailError struct {
	sentinel error
	msg      string
}

func (e detailError) Error() string { return e.msg }
func (e detailError) Unwrap() error { return e.sentinel }

// columnNames names unnamed columns "column_N" and rejects duplicates.
func columnNames(header []string, file string, line int) ([]string, error) {
	names := make([]string, len(header))
	seen := make(map[string]int, len(header))
	for i, h := range header {
		if h == "" {
			h = "column_" + strconv.Itoa(i+1)
		}
		if j, dup := seen[h]; dup {
			return nil, &ParseError{File: file, Line: line, Column: i + 1, ColumnName: h,
				Err: fmt.Errorf("%w: %q is both column %d and column %d", ErrDuplicateColumn, h, j+1, i+1)}
		}
		seen[h] = i
		names[i] = h
	}
	return names, nil
}

// withFile makes sure err is a *ParseError naming the file.
func withFile(err error, file string) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		if pe.File == "" {
			pe.File = file
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("read %s: %w", file, err)
	}
	return &ParseError{File: file, Err: err}
}

// prefetchBatch is a run of records copied out of a source by prefetch.
type prefetchBatch struct {
	cells []string // records back to back, width cells each
	lines []int
	err   error // after the records, if the source failed (or io.EOF)
	bytes int   // input bytes the records came from, where known
}

// prefetch runs a source's Next on its own goroutine, a few batches ahead of
// the builder, so that parsing and column building use two cores. Copying the
// cell slice headers is enough: Go strings are immutable, so a record's strings
// stay valid after the source reuses the slice that held them.
type prefetch struct {
	src   source
	width int
	full  chan *prefetchBatch
	free  chan *prefetchBatch
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
	cur   *prefetchBatch
	i     int // next record in cur
	made  int // batches allocated, by the goroutine
}

const (
	prefetchRecords = 2048
	prefetchDepth   = 4
)

func newPrefetch(src source, width int) *prefetch {
	p := &prefetch{
		src:   src,
		width: width,
		full:  make(chan *prefetchBatch, prefetchDepth),
		free:  make(chan *prefetchBatch, prefetchDepth+2),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go p.run()
	return p
}

func (p *prefetch) run() {
	defer close(p.done)
	defer close(p.full)
	for {
		var b *prefetchBatch
		if p.made < prefetchDepth+2 {
			// Batches are made on demand, so that a ten-line file costs one
			// small batch, and they grow by append to the records' size.
			b = &prefetchBatch{}
			p.made++
		} else {
			select {
			case b = <-p.free:
			case <-p.stop:
				return
			}
		}
		b.cells, b.lines, b.err = b.cells[:0], b.lines[:0], nil
		for len(b.lines) < prefetchRecords {
			rec, line, err := p.src.Next()
			if err == nil && len(rec) != p.width {
				err = &ParseError{Line: line,
					Err: fmt.Errorf("%w: expected %d, found %d", ErrRagged, p.width, len(rec))}
			}
			if err != nil {
				b.err = err
				break
			}
			b.cells = append(b.cells, rec...)
			b.lines = append(b.lines, line)
		}
		select {
		case p.full <- b:
		case <-p.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// batchSource is a source that can hand over its records a batch at a time.
type batchSource interface {
	// nextBatch returns the next batch, or nil after the last. A batch's err,
	// if set, follows its records (io.EOF: there are no more). The previous
	// batch may be reused once nextBatch is called again.
	nextBatch() *prefetchBatch
}

func (p *prefetch) nextBatch() *prefetchBatch {
	if p.cur != nil {
		if p.cur.err != nil {
			return nil
		}
		p.free <- p.cur
		p.cur = nil
	}
	b, ok := <-p.full
	if !ok {
		return nil
	}
	p.cur, p.i = b, len(b.lines)
	return b
}

func (p *prefetch) Header() ([]string, error) { return p.src.Header() }
func (p *prefetch) Hints() []Kind             { return p.src.Hints() }

func (p *prefetch) Next() ([]string, int, error) {
	for p.cur == nil || p.i == len(p.cur.lines) {
		if p.cur != nil {
			if p.cur.err != nil {
				return nil, 0, p.cur.err
			}
			p.free <- p.cur
			p.cur = nil
		}
		b, ok := <-p.full
		if !ok {
			return nil, 0, io.EOF
		}
		p.cur, p.i = b, 0
	}
	i := p.i
	p.i++
	return p.cur.cells[i*p.width : (i+1)*p.width : (i+1)*p.width], p.cur.lines[i], nil
}

// Close stops the goroutine and waits for it.
func (p *prefetch) Close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}
