package onnx

import (
	"fmt"
	"regexp"
	"strings"

	"modelsmith/ml/data"
	"modelsmith/ml/model"
	"modelsmith/ml/prep"
)

// exportPrep adds the fitted preprocessing and returns the feature matrix
// X [N, F] double, F = p.Prep.NumFeatures(), in the Prep's feature order.
// Ordinal codes are numbers, NaN for a missing or unseen level.
func exportPrep(b *builder, p *model.Pipeline, inputs map[string]string) (string, error) {
	if p.Prep == nil || p.Predictor == nil {
		return "", fmt.Errorf("onnx: export: pipeline has no prep or predictor")
	}
	var feats []string
	for _, s := range p.Prep.Export() {
		if s.Excluded != "" {
			continue
		}
		in, ok := inputs[s.Name]
		if !ok {
			return "", fmt.Errorf("onnx: export: prep column %q is not an input of the pipeline", s.Name)
		}
		var out []string
		var err error
		switch s.Kind {
		case data.Numeric, data.Datetime:
			out, err = exportNumeric(b, s, in)
		case data.Categorical:
			out, err = exportCategorical(b, s, in)
		case data.Text:
			out, err = exportText(b, s, in)
		default:
			err = fmt.Errorf("column type %v has no ONNX transform", s.Kind)
		}
		if err != nil {
			return "", fmt.Errorf("onnx: export: prep of column %q: %w", s.Name, err)
		}
		feats = append(feats, out...)
	}
	if len(feats) == 0 {
		return "", fmt.Errorf("onnx: export: the prep makes no features")
	}
	return b.concat(1, feats...), nil
}

// exportNumeric makes the features of a numeric or datetime column from its
// input x [N, 1] double.
func exportNumeric(b *builder, s prep.StepExport, x string) ([]string, error) {
	// ±Inf is missing, as in the app.
	miss := b.op("Or", []string{b.isNaN(x), b.op("IsInf", []string{x})})
	var out []string
	for _, pt := range s.Parts {
		var v string
		switch pt.Part {
		case prep.PartValue:
			v = x
		case prep.PartYear, prep.PartMonth, prep.PartDOW:
			v = datetimePart(b, pt.Part, x)
		default:
			return nil, fmt.Errorf("part %q has no ONNX transform", pt.Part)
		}
		fill := nan
		if pt.Impute {
			fill = pt.Fill
		}
		// A part that is NaN though the input is present (a date out of
		// range) is missing too.
		partMiss := miss
		if pt.Part != prep.PartValue {
			partMiss = b.op("Or", []string{miss, b.isNaN(v)})
		}
		v = b.where(partMiss, b.scalar(fill), v)
		if pt.Scale {
			v = b.div(b.sub(v, b.scalar(pt.Mean)), b.scalar(pt.Std))
		}
		out = append(out, v)
		if pt.Indicator {
			out = append(out, b.cast(miss, tDouble))
		}
	}
	return out, nil
}

// missingCell is true [N, 1] where a cell of x [N, 1] string is missing as
// the app reads it (prep.IsNA): one of data.DefaultNATokens ("" included)
// in any case, with any surrounding white space (unicode.IsSpace). One
// RegexFullMatch does it exactly: RE2's case folding, like strings.EqualFold,
// is Unicode simple folding, and the class lists unicode.IsSpace.
func missingCell(b *builder, x string) string {
	alts := make([]string, 0, len(data.DefaultNATokens))
	for _, t := range data.DefaultNATokens {
		if t != "" {
			alts = append(alts, regexp.QuoteMeta(t))
		}
	}
	const space = `[\t\n\v\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}]*`
	pattern := "(?i)" + space + "(?:" + strings.Join(alts, "|") + ")?" + space
	return b.op("RegexFullMatch", []string{x}, stringAttr("pattern", pattern))
}

// exportCategorical looks every cell of x [N, 1] string up: a training level
// gets its code, a missing cell len(Levels) and anything else len(Levels)+1;
// the code picks a row of the step's table.
func exportCategorical(b *builder, s prep.StepExport, x string) ([]string, error) {
	L := len(s.Levels)
	if s.Width < 1 || len(s.Table) != (L+2)*s.Width {
		return nil, fmt.Errorf("encoding %q: table of %d values for %d levels and %d features", s.Encoding, len(s.Table), L, s.Width)
	}
	var keys []string
	var vals []int64
	for c, l := range s.Levels {
		if prep.IsNA(l) { // the app reads such a cell as missing first
			continue
		}
		keys = append(keys, l)
		vals = append(vals, int64(c))
	}
	if len(keys) == 0 { // LabelEncoder needs a key
		keys, vals = []string{""}, []int64{int64(L)}
	}
	code := b.mlop("LabelEncoder", []string{x},
		stringsAttr("keys_strings", keys), intsAttr("values_int64s", vals), intAttr("default_int64", int64(L+1)))
	code = b.where(missingCell(b, x), b.int64s([]int64{int64(L)}), code)
	table := b.doubles(s.Table, int64(L+2), int64(s.Width))
	rows := b.op("Gather", []string{table, code}, intAttr("axis", 0)) // [N, 1, W]
	return []string{b.reshape(rows, -1, int64(s.Width))}, nil
}

// datetimePart computes a calendar part of Unix seconds x [N, 1] double,
// UTC, by the days-from-civil inverse (Howard Hinnant's algorithm) in double
// arithmetic, exact for every whole number involved. Seconds beyond ±1e15
// give NaN, as in the app.
func datetimePart(b *builder, part string, x string) string {
	floorDiv := func(a string, d float64) string {
		return b.op("Floor", []string{b.div(a, b.scalar(d))})
	}
	sec := b.op("Floor", []string{x})
	days := floorDiv(sec, 86400)
	var v string
	if part == prep.PartDOW {
		// 1970-01-01 was a Thursday (4).
		t := b.add(days, b.scalar(4))
		v = b.sub(t, b.mul(floorDiv(t, 7), b.scalar(7)))
	} else {
		z := b.add(days, b.scalar(719468))
		era := floorDiv(z, 146097)
		doe := b.sub(z, b.mul(era, b.scalar(146097)))
		yoe := floorDiv(b.sub(b.add(b.sub(doe, floorDiv(doe, 1460)), floorDiv(doe, 36524)), floorDiv(doe, 146096)), 365)
		doy := b.sub(doe, b.sub(b.add(b.mul(yoe, b.scalar(365)), floorDiv(yoe, 4)), floorDiv(yoe, 100)))
		mp := floorDiv(b.add(b.mul(doy, b.scalar(5)), b.scalar(2)), 153)
		// month = mp < 10 ? mp+3 : mp-9
		month := b.where(b.op("Less", []string{mp, b.scalar(10)}), b.add(mp, b.scalar(3)), b.sub(mp, b.scalar(9)))
		if part == prep.PartMonth {
			v = month
		} else {
			y := b.add(yoe, b.mul(era, b.scalar(400)))
			v = b.add(y, b.cast(b.op("LessOrEqual", []string{month, b.scalar(2)}), tDouble))
		}
	}
	out := b.op("Greater", []string{b.op("Abs", []string{sec}), b.scalar(1e15)})
	return b.where(out, b.scalar(nan), v)
}

// asciiWhitespace are the bytes the app's tokenizer splits on besides the
// space (prep/text.go); StringSplit without a delimiter splits on spaces
// only, so each is split on in turn.
var asciiWhitespace = []string{"\t", "\n", "\v", "\f", "\r"}

// exportText makes the TF-IDF features of a text column from x [N, 1]
// string: lower-case (StringNormalizer), split on runs of whitespace
// (StringSplit on spaces, then on each other whitespace byte: the empty
// pieces this leaves are no term, as the vocabulary has no empty term),
// count the vocabulary's terms (TfIdfVectorizer, mode TF), times idf, divided
// by the row's Euclidean norm. A missing cell has no terms.
//
// The app lower-cases ASCII letters only, and so does StringNormalizer in
// the "C" locale (which also needs no locale installed); the tests check
// that letters beyond ASCII keep their case. onnxruntime refuses cells that
// are not valid UTF-8, which the app would take. Bigrams are refused: the
// empty pieces would break pairs of words.
func exportText(b *builder, s prep.StepExport, x string) ([]string, error) {
	V := len(s.Vocab)
	if s.Encoding != prep.TFIDF || V == 0 || len(s.IDF) != V || s.Width != V {
		return nil, fmt.Errorf("text encoding %q with %d terms, %d idf values and %d features", s.Encoding, V, len(s.IDF), s.Width)
	}
	if s.Bigrams {
		return nil, fmt.Errorf("TF-IDF with bigrams cannot be exported exactly: ONNX StringSplit splits on spaces only, and splitting on the other whitespace leaves gaps between words")
	}
	idx := make([]int64, V)
	for i := range idx {
		idx[i] = int64(i)
	}
	// StringNormalizer and TfIdfVectorizer refuse an empty batch: one ""
	// row more, dropped after counting.
	flat := b.concat(0, b.reshape(x, -1), b.strings([]string{""}, 1))
	tokens := b.split(b.lower(flat), "")
	for _, ws := range asciiWhitespace {
		tokens = b.op("Flatten", []string{b.split(tokens, ws)}, intAttr("axis", 1))
	}
	// One empty column more, so that a batch without any word still has a
	// token axis.
	pad := b.mlop("LabelEncoder", []string{b.reshape(flat, -1, 1)},
		stringsAttr("keys_strings", []string{"\x00"}), stringsAttr("values_strings", []string{""}), stringAttr("default_string", ""))
	tokens = b.concat(1, tokens, pad)
	tf := b.op("TfIdfVectorizer", []string{tokens},
		stringAttr("mode", "TF"), intAttr("min_gram_length", 1), intAttr("max_gram_length", 1), intAttr("max_skip_count", 0),
		intsAttr("ngram_counts", []int64{0}), intsAttr("ngram_indexes", idx), stringsAttr("pool_strings", s.Vocab))
	tf = b.op("Slice", []string{tf, b.int64s([]int64{0}, 1), b.int64s([]int64{-1}, 1), b.int64s([]int64{0}, 1)})
	v := b.mul(b.cast(tf, tDouble), b.doubles(s.IDF, 1, int64(V)))
	norm := b.op("Sqrt", []string{b.op("ReduceSumSquare", []string{v, b.int64s([]int64{1}, 1)}, intAttr("keepdims", 1))})
	zero := b.op("Equal", []string{norm, b.scalar(0)})
	v = b.where(zero, b.scalar(0), b.div(v, norm))
	// A missing cell has no terms.
	v = b.where(missingCell(b, x), b.scalar(0), v)
	return []string{v}, nil
}

func ones(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = 1
	}
	return out
}
