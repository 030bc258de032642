package prep

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
)

// Transform applies the fitted transform to frame. Columns are matched by
// name (extra columns and any order are fine). A categorical input that
// arrives as numbers is matched by the numbers' text form; a numeric input
// that arrives as text is parsed, and a value that is not a number is an
// error naming the column, the row and the value.
func (p *Prep) Transform(frame *data.Frame) (*learn.Features, error) {
	b, err := p.Bind(frame)
	if err != nil {
		return nil, err
	}
	return b.Transform(0, b.rows), nil
}

// Bound is a Prep matched to the columns of one frame, ready to transform any
// range of its rows: the per-level work (lookups, parsing) is done once in
// Bind. It is safe for concurrent use.
type Bound struct {
	p    *Prep
	rows int
	cols []boundCol // per step; zero for excluded steps
}

type boundCol struct {
	num      []float64    // numeric input as numbers
	codes    []int32      // input codes, mapped through levelVal or levelCode
	levelVal []float64    // numeric step: value of each input level
	lvlCode  []int32      // categorical step: training code of each input level
	numCode  []int32      // categorical step fed numbers: training code per row
	textVec  [][]sparse   // text step: features of each input level
	textCol  *data.Column // text step fed numbers or datetimes
}

// Rows is the number of rows of the bound frame.
func (b *Bound) Rows() int { return b.rows }

// Bind matches frame's columns to the fitted inputs; see Transform.
func (p *Prep) Bind(frame *data.Frame) (*Bound, error) {
	if frame == nil {
		return nil, fmt.Errorf("prep: no frame")
	}
	b := &Bound{p: p, rows: frame.Rows(), cols: make([]boundCol, len(p.steps))}
	var missing []string
	for _, s := range p.steps {
		if s.excluded == "" && frame.Column(s.name) == nil {
			missing = append(missing, strconv.Quote(s.name))
		}
	}
	if len(missing) > 0 {
		return nil, missingError(missing)
	}
	for si, s := range p.steps {
		if s.excluded != "" {
			continue
		}
		col := frame.Column(s.name)
		if col.Len() != b.rows {
			return nil, fmt.Errorf("prep: column %q has %d rows, the frame %d", s.name, col.Len(), b.rows)
		}
		bc := &b.cols[si]
		textual := col.Kind == data.Categorical || col.Kind == data.Text
		switch s.kind {
		case data.Text:
			if textual {
				bc.codes = col.Codes
				bc.textVec = s.levelVectors(col.Levels)
			} else {
				bc.textCol = col
			}
		case data.Numeric, data.Datetime:
			if !textual {
				bc.num = col.Num
				continue
			}
			bc.codes = col.Codes
			bc.levelVal = make([]float64, len(col.Levels))
			bad := -1
			for l, text := range col.Levels {
				v, ok := s.parseCell(text)
				if !ok && bad < 0 {
					bad = l
				}
				bc.levelVal[l] = v
			}
			if bad >= 0 {
				for i, c := range col.Codes {
					if c >= 0 && int(c) < len(col.Levels) {
						if _, ok := s.parseCell(col.Levels[c]); !ok {
							return nil, s.badValue(i+1, col.Levels[c])
						}
					}
				}
			}
		case data.Categorical:
			if textual {
				bc.codes = col.Codes
				bc.lvlCode = make([]int32, len(col.Levels))
				for l, text := range col.Levels {
					bc.lvlCode[l] = s.lookup(text)
				}
				continue
			}
			bc.numCode = make([]int32, b.rows)
			cache := map[float64]int32{}
			for i := range bc.numCode {
				v := col.Num[i]
				if math.IsNaN(v) {
					bc.numCode[i] = codeMissing
					continue
				}
				c, ok := cache[v]
				if !ok {
					c = s.lookup(col.Format(i))
					cache[v] = c
				}
				bc.numCode[i] = c
			}
		}
	}
	return b, nil
}

func (s *step) badValue(row int, text string) error {
	what := "a number"
	if s.kind == data.Datetime {
		what = "a date or time"
	}
	return fmt.Errorf("prep: column %q, row %d: %q is not %s", s.name, row, text, what)
}

func (s *step) badCell(text string) error {
	if s.kind == data.Datetime {
		return fmt.Errorf("prep: column %q: %q is not a date or time", s.name, text)
	}
	return fmt.Errorf("prep: column %q: %q is not a number", s.name, text)
}

// lookup is the training code of a level.
func (s *step) lookup(text string) int32 {
	if c, ok := s.index[text]; ok {
		return c
	}
	return codeUnseen
}

// Transform transforms rows [from, to) of the bound frame. It panics if the
// range is out of bounds, like slicing.
func (b *Bound) Transform(from, to int) *learn.Features {
	n := to - from
	if from < 0 || from > to || to > b.rows {
		panic(fmt.Sprintf("prep: rows [%d, %d) of %d", from, to, b.rows))
	}
	feats := make([]learn.Feature, 0, b.p.features)
	for si, s := range b.p.steps {
		if s.excluded != "" {
			continue
		}
		out := s.newFeatures(n)
		bc := &b.cols[si]
		if s.kind == data.Text {
			b.transformText(s, bc, from, n, out)
			feats = append(feats, out...)
			continue
		}
		for i := range n {
			r := from + i
			switch {
			case bc.num != nil:
				s.emitNum(bc.num[r], i, out)
			case bc.levelVal != nil:
				v := math.NaN()
				if c := bc.codes[r]; c >= 0 && int(c) < len(bc.levelVal) {
					v = bc.levelVal[c]
				}
				s.emitNum(v, i, out)
			case bc.lvlCode != nil:
				c := codeMissing
				if k := bc.codes[r]; k >= 0 && int(k) < len(bc.lvlCode) {
					c = bc.lvlCode[k]
				}
				s.emitCode(c, i, out)
			case bc.numCode != nil:
				s.emitCode(bc.numCode[r], i, out)
			default: // a numeric step fed an empty frame
				s.emitNum(math.NaN(), i, out)
			}
		}
		feats = append(feats, out...)
	}
	return &learn.Features{Rows: n, Cols: feats}
}

func (b *Bound) transformText(s *step, bc *boundCol, from, n int, out []learn.Feature) {
	if bc.textVec != nil {
		for i := range n {
			if c := bc.codes[from+i]; c >= 0 && int(c) < len(bc.textVec) {
				for _, e := range bc.textVec[c] {
					out[e.j].Num[i] = e.v
				}
			}
		}
		return
	}
	var z tokenizer
	for i := range n {
		text, missing := textCell(bc.textCol, from+i)
		s.emitText(&z, text, missing, i, out)
	}
}

// IsNA reports whether a cell is one of data.DefaultNATokens (ASCII case
// insensitive, surrounding spaces ignored). It does not allocate.
func IsNA(cell string) bool {
	cell = strings.TrimSpace(cell)
	for _, t := range data.DefaultNATokens {
		if strings.EqualFold(t, cell) {
			return true
		}
	}
	return false
}

// parseCell reads the text form of a numeric or datetime value. A missing
// cell is NaN and ok.
func (s *step) parseCell(text string) (float64, bool) {
	if IsNA(text) {
		return math.NaN(), true
	}
	t := strings.TrimSpace(text)
	// A datetime that looks like a date is tried as one first: a failed
	// ParseFloat or time.Parse allocates its error, which a Row must not.
	dateFirst := s.kind == data.Datetime && looksLikeDate(t)
	if dateFirst {
		if v, ok := parseDate(t); ok {
			return v, true
		}
	}
	if v, err := strconv.ParseFloat(t, 64); err == nil {
		return v, true
	} else if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
		return v, true
	}
	if s.kind == data.Datetime && !dateFirst {
		return parseDate(t)
	}
	return 0, false
}

// parseDate parses t with data.DatetimeLayouts; Unix seconds, UTC.
func parseDate(t string) (float64, bool) {
	for _, layout := range data.DatetimeLayouts {
		if !mayMatch(layout, t) {
			continue
		}
		if tm, err := time.Parse(layout, t); err == nil {
			tm = tm.UTC()
			return float64(tm.Unix()) + float64(tm.Nanosecond())/1e9, true
		}
	}
	return 0, false
}

// looksLikeDate reports whether t has a date separator after its first
// digits, which no number has.
func looksLikeDate(t string) bool {
	for i := 0; i < len(t) && i < 5; i++ {
		if c := t[i]; c == '-' && i > 0 || c == '/' {
			return true
		}
	}
	return false
}

// mayMatch is a cheap shape test of t against the known layouts of
// data.DatetimeLayouts, so that time.Parse (whose failure allocates) runs
// only for the layout that can match. Unknown layouts are always tried.
func mayMatch(layout, t string) bool {
	switch layout {
	case "2006-01-02":
		return len(t) == 10 && t[4] == '-'
	case time.RFC3339:
		return len(t) >= 20 && t[4] == '-' && t[10] == 'T'
	case "2006-01-02T15:04:05":
		return len(t) == 19 && t[4] == '-' && t[10] == 'T'
	case "2006-01-02 15:04:05":
		return len(t) == 19 && t[4] == '-' && t[10] == ' '
	case "01/02/2006":
		return len(t) == 10 && t[2] == '/'
	}
	return true
}

// Row transforms one row at a time into a reusable one-row feature matrix,
// without allocating. It is not safe for concurrent use; make one per
// goroutine.
type Row struct {
	p *Prep
	x learn.Features
	// feats[si] is the slice of x.Cols that step si writes.
	feats [][]learn.Feature
	z     tokenizer
}

// NewRow makes a Row for p.
func (p *Prep) NewRow() *Row {
	r := &Row{p: p, x: learn.Features{Rows: 1}, feats: make([][]learn.Feature, len(p.steps))}
	for _, s := range p.steps {
		r.x.Cols = append(r.x.Cols, s.newFeatures(1)...)
	}
	for si, s := range p.steps {
		r.feats[si] = r.x.Cols[s.off : s.off+s.width]
	}
	return r
}

// Set transforms one row given as text cells, one per input (Inputs order),
// as they would appear in a CSV file: data.DefaultNATokens are missing.
// Excluded inputs are ignored. On error the row's features are undefined.
func (r *Row) Set(cells []string) error {
	if len(cells) != len(r.p.steps) {
		return fmt.Errorf("prep: %d values for %d input columns", len(cells), len(r.p.steps))
	}
	for si, s := range r.p.steps {
		if s.excluded != "" {
			continue
		}
		cell := cells[si]
		out := r.feats[si]
		if s.kind == data.Text {
			s.emitText(&r.z, cell, IsNA(cell), 0, out)
			continue
		}
		if s.kind == data.Categorical {
			c := codeMissing
			if !IsNA(cell) {
				c = s.lookup(cell)
			}
			s.emitCode(c, 0, out)
			continue
		}
		v, ok := s.parseCell(cell)
		if !ok {
			return s.badCell(cell)
		}
		s.emitNum(v, 0, out)
	}
	return nil
}

// Features is the transformed row, valid until the next Set.
func (r *Row) Features() *learn.Features { return &r.x }
