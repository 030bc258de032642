package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// ChunkRows is the number of rows per stored chunk of a column.
const ChunkRows = 65536

// Chunk layout (version 1). A chunk starts with three uncompressed fields,
// then the zstd-compressed body:
//
//	version  byte (1)
//	kind     byte (Kind)
//	rows     uvarint
//	body     zstd frame
//
// Numeric and Datetime bodies start with an encoding byte:
//
//	0 (floats):   rows × 8 bytes, little-endian IEEE 754 bits (NaN payloads kept)
//	1 (integers): a missing bitmap of ceil(rows/8) bytes (bit set = missing),
//	              then one zigzag varint per present value: the difference from
//	              the previous present value (the first from 0)
//
// Integers are chosen when every present value is a whole number in int64
// range (and not -0), which makes counts, codes and timestamps small deltas.
//
// Categorical and Text bodies hold a local dictionary of the levels used in
// the chunk, in order of first use (uvarint count, then uvarint length and
// bytes per level), then one uvarint per row: 0 for missing, else 1 + the
// index into the local dictionary. A chunk thus decodes on its own.
const chunkVersion = 1

const (
	encFloats   = 0
	encIntegers = 1
)

// ErrCodec is wrapped by DecodeChunk errors about a chunk that is well formed
// in length but not in content.
var ErrCodec = errors.New("data: invalid chunk")

// maxChunkBody bounds the decompressed size of a chunk, so that a corrupt or
// hostile chunk cannot make DecodeChunk allocate without limit.
const maxChunkBody = 256 << 20

var (
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		// EncodeAll on one shared encoder is safe for concurrent use and reuses
		// its internal state; creating an encoder per chunk is costly.
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			panic(err) // only on invalid options, which are constant here
		}
		return e
	})
	zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxChunkBody),
			zstd.WithDecoderConcurrency(0))
		if err != nil {
			panic(err)
		}
		return d
	})
	bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}
)

// EncodeChunk encodes rows [from, to) of c. It panics only if the range is out
// of bounds, like slicing.
func EncodeChunk(c *Column, from, to int) []byte {
	rows := to - from
	bp := bodyPool.Get().(*[]byte)
	body := (*bp)[:0]
	switch c.Kind {
	case Categorical, Text:
		body = encodeCodes(body, c.Codes[from:to], c.Levels)
	default:
		body = encodeNumbers(body, c.Num[from:to])
	}
	out := make([]byte, 0, 2+binary.MaxVarintLen64+len(body)/2+64)
	out = append(out, chunkVersion, byte(c.Kind))
	out = binary.AppendUvarint(out, uint64(rows))
	out = zstdEncoder().EncodeAll(body, out)
	*bp = body
	bodyPool.Put(bp)
	return out
}

func isInt64(v float64) bool {
	return v == math.Trunc(v) && v >= -(1<<63) && v < 1<<63 && !(v == 0 && math.Signbit(v))
}

func encodeNumbers(body []byte, vals []float64) []byte {
	ints := true
	for _, v := range vals {
		if !math.IsNaN(v) && !isInt64(v) {
			ints = false
			break
		}
	}
	if !ints {
		body = append(body, encFloats)
		for _, v := range vals {
			body = binary.LittleEndian.AppendUint64(body, math.Float64bits(v))
		}
		return body
	}
	body = append(body, encIntegers)
	start := len(body)
	body = append(body, make([]byte, (len(vals)+7)/8)...)
	bitmap := body[start:]
	for i, v := range vals {
		if math.IsNaN(v) {
			bitmap[i/8] |= 1 << (i % 8)
		}
	}
	var prev uint64
	for _, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		x := uint64(int64(v))
		// Wrapping subtraction: the delta of any two int64 values fits, and
		// the decoder's wrapping addition restores the value exactly.
		body = binary.AppendVarint(body, int64(x-prev))
		prev = x
	}
	return body
}

func encodeCodes(body []byte, codes []int32, levels []string) []byte {
	local := make(map[int32]uint64) // global code → 1 + local index
	var used []int32
	for _, k := range codes {
		if k < 0 || int(k) >= len(levels) {
			continue
		}
		if _, ok := local[k]; !ok {
			local[k] = uint64(len(used)) + 1
			used = append(used, k)
		}
	}
	body = binary.AppendUvarint(body, uint64(len(used)))
	for _, k := range used {
		body = binary.AppendUvarint(body, uint64(len(levels[k])))
		body = append(body, levels[k]...)
	}
	for _, k := range codes {
		body = binary.AppendUvarint(body, local[k]) // 0 for missing
	}
	return body
}

// DecodeChunk decodes a chunk made by EncodeChunk into a column fragment with
// the chunk's rows and an empty Name. Corrupt input gives an error wrapping
// ErrTruncated (too short) or ErrCodec (inconsistent), never a panic.
func DecodeChunk(b []byte) (*Column, error) {
	if len(b) < 3 {
		return nil, fmt.Errorf("decode chunk: %w", ErrTruncated)
	}
	if b[0] != chunkVersion {
		return nil, fmt.Errorf("decode chunk: %w: version %d", ErrCodec, b[0])
	}
	kind := Kind(b[1])
	if kind < Numeric || kind > Datetime {
		return nil, fmt.Errorf("decode chunk: %w: kind %d", ErrCodec, b[1])
	}
	rows, n := binary.Uvarint(b[2:])
	if n <= 0 {
		return nil, fmt.Errorf("decode chunk: %w: row count", ErrTruncated)
	}
	body, err := zstdDecoder().DecodeAll(b[2+n:], nil)
	if err != nil {
		return nil, fmt.Errorf("decode chunk: %w: %w", ErrTruncated, err)
	}
	// Every row takes at least one byte (or one bit, for missing integers), so
	// a row count beyond that is corrupt; checking it first bounds allocation.
	if rows > uint64(len(body))*8 {
		return nil, fmt.Errorf("decode chunk: %w: %d rows in %d bytes", ErrTruncated, rows, len(body))
	}
	c := &Column{Kind: kind}
	d := decoder{b: body}
	switch kind {
	case Categorical, Text:
		err = d.codes(c, int(rows))
	default:
		err = d.numbers(c, int(rows))
	}
	if err != nil {
		return nil, fmt.Errorf("decode chunk: %w", err)
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("decode chunk: %w: %d trailing bytes", ErrCodec, len(d.b))
	}
	return c, nil
}

type decoder struct{ b []byte }

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		if n == 0 {
			return 0, ErrTruncated
		}
		return 0, fmt.Errorf("%w: varint overflow", ErrCodec)
	}
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) varint() (int64, error) {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		if n == 0 {
			return 0, ErrTruncated
		}
		return 0, fmt.Errorf("%w: varint overflow", ErrCodec)
	}
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) numbers(c *Column, rows int) error {
	if len(d.b) == 0 {
		return ErrTruncated
	}
	enc := d.b[0]
	d.b = d.b[1:]
	switch enc {
	case encFloats:
		if len(d.b) < 8*rows {
			return ErrTruncated
		}
		c.Num = make([]float64, rows)
		for i := range c.Num {
			c.Num[i] = math.Float64frombits(binary.LittleEndian.Uint64(d.b[8*i:]))
		}
		d.b = d.b[8*rows:]
	case encIntegers:
		nb := (rows + 7) / 8
		if len(d.b) < nb {
			return ErrTruncated
		}
		bitmap := d.b[:nb]
		d.b = d.b[nb:]
		c.Num = make([]float64, rows)
		var prev uint64
		for i := range c.Num {
			if bitmap[i/8]&(1<<(i%8)) != 0 {
				c.Num[i] = math.NaN()
				continue
			}
			delta, err := d.varint()
			if err != nil {
				return err
			}
			prev += uint64(delta)
			c.Num[i] = float64(int64(prev))
		}
	default:
		return fmt.Errorf("%w: number encoding %d", ErrCodec, enc)
	}
	return nil
}

func (d *decoder) codes(c *Column, rows int) error {
	nLevels, err := d.uvarint()
	if err != nil {
		return err
	}
	if nLevels > uint64(len(d.b)) || nLevels > uint64(rows) {
		return fmt.Errorf("%w: %d levels", ErrCodec, nLevels)
	}
	c.Levels = make([]string, nLevels)
	for i := range c.Levels {
		l, err := d.uvarint()
		if err != nil {
			return err
		}
		if l > uint64(len(d.b)) {
			return ErrTruncated
		}
		c.Levels[i] = string(d.b[:l])
		d.b = d.b[l:]
	}
	if rows > len(d.b) {
		return ErrTruncated
	}
	c.Codes = make([]int32, rows)
	for i := range c.Codes {
		k, err := d.uvarint()
		if err != nil {
			return err
		}
		if k > nLevels {
			return fmt.Errorf("%w: code %d of %d levels", ErrCodec, k, nLevels)
		}
		c.Codes[i] = int32(k) - 1
	}
	return nil
}

// Append adds frag's rows to c. For categorical and text columns the levels
// are merged: frag's levels that c lacks are added at the end, and frag's
// codes are translated. A column without rows and kind takes frag's kind.
func (c *Column) Append(frag *Column) error {
	if c.Kind == Unknown && c.Len() == 0 {
		c.Kind = frag.Kind
	}
	if c.Kind != frag.Kind {
		return fmt.Errorf("data: append to column %q: kind %s, fragment is %s", c.Name, c.Kind, frag.Kind)
	}
	switch c.Kind {
	case Categorical, Text:
		index := make(map[string]int32, len(c.Levels)+len(frag.Levels))
		for i, l := range c.Levels {
			index[l] = int32(i)
		}
		// Clip first: Levels may be shared with another column (see Slice), and
		// appending into spare capacity would write into that column's view.
		c.Levels = slices.Clip(c.Levels)
		remap := make([]int32, len(frag.Levels))
		for i, l := range frag.Levels {
			k, ok := index[l]
			if !ok {
				k = int32(len(c.Levels))
				c.Levels = append(c.Levels, l)
				index[l] = k
			}
			remap[i] = k
		}
		c.Codes = slices.Grow(c.Codes, len(frag.Codes))
		for _, k := range frag.Codes {
			if k < 0 || int(k) >= len(remap) {
				c.Codes = append(c.Codes, -1)
			} else {
				c.Codes = append(c.Codes, remap[k])
			}
		}
	default:
		c.Num = append(c.Num, frag.Num...)
	}
	return nil
}
