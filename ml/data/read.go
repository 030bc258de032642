package data

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
)

// ReadOptions tune ReadFile and Read. The zero value detects everything.
type ReadOptions struct {
	// Format is the file format; "" detects it from the name's extension (.csv
	// .tsv .txt .jsonl .ndjson .json .parquet .xlsx .arff, each optionally
	// followed by .gz) and, failing that, from the content.
	Format Format
	// Delimiter separates CSV fields; 0 sniffs it among , tab ; and | (a .tsv
	// name means tab).
	Delimiter rune
	// NATokens are the cells read as missing; nil means DefaultNATokens. They
	// match ASCII-case-insensitively.
	NATokens []string
	// Progress, if set, is called with the bytes consumed of the input as stored
	// (compressed, for a .gz) and its total size (-1 if unknown), at most about
	// ten times a second and once at the end. It runs on the reading goroutine.
	Progress func(done, total int64)
}

// sniffSize is how much of the (decompressed) content is examined to detect
// the format and the delimiter and to refuse binary files.
const sniffSize = 8 << 10

// ReadFile reads a table from the file at path. Errors name the file; a file
// that cannot be opened gives the *fs.PathError from os.Open.
func ReadFile(ctx context.Context, path string, opts ReadOptions) (*Frame, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, &ParseError{File: filepath.Base(path), Err: fmt.Errorf("%w: is a directory", ErrFormat)}
	}
	return read(ctx, f, f, st.Size(), filepath.Base(path), opts)
}

// Read reads a table from r. name is used to detect the format from its
// extension and to name the input in errors.
func Read(ctx context.Context, r io.Reader, name string, opts ReadOptions) (*Frame, error) {
	total := int64(-1)
	switch v := r.(type) {
	case interface{ Stat() (os.FileInfo, error) }:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			total = st.Size()
		}
	case interface{ Len() int }:
		total = int64(v.Len())
	}
	return read(ctx, r, nil, total, filepath.Base(name), opts)
}

// read is the shared body of ReadFile and Read. ra, when not nil, gives random
// access to the stored bytes (Parquet reads its footer first).
func read(ctx context.Context, r io.Reader, ra io.ReaderAt, total int64, file string, opts ReadOptions) (*Frame, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	counter := &countingReader{r: r}
	raw := bufio.NewReaderSize(counter, 64<<10)
	magic, err := raw.Peek(2)
	if len(magic) == 0 {
		if err != nil && err != io.EOF {
			return nil, withFile(err, file)
		}
		return nil, &ParseError{File: file, Err: ErrEmpty}
	}
	lowerName := strings.ToLower(file)
	var content io.Reader = raw
	compressed := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if compressed {
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return nil, &ParseError{File: file, Err: fmt.Errorf("%w: gzip: %w", ErrTruncated, err)}
		}
		// Decompression runs on its own goroutine so that it overlaps parsing.
		ar := newAsyncReader(&gzipErrors{r: gz, file: file})
		defer ar.Close()
		content = ar
	}
	var progress func()
	if opts.Progress != nil {
		var last time.Time
		progress = func() {
			if now := time.Now(); now.Sub(last) >= 100*time.Millisecond {
				last = now
				opts.Progress(counter.n.Load(), total)
			}
		}
	}

	format := opts.Format
	if format == "" {
		format = formatFromName(strings.TrimSuffix(lowerName, ".gz"))
	}
	watch := &utf8Watch{r: content}
	text := bufio.NewReaderSize(watch, 256<<10)
	head, err := text.Peek(sniffSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, withFile(err, file)
	}
	if len(head) == 0 {
		return nil, &ParseError{File: file, Err: ErrEmpty}
	}
	err = nil // a short head (io.EOF) is fine
	if format == "" {
		format = sniffFormat(head)
	}

	var src source
	switch format {
	case CSV, TSV:
		if bytes.IndexByte(head, 0) >= 0 {
			return nil, &ParseError{File: file, Err: ErrBinary}
		}
		delim := opts.Delimiter
		if delim == 0 && format == TSV {
			delim = '\t'
		}
		if delim == 0 {
			delim = extDelimiter(lowerName)
		}
		if delim == 0 {
			delim = sniffDelimiter(head)
		}
		cs := newCSVSource(text, file, delim).(*csvSource)
		cs.suspect = &watch.suspect
		cs.sizeHint = contentSize(ra, total, compressed)
		src = cs
	case JSONL, ARFF:
		if bytes.IndexByte(head, 0) >= 0 {
			return nil, &ParseError{File: file, Err: ErrBinary}
		}
		src, err = newFormatSource(format, text, nil, 0, file)
	case XLSX:
		src, err = newFormatSource(format, text, nil, 0, file)
	case Parquet:
		if ra == nil || compressed {
			// Parquet needs random access: hold the (decompressed) bytes.
			var b []byte
			if b, err = io.ReadAll(text); err != nil {
				return nil, withFile(err, file)
			}
			ra, total = bytes.NewReader(b), int64(len(b))
		}
		src, err = newFormatSource(format, nil, ra, total, file)
	default:
		return nil, &ParseError{File: file, Err: fmt.Errorf("%w: %q", ErrFormat, format)}
	}
	if err != nil {
		return nil, withFile(err, file)
	}
	f, err := build(ctx, src, file, newNAMatcher(opts.NATokens), progress)
	if err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		done := counter.n.Load()
		if total < 0 {
			total = done
		}
		opts.Progress(done, total)
	}
	return f, nil
}

// contentSize returns the size of the content once decompressed, or -1. For
// a gzip file with random access it is the trailer's ISIZE field (the size mod
// 2^32 of the last member), good enough as an estimate.
func contentSize(ra io.ReaderAt, total int64, compressed bool) int64 {
	if !compressed {
		return total
	}
	if ra == nil || total < 18 {
		return -1
	}
	var isize [4]byte
	if _, err := ra.ReadAt(isize[:], total-4); err != nil {
		return -1
	}
	return int64(binary.LittleEndian.Uint32(isize[:]))
}

// formatFromName maps a lower-case file name without ".gz" to a format, or "".
func formatFromName(name string) Format {
	switch filepath.Ext(name) {
	case ".csv", ".txt":
		return CSV
	case ".tsv", ".tab":
		return TSV
	case ".jsonl", ".ndjson", ".json":
		return JSONL
	case ".parquet", ".pq":
		return Parquet
	case ".xlsx":
		return XLSX
	case ".arff":
		return ARFF
	}
	return ""
}

// sniffFormat guesses the format of content whose name said nothing.
func sniffFormat(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, []byte("PAR1")):
		return Parquet
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return XLSX
	}
	trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n")
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		return JSONL
	case len(trimmed) > 0 && trimmed[0] == '%',
		len(trimmed) >= 9 && strings.EqualFold(string(trimmed[:9]), "@relation"):
		return ARFF
	}
	return CSV
}

// countingReader counts the bytes read through it; the count is read by the
// progress callback, possibly from another goroutine than the one reading.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// gzipErrors turns the decompressor's failures into *ParseError values naming
// the file: a cut-off .gz surfaces as io.ErrUnexpectedEOF, which says nothing
// to a user and would be mistaken by parsers for a short record.
type gzipErrors struct {
	r    io.Reader
	file string
}

func (g *gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		var pe *ParseError
		if !errors.As(err, &pe) {
			err = &ParseError{File: g.file, Err: fmt.Errorf("%w: gzip: %w", ErrTruncated, err)}
		}
	}
	return n, err
}

// asyncReader reads its source on a separate goroutine, a few blocks ahead,
// so that decompression and parsing use two cores. Close stops the goroutine.
type asyncReader struct {
	full chan []byte
	free chan []byte
	stop chan struct{}
	cur  []byte
	buf  []byte // the block cur points into, recycled when cur is used up
	err  error  // set by the goroutine before it closes full
	once sync.Once
	done chan struct{}
}

const (
	asyncBlock  = 256 << 10
	asyncBlocks = 4
)

func newAsyncReader(r io.Reader) *asyncReader {
	a := &asyncReader{
		full: make(chan []byte, asyncBlocks),
		free: make(chan []byte, asyncBlocks+1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	for range asyncBlocks + 1 {
		a.free <- make([]byte, asyncBlock)
	}
	go a.fill(r)
	return a
}

func (a *asyncReader) fill(r io.Reader) {
	defer close(a.done)
	defer close(a.full)
	for {
		var b []byte
		select {
		case b = <-a.free:
		case <-a.stop:
			return
		}
		n, err := io.ReadFull(r, b[:cap(b)])
		if n > 0 {
			select {
			case a.full <- b[:n]:
			case <-a.stop:
				return
			}
		}
		if err != nil {
			if err == io.ErrUnexpectedEOF {
				err = io.EOF // ReadFull's way of saying "short last block"
			}
			a.err = err
			return
		}
	}
}

func (a *asyncReader) Read(p []byte) (int, error) {
	for len(a.cur) == 0 {
		if a.buf != nil {
			a.free <- a.buf
			a.buf = nil
		}
		b, ok := <-a.full
		if !ok {
			return 0, a.err
		}
		a.buf, a.cur = b, b
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and waits for it to finish.
func (a *asyncReader) Close() error {
	a.once.Do(func() { close(a.stop) })
	<-a.done
	return nil
}

// utf8Watch validates the bytes flowing through it in bulk and raises suspect
// at the first invalid sequence. Checking a whole buffer at once is several
// times cheaper than checking every field, so the CSV reader checks fields
// (to say which line and column is bad) only once suspect is set. The bytes
// are seen before the parser reads them, so no bad record gets past unchecked.
type utf8Watch struct {
	r       io.Reader
	suspect atomic.Bool
	carry   []byte // an incomplete sequence at the end of the previous read
	scratch [utf8.UTFMax * 2]byte
}

func (w *utf8Watch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if n > 0 && !w.suspect.Load() {
		w.check(p[:n])
	}
	if err == io.EOF && len(w.carry) > 0 {
		w.suspect.Store(true) // the stream ends inside a multi-byte sequence
	}
	return n, err
}

func (w *utf8Watch) check(data []byte) {
	if len(w.carry) > 0 {
		// Complete the sequence left over from the previous read.
		buf := append(w.scratch[:0], w.carry...)
		k := min(len(data), utf8.UTFMax-len(w.carry))
		buf = append(buf, data[:k]...)
		if !utf8.FullRune(buf) {
			// Still a valid prefix: this read was too short to finish it.
			w.carry = append(w.carry[:0], buf...)
			return
		}
		r, size := utf8.DecodeRune(buf)
		if r == utf8.RuneError && size <= 1 {
			w.suspect.Store(true)
			return
		}
		data = data[size-len(w.carry):]
		w.carry = w.carry[:0]
	}
	// Hold back a trailing sequence that the next read completes.
	for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(data[i]) {
			if !utf8.FullRune(data[i:]) {
				w.carry = append(w.carry[:0], data[i:]...)
				data = data[:i]
			}
			break
		}
	}
	if !utf8.Valid(data) {
		w.suspect.Store(true)
	}
}
