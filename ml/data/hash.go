package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
)

// Hash returns the hex SHA-256 of a canonical encoding of f: per column its
// name, kind and row count, then its values. Values are encoded by meaning,
// not by representation: a categorical cell is its level's text (not its code,
// which depends on the order levels were first seen), every missing number is
// the same NaN. So the same table read from .csv and from .csv.gz, or rebuilt
// from stored chunks, hashes the same.
func (f *Frame) Hash() string {
	w := hashWriter{h: sha256.New(), buf: make([]byte, 0, 64<<10)}
	w.uvarint(uint64(len(f.Columns)))
	for _, c := range f.Columns {
		w.str(c.Name)
		w.byte(byte(c.Kind))
		n := c.Len()
		w.uvarint(uint64(n))
		switch c.Kind {
		case Categorical, Text:
			for _, k := range c.Codes {
				if k < 0 || int(k) >= len(c.Levels) {
					w.byte(0)
					continue
				}
				w.byte(1)
				w.str(c.Levels[k])
			}
		default:
			for _, v := range c.Num {
				bits := math.Float64bits(v)
				if v != v {
					bits = 0x7FF8000000000001 // math.NaN()'s bits, whatever the payload
				}
				w.u64(bits)
			}
		}
	}
	w.flush()
	return hex.EncodeToString(w.h.Sum(nil))
}

// hashWriter batches small writes into one buffer so that hashing 800,000
// cells makes a few hundred Write calls and no allocations.
type hashWriter struct {
	h   hash.Hash
	buf []byte
}

func (w *hashWriter) room(n int) {
	if len(w.buf)+n > cap(w.buf) {
		w.flush()
	}
}

func (w *hashWriter) flush() {
	w.h.Write(w.buf)
	w.buf = w.buf[:0]
}

func (w *hashWriter) byte(b byte) {
	w.room(1)
	w.buf = append(w.buf, b)
}

func (w *hashWriter) u64(v uint64) {
	w.room(8)
	w.buf = binary.LittleEndian.AppendUint64(w.buf, v)
}

func (w *hashWriter) uvarint(v uint64) {
	w.room(binary.MaxVarintLen64)
	w.buf = binary.AppendUvarint(w.buf, v)
}

// str writes a length-prefixed string, so that ("ab","c") and ("a","bc") differ.
func (w *hashWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	for len(s) > 0 {
		w.room(1)
		n := min(len(s), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, s[:n]...)
		s = s[n:]
	}
}
