package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// csvSource reads delimited text through encoding/csv. Fields are passed on
// exactly as written (no trimming) except that a leading UTF-8 byte order mark
// is dropped from the first line.
//
// Parsing runs in parallel: a splitter cuts the input into blocks of whole
// records (at newlines outside quotes, found by quote parity), worker
// goroutines parse the blocks with their own csv.Reader, and Next hands out
// the records in input order. Every block starts on a true record boundary as
// long as the blocks before it parsed cleanly, so the first error reported is
// the same one a single reader would report, with the same line. A block with
// no quote character at all (most blocks of most files) is split by
// parsePlain instead, which gives the same records several times faster.
type csvSource struct {
	file    string
	delim   rune
	split   blockSplitter
	header  []string
	suspect *atomic.Bool // see utf8Watch; nil means every field is checked

	order chan chan *prefetchBatch // one future per block, in input order
	free  chan *prefetchBatch      // batches handed back by Next, for reuse
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
	cur   *prefetchBatch
	i     int

	// sizeHint is the size of the (decompressed) input if known, else -1;
	// with the first data block's records per byte it estimates the row count.
	sizeHint   int64
	firstBytes int
	firstRecs  int
}

func (s *csvSource) estimateRows() int {
	if s.sizeHint <= 0 || s.firstBytes == 0 || s.firstRecs == 0 {
		return 0
	}
	est := float64(s.sizeHint) * float64(s.firstRecs) / float64(s.firstBytes)
	// A record takes at least two bytes ("x\n"): never trust more than that.
	return int(min(est, float64(s.sizeHint/2)))
}

const (
	csvBlockSize = 256 << 10 // bytes of input per parsed block
	csvWorkers   = 2         // parsing goroutines: with the builder and gunzip, enough for 2-4 cores
	csvAhead     = 6         // blocks parsed ahead of the builder, bounding memory
)

// newCSVSource returns a source over delimited text. delim must not be 0; use
// sniffDelimiter to choose one.
func newCSVSource(r io.Reader, file string, delim rune) source {
	return &csvSource{file: file, delim: delim, split: blockSplitter{r: stripBOM(r), line: 1}, sizeHint: -1}
}

func (s *csvSource) Header() ([]string, error) {
	for {
		// The header is parsed on its own so that the data blocks can be
		// checked against its width from the start.
		block, line, err := s.split.next(0, true)
		if err == io.EOF {
			return nil, &ParseError{File: s.file, Err: ErrEmpty}
		}
		if err != nil {
			return nil, err
		}
		b := s.parseBlock(block, line, 0)
		if b.err != nil {
			return nil, b.err
		}
		if len(b.lines) == 0 {
			continue // a blank line before the header
		}
		s.header = b.cells
		s.start()
		return s.header, nil
	}
}

func (s *csvSource) Hints() []Kind { return nil }

func (s *csvSource) start() {
	type job struct {
		block []byte
		line  int
		out   chan *prefetchBatch
	}
	jobs := make(chan job)
	s.order = make(chan chan *prefetchBatch, csvAhead)
	s.free = make(chan *prefetchBatch, csvAhead+csvWorkers+2)
	s.stop = make(chan struct{})
	width := len(s.header)
	s.wg.Add(1 + csvWorkers)
	go func() {
		defer s.wg.Done()
		defer close(jobs)
		defer close(s.order)
		for {
			block, line, err := s.split.next(csvBlockSize, false)
			out := make(chan *prefetchBatch, 1)
			if err != nil {
				out <- &prefetchBatch{err: err}
				select {
				case s.order <- out:
				case <-s.stop:
				}
				return
			}
			select {
			case s.order <- out:
			case <-s.stop:
				return
			}
			select {
			case jobs <- job{block, line, out}:
			case <-s.stop:
				return
			}
		}
	}()
	for range csvWorkers {
		go func() {
			defer s.wg.Done()
			for j := range jobs {
				b := s.parseBlock(j.block, j.line, width)
				b.bytes = len(j.block)
				j.out <- b
			}
		}()
	}
}

func (s *csvSource) Next() ([]string, int, error) {
	for s.cur == nil || s.i == len(s.cur.lines) {
		if s.cur != nil && s.cur.err != nil {
			return nil, 0, s.cur.err
		}
		if s.nextBatch() == nil {
			return nil, 0, io.EOF
		}
		s.i = 0
	}
	w := len(s.header)
	i := s.i
	s.i++
	return s.cur.cells[i*w : (i+1)*w : (i+1)*w], s.cur.lines[i], nil
}

func (s *csvSource) nextBatch() *prefetchBatch {
	if s.cur != nil {
		if s.cur.err != nil {
			return nil
		}
		// Recycling batches avoids regrowing a megabyte of cell headers per
		// block, which was most of the reader's allocation.
		select {
		case s.free <- s.cur:
		default:
		}
		s.cur = nil
	}
	if s.order == nil {
		return nil
	}
	out, ok := <-s.order
	if !ok {
		s.order = nil
		return nil
	}
	s.cur = <-out
	if s.firstBytes == 0 {
		s.firstBytes, s.firstRecs = s.cur.bytes, len(s.cur.lines)
	}
	return s.cur
}

// Close stops the splitter and the workers and waits for them.
func (s *csvSource) Close() {
	if s.stop == nil {
		return
	}
	s.once.Do(func() { close(s.stop) })
	s.wg.Wait()
}

// parseBlock parses whole records starting on line firstLine. width is the
// expected number of fields (0 for the header, which sets it).
func (s *csvSource) parseBlock(block []byte, firstLine, width int) *prefetchBatch {
	b := s.batch(len(block), width)
	if width > 0 && plainDelimiter(s.delim) && bytes.IndexByte(block, '"') < 0 {
		s.parsePlain(b, block, firstLine, width)
	} else {
		s.parseQuoted(b, block, firstLine, width)
	}
	return b
}

// batch returns an empty batch, recycled if one is free.
func (s *csvSource) batch(blockLen, width int) *prefetchBatch {
	select {
	case b := <-s.free:
		b.cells, b.lines = b.cells[:0], b.lines[:0]
		return b
	default:
	}
	b := &prefetchBatch{}
	if width > 0 {
		// Guess the record count from the block size, assuming ~3 bytes a
		// field, so that the first batches need not grow many times.
		n := blockLen/(3*width) + 16
		b.cells, b.lines = make([]string, 0, n*width), make([]int, 0, n)
	}
	return b
}

// plainDelimiter reports whether parsePlain can split on d.
func plainDelimiter(d rune) bool {
	return d > 0 && d < utf8.RuneSelf && d != '"' && d != '\r' && d != '\n'
}

// parsePlain parses a block that holds no quote character. Without quotes,
// encoding/csv's grammar is only "split lines at \n, drop a \r before it (or at
// the end of the input), skip empty lines, split fields at the delimiter", and
// doing exactly that here is several times faster: the block becomes one
// string and every cell is a substring of it, with no per-record allocation.
// FuzzPlainMatchesEncodingCSV checks that both parsers agree.
func (s *csvSource) parsePlain(b *prefetchBatch, block []byte, firstLine, width int) {
	str := string(block)
	d := byte(s.delim)
	suspect := s.suspect == nil || s.suspect.Load()
	line := firstLine
	for len(str) > 0 {
		var l string
		if end := strings.IndexByte(str, '\n'); end >= 0 {
			l, str = str[:end], str[end+1:]
		} else {
			l, str = str, ""
		}
		if n := len(l); n > 0 && l[n-1] == '\r' {
			l = l[:n-1]
		}
		if len(l) == 0 {
			line++
			continue
		}
		start := len(b.cells)
		// A plain loop beats strings.IndexByte here: fields are a few bytes
		// long, so the call overhead outweighs its vectorised scan.
		f := 0
		for k := 0; k < len(l); k++ {
			if l[k] == d {
				b.cells = append(b.cells, l[f:k])
				f = k + 1
			}
		}
		b.cells = append(b.cells, l[f:])
		if found := len(b.cells) - start; found != width {
			b.cells = b.cells[:start]
			b.err = &ParseError{File: s.file, Line: line,
				Err: fmt.Errorf("%w: expected %d, found %d", ErrRagged, width, found)}
			return
		}
		if suspect {
			for i, f := range b.cells[start:] {
				if !utf8.ValidString(f) {
					b.cells = b.cells[:start]
					b.err = &ParseError{File: s.file, Line: line, Column: i + 1, ColumnName: s.header[i], Err: ErrInvalidUTF8}
					return
				}
			}
		}
		b.lines = append(b.lines, line)
		line++
	}
}

// parseQuoted parses a block with encoding/csv.
func (s *csvSource) parseQuoted(b *prefetchBatch, block []byte, firstLine, width int) {
	cr := csv.NewReader(bytes.NewReader(block))
	cr.Comma = s.delim
	cr.ReuseRecord = true
	cr.FieldsPerRecord = width
	off := firstLine - 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return
		}
		if err != nil {
			b.err = s.mapError(err, rec, off, max(width, len(rec)))
			return
		}
		line, _ := cr.FieldPos(0)
		if s.suspect == nil || s.suspect.Load() {
			for i, f := range rec {
				if !utf8.ValidString(f) {
					l, _ := cr.FieldPos(i)
					pe := &ParseError{File: s.file, Line: l + off, Column: i + 1, Err: ErrInvalidUTF8}
					if i < len(s.header) {
						pe.ColumnName = s.header[i]
					}
					b.err = pe
					return
				}
			}
		}
		if width == 0 {
			// The header: keep a copy, ReuseRecord recycles the slice.
			b.cells = append([]string(nil), rec...)
			b.lines = append(b.lines, line+off)
			return
		}
		b.cells = append(b.cells, rec...)
		b.lines = append(b.lines, line+off)
	}
}

// mapError turns an encoding/csv error into a *ParseError with our sentinels;
// off is added to the block-relative line numbers.
func (s *csvSource) mapError(err error, rec []string, off, width int) error {
	var ce *csv.ParseError
	if !errors.As(err, &ce) {
		return withFile(err, s.file)
	}
	switch {
	case errors.Is(ce.Err, csv.ErrFieldCount):
		return &ParseError{File: s.file, Line: ce.StartLine + off,
			Err: fmt.Errorf("%w: expected %d, found %d", ErrRagged, len(s.header), len(rec))}
	case errors.Is(ce.Err, csv.ErrQuote):
		// An unterminated quote swallows the rest of the file, so the line where
		// the record (and in practice the quoted field) started is the useful one.
		return &ParseError{File: s.file, Line: ce.StartLine + off,
			Err: fmt.Errorf("%w: quoted field starting on line %d is not closed properly (at line %d, character %d)",
				ErrQuote, ce.StartLine+off, ce.Line+off, ce.Column)}
	case errors.Is(ce.Err, csv.ErrBareQuote):
		return &ParseError{File: s.file, Line: ce.Line + off,
			Err: fmt.Errorf("%w: bare \" in an unquoted field at character %d", ErrQuote, ce.Column)}
	default:
		return &ParseError{File: s.file, Line: ce.Line + off, Err: fmt.Errorf("%w: %w", ErrSyntax, ce.Err)}
	}
}

// blockSplitter cuts a stream of CSV text into blocks of whole records. Each
// block is its own allocation, so workers can parse it while the next is read.
type blockSplitter struct {
	r    io.Reader
	buf  []byte // read but not yet handed out
	eof  bool
	err  error // the read error that ended the stream, other than io.EOF
	line int   // line number of buf[0]
}

// next returns the next block and its first line number: a single record if
// oneLine, else about size bytes of records. At the end it returns io.EOF, or
// the read error (a truncated .gz, say) as soon as it happens: the records
// still buffered would not change the outcome.
func (s *blockSplitter) next(size int, oneLine bool) ([]byte, int, error) {
	for {
		if s.err != nil {
			return nil, 0, s.err
		}
		cut := -1
		if oneLine {
			cut = recordEnd(s.buf, true)
		} else if len(s.buf) >= size || s.eof {
			cut = recordEnd(s.buf, false)
		}
		if cut < 0 && s.eof && len(s.buf) > 0 {
			cut = len(s.buf) - 1 // the last record, without a final newline
		}
		if cut >= 0 {
			block := s.buf[: cut+1 : cut+1]
			rest := s.buf[cut+1:]
			s.buf = make([]byte, len(rest), max(size, 4096)+len(rest)+(64<<10))
			copy(s.buf, rest)
			line := s.line
			s.line += bytes.Count(block, []byte{'\n'})
			return block, line, nil
		}
		if s.eof {
			return nil, 0, io.EOF
		}
		s.fill(max(size, len(s.buf)+(64<<10)))
	}
}

// fill reads until buf holds at least n bytes or the stream ends.
func (s *blockSplitter) fill(n int) {
	if cap(s.buf) < n {
		nb := make([]byte, len(s.buf), n+(64<<10))
		copy(nb, s.buf)
		s.buf = nb
	}
	for !s.eof && len(s.buf) < n {
		m, err := s.r.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+m]
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.err = err
			}
		}
	}
}

// recordEnd returns the index of the first (or last) newline of b that is
// outside quotes, or -1. b starts outside quotes; a quote toggles the state,
// which is exact for well-formed CSV ("" inside quotes toggles twice). For
// malformed CSV the parser reports the error before a wrong cut matters.
func recordEnd(b []byte, first bool) int {
	if !first && bytes.IndexByte(b, '"') < 0 {
		return bytes.LastIndexByte(b, '\n')
	}
	last, in := -1, false
	for i, c := range b {
		switch {
		case c == '"':
			in = !in
		case c == '\n' && !in:
			if first {
				return i
			}
			last = i
		}
	}
	return last
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
