package prep

import (
	"math"
	"slices"

	"modelsmith/ml/data"
)

// StepExport is the fitted transform of one input column as an exporter
// (ml/onnx) needs it: read-only copies, so the exporter cannot change the
// Prep. Features come out in the order of FeatureNames.
type StepExport struct {
	Name     string
	Kind     data.Kind
	Excluded string // why the column makes no features; "" if it does

	// Numeric and datetime columns: one entry per part, in feature order.
	Parts []PartExport

	// Categorical columns.
	Encoding Encoding
	Levels   []string // training levels; a level's code is its index
	// Width is the number of features the column makes.
	Width int
	// Table holds Width feature values for each of len(Levels)+2 cases:
	// every training level in order, then a missing value, then a level not
	// seen in training. Ordinal codes are given as numbers, NaN for missing
	// and unseen (learners read both as missing).
	Table []float64

	// Text columns (Encoding TFIDF): the vocabulary in feature order, each
	// term's idf, and whether terms include bigrams (see text.go).
	Vocab   []string
	IDF     []float64
	Bigrams bool
}

// Datetime parts (PartExport.Part).
const (
	PartValue = "value" // the number itself; Unix seconds for a datetime
	PartYear  = "year"
	PartMonth = "month" // 1-12
	PartDOW   = "dow"   // day of week, 0 = Sunday, UTC
)

// PartExport is one numeric feature of a numeric or datetime column: the
// part of the value it takes, then imputation (a missing value, NaN or ±Inf,
// becomes Fill when Impute, else NaN) and scaling ((x - Mean) / Std when
// Scale). Indicator adds a 0/1 "is missing" feature right after it.
type PartExport struct {
	Part      string
	Impute    bool
	Fill      float64
	Indicator bool
	Scale     bool
	Mean, Std float64
}

var partNames = [numParts]string{PartValue, PartYear, PartMonth, PartDOW}

// Export describes every fitted step, in input order (excluded columns
// included, with Excluded set).
func (p *Prep) Export() []StepExport {
	out := make([]StepExport, len(p.steps))
	for i, s := range p.steps {
		e := StepExport{Name: s.name, Kind: s.kind, Excluded: s.excluded, Width: s.width}
		if s.excluded != "" {
			out[i] = e
			continue
		}
		switch s.kind {
		case data.Numeric, data.Datetime:
			for _, pt := range s.parts {
				e.Parts = append(e.Parts, PartExport{
					Part: partNames[pt.part], Impute: pt.impute, Fill: pt.fill, Indicator: pt.indicator,
					Scale: pt.scale, Mean: pt.mean, Std: pt.std,
				})
			}
		case data.Categorical:
			e.Encoding = s.enc
			e.Levels = slices.Clone(s.levels)
			e.Table = s.table()
		case data.Text:
			e.Encoding = s.enc
			e.Vocab = slices.Clone(s.vocab)
			e.IDF = slices.Clone(s.idf)
			e.Bigrams = s.bigrams
		}
		out[i] = e
	}
	return out
}

// table runs emitCode on every case, so the exported table is what
// Transform computes, by construction.
func (s *step) table() []float64 {
	L := len(s.levels)
	codes := make([]int32, 0, L+2)
	for c := range L {
		codes = append(codes, int32(c))
	}
	codes = append(codes, codeMissing, codeUnseen)
	feats := s.newFeatures(len(codes))
	for i, c := range codes {
		s.emitCode(c, i, feats)
	}
	w := len(feats)
	t := make([]float64, len(codes)*w)
	for j, f := range feats {
		for i := range codes {
			v := math.NaN()
			if f.Codes != nil {
				if f.Codes[i] >= 0 {
					v = float64(f.Codes[i])
				}
			} else {
				v = f.Num[i]
			}
			t[i*w+j] = v
		}
	}
	return t
}
