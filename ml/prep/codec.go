package prep

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"modelsmith/ml/data"
)

// Encoded layout (version 2; version 1 is the same without text steps, and
// is still read), all integers uvarint unless said otherwise,
// strings as a length and bytes, floats as 8 bytes little-endian IEEE 754:
//
//	magic "MSPREP", version byte
//	steps count
//	per step: name, kind byte, excluded string, then by kind:
//	  numeric/datetime: parts count; per part: part byte, flags byte
//	                    (1 impute, 2 indicator, 4 scale), fill, mean, std
//	  categorical:      encoding byte (0 ordinal, 1 onehot, 2 target),
//	                    levels count, levels;
//	                    onehot: flags byte (1 other, 2 missing), one zigzag
//	                            varint slot per level (-1 = other)
//	                    target: k, levels×k encodings, k priors
//	  text:             flags byte (1 bigrams), terms count, terms,
//	                    one idf per term
const (
	prepMagic   = "MSPREP"
	prepVersion = 2
)

// ErrCorrupt is wrapped by Decode errors about bytes that are not a valid
// encoded Prep.
var ErrCorrupt = errors.New("prep: invalid encoded transform")

var encodings = []Encoding{Ordinal, OneHot, Target}

// MarshalBinary encodes p; Decode reverses it.
func (p *Prep) MarshalBinary() ([]byte, error) {
	w := &writer{b: append([]byte(prepMagic), prepVersion)}
	w.uvarint(uint64(len(p.steps)))
	for _, s := range p.steps {
		w.str(s.name)
		w.b = append(w.b, byte(s.kind))
		w.str(s.excluded)
		if s.excluded != "" {
			continue
		}
		switch s.kind {
		case data.Numeric, data.Datetime:
			w.uvarint(uint64(len(s.parts)))
			for _, pt := range s.parts {
				flags := b2i(pt.impute) | b2i(pt.indicator)<<1 | b2i(pt.scale)<<2
				w.b = append(w.b, pt.part, byte(flags))
				w.f64(pt.fill)
				w.f64(pt.mean)
				w.f64(pt.std)
			}
		case data.Text:
			w.b = append(w.b, byte(b2i(s.bigrams)))
			w.uvarint(uint64(len(s.vocab)))
			for _, t := range s.vocab {
				w.str(t)
			}
			for _, v := range s.idf {
				w.f64(v)
			}
		case data.Categorical:
			e := 0
			for i, x := range encodings {
				if x == s.enc {
					e = i
				}
			}
			w.b = append(w.b, byte(e))
			w.uvarint(uint64(len(s.levels)))
			for _, l := range s.levels {
				w.str(l)
			}
			switch s.enc {
			case OneHot:
				w.b = append(w.b, byte(b2i(s.other)|b2i(s.missing)<<1))
				for _, j := range s.slot {
					w.b = binary.AppendVarint(w.b, int64(j))
				}
			case Target:
				w.uvarint(uint64(s.k))
				for _, v := range s.te {
					w.f64(v)
				}
				for _, v := range s.prior {
					w.f64(v)
				}
			}
		}
	}
	return w.b, nil
}

// Decode reverses MarshalBinary. It never panics: bytes that are not a valid
// encoded Prep give an error wrapping ErrCorrupt, and bytes from a newer
// format version say so.
func Decode(b []byte) (*Prep, error) {
	if len(b) < len(prepMagic)+1 || string(b[:len(prepMagic)]) != prepMagic {
		return nil, fmt.Errorf("%w: not an encoded transform", ErrCorrupt)
	}
	if v := b[len(prepMagic)]; v != prepVersion && v != 1 {
		if v > prepVersion {
			return nil, fmt.Errorf("prep: transform format version %d is newer than this build reads (%d); update Modelsmith", v, prepVersion)
		}
		return nil, fmt.Errorf("%w: unknown format version %d", ErrCorrupt, v)
	}
	r := &reader{b: b[len(prepMagic)+1:]}
	n := r.count(1)
	p := &Prep{}
	names := map[string]bool{}
	for range n {
		if r.err != nil {
			break
		}
		s, err := r.step()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if s == nil {
			break
		}
		if names[s.name] {
			return nil, fmt.Errorf("%w: column %q twice", ErrCorrupt, s.name)
		}
		names[s.name] = true
		p.steps = append(p.steps, s)
	}
	if r.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, r.err)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the end", ErrCorrupt, len(r.b))
	}
	if len(p.steps) == 0 {
		return nil, fmt.Errorf("%w: no columns", ErrCorrupt)
	}
	p.layout()
	return p, nil
}

// step reads one step; nil, nil when the reader has failed (r.err says why).
func (r *reader) step() (*step, error) {
	s := &step{name: r.str(), kind: data.Kind(r.byte()), excluded: r.str()}
	if r.err != nil {
		return nil, nil
	}
	if s.name == "" {
		return nil, errors.New("column without a name")
	}
	if s.excluded != "" {
		if s.kind < data.Numeric || s.kind > data.Datetime {
			return nil, fmt.Errorf("column %q: unknown type %d", s.name, s.kind)
		}
		return s, nil
	}
	switch s.kind {
	case data.Text:
		flags := r.byte()
		nt := r.count(9)
		if r.err != nil {
			return nil, nil
		}
		if flags > 1 || nt == 0 {
			return nil, fmt.Errorf("column %q: invalid text features", s.name)
		}
		s.bigrams, s.enc = flags == 1, TFIDF
		for range nt {
			s.vocab = append(s.vocab, r.str())
		}
		for range nt {
			s.idf = append(s.idf, r.f64())
		}
		if r.err != nil {
			return nil, nil
		}
		s.buildTermIndex()
		if len(s.termIndex) != nt {
			return nil, fmt.Errorf("column %q: a term twice", s.name)
		}
		for i, v := range s.idf {
			if !finite(v) || !(v > 0) || s.vocab[i] == "" {
				return nil, fmt.Errorf("column %q: invalid term or idf", s.name)
			}
		}
	case data.Numeric, data.Datetime:
		np := r.count(26)
		if np == 0 && r.err == nil {
			return nil, fmt.Errorf("column %q: no features", s.name)
		}
		for range np {
			pt := numPart{part: r.byte()}
			flags := r.byte()
			pt.impute, pt.indicator, pt.scale = flags&1 != 0, flags&2 != 0, flags&4 != 0
			pt.fill, pt.mean, pt.std = r.f64(), r.f64(), r.f64()
			if r.err != nil {
				return nil, nil
			}
			if pt.part >= numParts || (pt.part != partValue && s.kind != data.Datetime) || flags > 7 {
				return nil, fmt.Errorf("column %q: invalid part", s.name)
			}
			if !finite(pt.fill) || !finite(pt.mean) || !(pt.std > 0) || !finite(pt.std) {
				return nil, fmt.Errorf("column %q: invalid statistics", s.name)
			}
			s.parts = append(s.parts, pt)
		}
	case data.Categorical:
		e := int(r.byte())
		nl := r.count(1)
		if r.err != nil {
			return nil, nil
		}
		if e >= len(encodings) {
			return nil, fmt.Errorf("column %q: unknown encoding %d", s.name, e)
		}
		s.enc = encodings[e]
		s.index = make(map[string]int32, nl)
		for l := range nl {
			text := r.str()
			if r.err != nil {
				return nil, nil
			}
			if _, dup := s.index[text]; dup {
				return nil, fmt.Errorf("column %q: level %q twice", s.name, text)
			}
			s.index[text] = int32(l)
			s.levels = append(s.levels, text)
		}
		switch s.enc {
		case OneHot:
			flags := r.byte()
			s.other, s.missing = flags&1 != 0, flags&2 != 0
			used := make([]bool, nl)
			s.slot = make([]int32, nl)
			for l := range nl {
				j := r.varint()
				if r.err != nil {
					return nil, nil
				}
				if j < -1 || j >= int64(nl) || j >= 0 && used[j] {
					return nil, fmt.Errorf("column %q: invalid one-hot slot", s.name)
				}
				if j >= 0 {
					used[j] = true
					s.oneHot++
				}
				s.slot[l] = int32(j)
			}
			// Slots must be 0..oneHot-1 so that every feature exists.
			for j := range s.oneHot {
				if !used[j] {
					return nil, fmt.Errorf("column %q: invalid one-hot slot", s.name)
				}
			}
		case Target:
			k := r.count(8 * (nl + 1))
			if r.err != nil {
				return nil, nil
			}
			if k == 0 || k == 2 {
				return nil, fmt.Errorf("column %q: invalid target encoding width", s.name)
			}
			s.k = k
			s.te = make([]float64, 0, nl*k)
			for range nl * k {
				s.te = append(s.te, r.f64())
			}
			for range k {
				s.prior = append(s.prior, r.f64())
			}
			if r.err != nil {
				return nil, nil
			}
			for _, v := range append(s.te, s.prior...) {
				if !finite(v) {
					return nil, fmt.Errorf("column %q: invalid target encoding", s.name)
				}
			}
		}
	default:
		return nil, fmt.Errorf("column %q: unknown type %d", s.name, s.kind)
	}
	return s, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

type writer struct{ b []byte }

func (w *writer) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *writer) str(s string)     { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *writer) f64(v float64)    { w.b = binary.LittleEndian.AppendUint64(w.b, math.Float64bits(v)) }

// reader reads the encoding with a sticky error, never past its bytes.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or invalid %s", what)
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail("byte")
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a count of items of at least minSize bytes each, refusing
// counts the remaining bytes cannot hold (so corrupt input cannot make the
// decoder allocate without bound).
func (r *reader) count(minSize int) int {
	v := r.uvarint()
	if r.err == nil && v > uint64(len(r.b)/max(minSize, 1)) {
		r.fail("count")
		return 0
	}
	return int(v)
}

func (r *reader) str() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.fail("string")
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) f64() float64 {
	if len(r.b) < 8 {
		r.fail("number")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}
