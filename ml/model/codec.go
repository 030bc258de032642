package model

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/prep"
)

// Artifact layout. The envelope is fixed for every format version, so that
// any version can be checked and its version read:
//
//	magic    8 bytes "MSMODEL\x00"
//	version  uint32 little-endian (FormatVersion)
//	length   uint64 little-endian: bytes of payload
//	payload  sections
//	crc      uint32 little-endian: CRC-32 (Castagnoli) of everything before it
//
// Version 1 payload: sections, each a tag byte, a uvarint length and the
// bytes. Tags: 1 schema (JSON: inputs, target, task, classes), 2 prep
// (prep.MarshalBinary), 3 predictor family name, 4 predictor bytes (the
// family's MarshalBinary), 5 meta (JSON object of strings). Sections 1-4 are
// required; unknown tags are skipped, so a later minor addition stays
// readable.
//
// Version 2 adds section 6, the members of an ensemble: a uvarint count, then
// per member its weight (float64, 8 bytes little-endian), a uvarint length
// and the member's own complete artifact (a plain pipeline, never an
// ensemble). An ensemble has sections 1, 5 and 6 and none of 2-4. Version 1
// artifacts are still read.
const (
	magic = "MSMODEL\x00"
	// FormatVersion is the artifact format MarshalBinary writes and the newest
	// Decode reads.
	FormatVersion = 2
)

const (
	secSchema = 1 + iota
	secPrep
	secFamily
	secPredictor
	secMeta
	secMembers
)

// ErrCorrupt is wrapped by Decode errors about an artifact whose bytes are
// damaged or not a model.
var ErrCorrupt = errors.New("model artifact is corrupt")

// ErrNewer is wrapped by Decode errors about an artifact written by a newer
// version of the app.
var ErrNewer = errors.New("model artifact is from a newer version of Modelsmith")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type schema struct {
	Inputs  []Input  `json:"inputs"`
	Target  string   `json:"target"`
	Task    string   `json:"task"`
	Classes []string `json:"classes,omitempty"`
}

// MarshalBinary encodes p in the native artifact format.
func (p *Pipeline) MarshalBinary() ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	sch, err := json.Marshal(schema{Inputs: p.Inputs, Target: p.Target, Task: p.Task, Classes: p.Classes})
	if err != nil {
		return nil, fmt.Errorf("model: encode schema: %w", err)
	}
	meta, err := json.Marshal(p.Meta)
	if err != nil {
		return nil, fmt.Errorf("model: encode meta: %w", err)
	}
	type section struct {
		tag byte
		b   []byte
	}
	sections := []section{{secSchema, sch}}
	if p.IsEnsemble() {
		var mb []byte
		mb = binary.AppendUvarint(mb, uint64(len(p.Members)))
		for i, m := range p.Members {
			b, err := m.Pipeline.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("model: encode ensemble member %d: %w", i+1, err)
			}
			mb = binary.LittleEndian.AppendUint64(mb, math.Float64bits(m.Weight))
			mb = binary.AppendUvarint(mb, uint64(len(b)))
			mb = append(mb, b...)
		}
		sections = append(sections, section{secMembers, mb}, section{secMeta, meta})
	} else {
		pb, err := p.Prep.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("model: encode prep: %w", err)
		}
		mb, err := p.Predictor.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("model: encode %s predictor: %w", p.Predictor.Family(), err)
		}
		sections = append(sections, section{secPrep, pb}, section{secFamily, []byte(p.Predictor.Family())},
			section{secPredictor, mb}, section{secMeta, meta})
	}
	var payload []byte
	for _, s := range sections {
		payload = append(payload, s.tag)
		payload = binary.AppendUvarint(payload, uint64(len(s.b)))
		payload = append(payload, s.b...)
	}
	out := make([]byte, 0, len(magic)+12+len(payload)+4)
	out = append(out, magic...)
	out = binary.LittleEndian.AppendUint32(out, FormatVersion)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(payload)))
	out = append(out, payload...)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli))
	return out, nil
}

// Decode reads an artifact written by MarshalBinary; families looks up the
// predictor's family by name (its Decode). It never panics: damaged bytes
// give an error wrapping ErrCorrupt ("model artifact is corrupt: checksum
// mismatch"), an artifact from a newer format one wrapping ErrNewer.
func Decode(b []byte, families func(name string) (learn.Spec, bool)) (*Pipeline, error) {
	return decode(b, families, false)
}

func decode(b []byte, families func(name string) (learn.Spec, bool), member bool) (*Pipeline, error) {
	const head = len(magic) + 12
	if len(b) < len(magic) || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: not a Modelsmith model", ErrCorrupt)
	}
	if len(b) < head+4 {
		return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
	}
	n := binary.LittleEndian.Uint64(b[len(magic)+4:])
	if n != uint64(len(b)-head-4) {
		if n > uint64(len(b)-head-4) {
			return nil, fmt.Errorf("%w: truncated", ErrCorrupt)
		}
		return nil, fmt.Errorf("%w: %d unexpected bytes at the end", ErrCorrupt, uint64(len(b)-head-4)-n)
	}
	end := len(b) - 4
	if crc32.Checksum(b[:end], castagnoli) != binary.LittleEndian.Uint32(b[end:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	version := binary.LittleEndian.Uint32(b[len(magic):])
	if v := version; v != FormatVersion && v != 1 {
		if v > FormatVersion {
			return nil, fmt.Errorf("%w: format version %d, this app reads up to %d; update Modelsmith to open it", ErrNewer, v, FormatVersion)
		}
		return nil, fmt.Errorf("%w: unknown format version %d", ErrCorrupt, v)
	}
	secs := map[byte][]byte{}
	rest := b[head:end]
	for len(rest) > 0 {
		tag := rest[0]
		l, k := binary.Uvarint(rest[1:])
		if k <= 0 || l > uint64(len(rest)-1-k) {
			return nil, fmt.Errorf("%w: bad section", ErrCorrupt)
		}
		if _, dup := secs[tag]; dup {
			return nil, fmt.Errorf("%w: section %d twice", ErrCorrupt, tag)
		}
		secs[tag] = rest[1+k : 1+k+int(l)]
		rest = rest[1+k+int(l):]
	}
	_, ensemble := secs[secMembers]
	ensemble = ensemble && version >= 2
	required := []byte{secSchema, secPrep, secFamily, secPredictor}
	if ensemble {
		if member {
			return nil, fmt.Errorf("%w: an ensemble member is an ensemble", ErrCorrupt)
		}
		required = []byte{secSchema}
		for _, t := range []byte{secPrep, secFamily, secPredictor} {
			if _, ok := secs[t]; ok {
				return nil, fmt.Errorf("%w: an ensemble with section %d", ErrCorrupt, t)
			}
		}
	}
	for _, t := range required {
		if _, ok := secs[t]; !ok {
			return nil, fmt.Errorf("%w: section %d missing", ErrCorrupt, t)
		}
	}
	var sch schema
	if err := json.Unmarshal(secs[secSchema], &sch); err != nil {
		return nil, fmt.Errorf("%w: schema: %v", ErrCorrupt, err)
	}
	p := &Pipeline{Inputs: sch.Inputs, Target: sch.Target, Task: sch.Task, Classes: sch.Classes}
	if m, ok := secs[secMeta]; ok && len(m) > 0 {
		if err := json.Unmarshal(m, &p.Meta); err != nil {
			return nil, fmt.Errorf("%w: meta: %v", ErrCorrupt, err)
		}
	}
	if ensemble {
		if err := p.decodeMembers(secs[secMembers], families); err != nil {
			return nil, err
		}
		if err := p.validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return p, nil
	}
	var err error
	if p.Prep, err = prep.Decode(secs[secPrep]); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	family := string(secs[secFamily])
	if families == nil {
		return nil, fmt.Errorf("model: no decoder for model family %q", family)
	}
	spec, ok := families(family)
	if !ok || spec.Decode == nil {
		return nil, fmt.Errorf("model: unknown model family %q", family)
	}
	if p.Predictor, err = decodePredictor(spec, secs[secPredictor]); err != nil {
		return nil, fmt.Errorf("model: decode %s predictor: %w", family, err)
	}
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return p, nil
}

func (p *Pipeline) decodeMembers(b []byte, families func(name string) (learn.Spec, bool)) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > uint64(len(b)) {
		return fmt.Errorf("%w: bad ensemble", ErrCorrupt)
	}
	b = b[k:]
	for i := range int(n) {
		if len(b) < 8 {
			return fmt.Errorf("%w: bad ensemble member %d", ErrCorrupt, i+1)
		}
		w := math.Float64frombits(binary.LittleEndian.Uint64(b))
		l, k := binary.Uvarint(b[8:])
		if k <= 0 || l > uint64(len(b)-8-k) {
			return fmt.Errorf("%w: bad ensemble member %d", ErrCorrupt, i+1)
		}
		m, err := decode(b[8+k:8+k+int(l)], families, true)
		if err != nil {
			return fmt.Errorf("model: ensemble member %d: %w", i+1, err)
		}
		p.Members = append(p.Members, Member{Weight: w, Pipeline: m})
		b = b[8+k+int(l):]
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d bytes after the ensemble members", ErrCorrupt, len(b))
	}
	return p.checkEnsemble()
}

// decodePredictor calls the family's decoder, which must never panic; a
// panic (a bug in a family) still becomes an error, since an artifact is a
// file the user opened.
func decodePredictor(spec learn.Spec, b []byte) (pr learn.Predictor, err error) {
	defer func() {
		if r := recover(); r != nil {
			pr, err = nil, fmt.Errorf("decoder failed: %v", r)
		}
	}()
	pr, err = spec.Decode(b)
	if err == nil && pr == nil {
		err = errors.New("decoder returned no predictor")
	}
	return pr, err
}

// validate checks that the decoded parts agree with each other.
func (p *Pipeline) validate() error {
	k := p.Outputs()
	switch p.Task {
	case Regression:
		if k != 1 || len(p.Classes) != 0 {
			return fmt.Errorf("regression with %d outputs and %d classes", k, len(p.Classes))
		}
	case Binary, Multiclass:
		if k != len(p.Classes) || k < 2 || (p.Task == Binary) != (k == 2) {
			return fmt.Errorf("%s task with %d outputs and %d classes", p.Task, k, len(p.Classes))
		}
	default:
		return fmt.Errorf("unknown task %q", p.Task)
	}
	names := map[string]bool{}
	for _, in := range p.Inputs {
		if in.Name == "" || names[in.Name] {
			return fmt.Errorf("input %q empty or twice", in.Name)
		}
		if k, err := data.ParseKind(in.Type); err != nil || k == data.Unknown {
			return fmt.Errorf("input %q has unknown type %q", in.Name, in.Type)
		}
		names[in.Name] = true
	}
	if p.IsEnsemble() {
		for i, m := range p.Members {
			if m.Pipeline.Task != p.Task || !slices.Equal(m.Pipeline.Classes, p.Classes) {
				return fmt.Errorf("ensemble member %d is a %s model of other classes", i+1, m.Pipeline.Task)
			}
			for _, in := range m.Pipeline.Inputs {
				if !names[in.Name] {
					return fmt.Errorf("input %q of ensemble member %d not in the schema", in.Name, i+1)
				}
			}
		}
		return nil
	}
	for _, in := range p.Prep.Inputs() {
		if in.Excluded == "" && !names[in.Name] {
			return fmt.Errorf("prep input %q not in the schema", in.Name)
		}
	}
	return nil
}
