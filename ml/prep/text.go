package prep

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
)

// TF-IDF features of a text column. The definition is exact, so that an ONNX
// graph (StringNormalizer LOWER, StringSplit, TfIdfVectorizer, Mul,
// LpNormalization) reproduces it:
//
//   - A cell is lower-cased byte by byte, ASCII only: 'A'..'Z' become
//     'a'..'z', every other byte (UTF-8 included) is kept.
//   - It is split on runs of ASCII whitespace (space, \t, \n, \v, \f, \r);
//     the tokens are the non-empty pieces. Punctuation stays part of a token.
//   - Terms are the tokens and, with TextBigrams, every two consecutive
//     tokens joined by one space ("free entry"). A missing cell has no terms.
//   - The vocabulary is fitted on the training rows: terms in at least
//     TextMinDF rows, the TextMaxFeatures with the highest document frequency,
//     ties broken by the term's bytes in increasing order; features are in
//     that order (most frequent first).
//   - For a row, tf(t) is the raw count of term t; idf(t) = ln((1+n)/(1+df(t)))
//     + 1, with n the training rows and df(t) the rows containing t
//     (scikit-learn's smooth_idf); the features are tf·idf divided by their
//     Euclidean norm over the column's features (all zero when no term of
//     the vocabulary occurs).
//
// Features are named "<column>:<term>".

// Text defaults.
const (
	defaultTextMaxFeatures = 5000
	defaultTextMinDF       = 2
)

func textLimits(cfg Config) (maxFeatures, minDF int) {
	maxFeatures, minDF = cfg.TextMaxFeatures, cfg.TextMinDF
	if maxFeatures == 0 {
		maxFeatures = defaultTextMaxFeatures
	}
	if minDF == 0 {
		minDF = defaultTextMinDF
	}
	return maxFeatures, minDF
}

// isSpaceASCII is the whitespace StringSplit splits on.
func isSpaceASCII(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// tokenizer lower-cases and splits a cell into terms, reusing its buffers.
type tokenizer struct {
	buf  []byte // lower-cased cell
	prev []byte // previous token, for bigrams
	pair []byte
}

// terms calls fn with every term of text; the slice is valid during the call
// only.
func (z *tokenizer) terms(text string, bigrams bool, fn func(term []byte)) {
	z.buf = z.buf[:0]
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		z.buf = append(z.buf, c)
	}
	z.prev = z.prev[:0]
	havePrev := false
	b := z.buf
	for i := 0; i < len(b); {
		for i < len(b) && isSpaceASCII(b[i]) {
			i++
		}
		j := i
		for j < len(b) && !isSpaceASCII(b[j]) {
			j++
		}
		if j == i {
			break
		}
		tok := b[i:j]
		fn(tok)
		if bigrams {
			if havePrev {
				z.pair = append(append(append(z.pair[:0], z.prev...), ' '), tok...)
				fn(z.pair)
			}
			z.prev = append(z.prev[:0], tok...)
			havePrev = true
		}
		i = j
	}
}

// fitText fits the vocabulary and idf of a text (or categorical) column.
func (f *fitter) fitText(s *step, cfg Config, col *data.Column) (*step, []learn.Feature, error) {
	maxFeatures, minDF := textLimits(cfg)
	s.bigrams = cfg.TextBigrams
	// Rows per distinct cell text, so every text is tokenised once.
	rowsOf := make([]int, len(col.Levels))
	for _, c := range col.Codes {
		if c >= 0 && int(c) < len(rowsOf) {
			rowsOf[c]++
		}
	}
	df := map[string]int{}
	var z tokenizer
	seen := map[string]bool{}
	for l, text := range col.Levels {
		if rowsOf[l] == 0 {
			continue
		}
		clear(seen)
		z.terms(text, s.bigrams, func(t []byte) {
			if !seen[string(t)] {
				seen[string(t)] = true
				df[string(t)] += rowsOf[l]
			}
		})
	}
	type term struct {
		text string
		df   int
	}
	var terms []term
	for t, n := range df {
		if n >= minDF {
			terms = append(terms, term{t, n})
		}
	}
	slices.SortFunc(terms, func(a, b term) int {
		if c := cmp.Compare(b.df, a.df); c != 0 {
			return c
		}
		return cmp.Compare(a.text, b.text)
	})
	if len(terms) > maxFeatures {
		terms = terms[:maxFeatures]
	}
	if len(terms) == 0 {
		s.excluded = fmt.Sprintf("no word occurs in %d or more rows", minDF)
		return s, nil, nil
	}
	n := float64(f.n)
	s.enc = TFIDF
	s.vocab = make([]string, len(terms))
	s.idf = make([]float64, len(terms))
	for i, t := range terms {
		s.vocab[i] = t.text
		s.idf[i] = math.Log((1+n)/(1+float64(t.df))) + 1
	}
	s.buildTermIndex()
	s.width = len(s.vocab)
	out := s.newFeatures(f.n)
	cache := s.levelVectors(col.Levels)
	for i, c := range col.Codes {
		if c >= 0 && int(c) < len(cache) {
			for _, e := range cache[c] {
				out[e.j].Num[i] = e.v
			}
		}
	}
	return s, out, nil
}

func (s *step) buildTermIndex() {
	s.termIndex = make(map[string]int32, len(s.vocab))
	for i, t := range s.vocab {
		s.termIndex[t] = int32(i)
	}
}

// sparse is one non-zero feature of a text cell.
type sparse struct {
	j int32
	v float64
}

// levelVectors computes the features of every distinct text once.
func (s *step) levelVectors(levels []string) [][]sparse {
	out := make([][]sparse, len(levels))
	var z tokenizer
	counts := map[int32]float64{}
	for l, text := range levels {
		clear(counts)
		z.terms(text, s.bigrams, func(t []byte) {
			if j, ok := s.termIndex[string(t)]; ok {
				counts[j]++
			}
		})
		if len(counts) == 0 {
			continue
		}
		v := make([]sparse, 0, len(counts))
		norm := 0.0
		for j, c := range counts {
			x := c * s.idf[j]
			v = append(v, sparse{j, x})
			norm += x * x
		}
		norm = math.Sqrt(norm)
		for i := range v {
			v[i].v /= norm
		}
		slices.SortFunc(v, func(a, b sparse) int { return cmp.Compare(a.j, b.j) })
		out[l] = v
	}
	return out
}

// emitText writes row i of a TF-IDF step from a cell's text, without
// allocating once z's buffers have grown.
func (s *step) emitText(z *tokenizer, text string, missing bool, i int, out []learn.Feature) {
	for j := range out {
		out[j].Num[i] = 0
	}
	if missing {
		return
	}
	z.terms(text, s.bigrams, func(t []byte) {
		if j, ok := s.termIndex[string(t)]; ok {
			out[j].Num[i]++
		}
	})
	norm := 0.0
	for j := range out {
		if c := out[j].Num[i]; c != 0 {
			x := c * s.idf[j]
			out[j].Num[i] = x
			norm += x * x
		}
	}
	if norm == 0 {
		return
	}
	norm = math.Sqrt(norm)
	for j := range out {
		out[j].Num[i] /= norm
	}
}

func (s *step) textFeatureNames() []string {
	out := make([]string, len(s.vocab))
	for i, t := range s.vocab {
		out[i] = s.name + ":" + t
	}
	return out
}

// textCell is the text of a cell of a non-text column bound to a text step.
func textCell(col *data.Column, i int) (string, bool) {
	if col.IsMissing(i) {
		return "", true
	}
	return col.Format(i), false
}
