// Package prep turns the columns of a data.Frame into the feature matrix a
// learner trains on (learn.Features), with transforms that are fitted once on
// the training data and then applied identically at prediction time:
// imputation with an optional missing indicator, standardisation, ordinal /
// one-hot / target encoding of categorical columns, and numeric parts of
// datetimes. A fitted Prep is serialisable (MarshalBinary / Decode) and is
// part of every saved model (ml/model).
//
// Text columns become TF-IDF features over a vocabulary fitted on the
// training rows (see text.go for the exact definition, which ONNX export
// reproduces); a text column without any word in two rows is excluded, and
// the fitted Prep records why (see Notes).
//
// It is a pure library: it must not import storage, app, views or Fyne.
package prep

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
)

// Impute says how missing numeric values are filled.
type Impute string

// The imputation strategies. ImputeNone keeps NaN, for learners that handle
// missing values natively (gbdt).
const (
	ImputeNone   Impute = "none"
	ImputeMean   Impute = "mean"
	ImputeMedian Impute = "median"
)

// Encoding says how a categorical column becomes features.
type Encoding string

// The categorical encodings.
//
// Ordinal keeps one categorical learn.Feature (codes into the training
// levels; missing and unseen levels are -1), for trees with native
// categorical splits.
//
// OneHot makes one 0/1 feature per training level (at most Config.MaxOneHot,
// the most frequent; the rest share a "(other)" feature, as do levels unseen
// at training). A "(missing)" feature is added only when the column had
// missing values at fit time: otherwise it would be constant 0 in training and
// teach the learner nothing. An unseen level with no "(other)" feature gives
// all zeros, the same as the learner's baseline.
//
// Target replaces a level by the smoothed mean target of its training rows:
// one feature for regression and binary classification (the positive rate),
// one per class for multiclass. Missing and unseen levels get the prior (the
// overall mean). The training features returned by Fit are out-of-fold
// (Config.Folds folds, drawn from the seed) so that a learner cannot learn the
// target leak; Transform uses the encoding fitted on all training rows.
const (
	Ordinal Encoding = "ordinal"
	OneHot  Encoding = "onehot"
	Target  Encoding = "target"
	// TFIDF is the encoding of text columns (not a choice for categorical
	// ones).
	TFIDF Encoding = "tfidf"
)

// Config chooses the transforms. Start from TreePrep or LinearPrep and adjust.
type Config struct {
	// Impute fills missing numeric (and datetime) values.
	Impute Impute
	// Indicators adds a "<name>_missing" 0/1 feature to a numeric column that
	// had missing values at fit time, unless Impute is ImputeNone.
	Indicators bool
	// Standardize scales numeric features to mean 0 and standard deviation 1
	// (a standard deviation of 0 counts as 1). Indicators, one-hot and
	// target-encoded features are not scaled.
	Standardize bool
	// Categorical is the encoding of categorical columns.
	Categorical Encoding
	// HighCardinality, when above 0, switches a categorical column with more
	// training levels than this to HighCardEncoding.
	HighCardinality  int
	HighCardEncoding Encoding
	// MaxOneHot caps the one-hot features per column; 0 means 100.
	MaxOneHot int
	// Smoothing is the weight of the prior in target encoding, in rows: a
	// level seen n times gets (sum + Smoothing*prior) / (n + Smoothing).
	// 0 means 10; use a tiny positive value for almost none.
	Smoothing float64
	// Folds is the number of folds for out-of-fold target encoding; 0 means 5.
	Folds int
	// DatetimeParts adds "<name>_year", "<name>_month" (1-12) and
	// "<name>_dow" (day of week, 0 = Sunday, UTC) to the "<name>" feature (Unix
	// seconds) of a datetime column.
	DatetimeParts bool
	// TextMaxFeatures caps the TF-IDF vocabulary of a text column; 0 means
	// 5000. TextMinDF is the fewest training rows a term must occur in; 0
	// means 2. TextBigrams adds pairs of consecutive words as terms.
	TextMaxFeatures int
	TextMinDF       int
	TextBigrams     bool
	// Columns overrides the configuration of single columns, by name.
	Columns map[string]Config
}

// TreePrep is the configuration for tree learners: categorical columns stay
// categorical (ordinal codes), missing values stay NaN, nothing is scaled;
// text gets a small vocabulary (300 terms): trees split on one feature at a
// time and cost grows with the features, so thousands of rare terms add
// time, not accuracy.
func TreePrep() Config {
	return Config{Impute: ImputeNone, Categorical: Ordinal, DatetimeParts: true, TextMaxFeatures: 300}
}

// LinearPrep is the configuration for linear and distance-based learners:
// median imputation with missing indicators, one-hot encoding (target
// encoding for columns of more than 30 levels), standardisation.
func LinearPrep() Config {
	return Config{
		Impute:           ImputeMedian,
		Indicators:       true,
		Standardize:      true,
		Categorical:      OneHot,
		HighCardinality:  30,
		HighCardEncoding: Target,
		DatetimeParts:    true,
	}
}

func (c Config) check() error {
	switch c.Impute {
	case ImputeNone, ImputeMean, ImputeMedian:
	default:
		return fmt.Errorf("unknown imputation %q (want none, mean or median)", c.Impute)
	}
	for _, e := range []Encoding{c.Categorical, c.HighCardEncoding} {
		switch e {
		case Ordinal, OneHot, Target:
		case "":
			if e == c.Categorical || c.HighCardinality > 0 {
				return errors.New("no categorical encoding given")
			}
		default:
			return fmt.Errorf("unknown categorical encoding %q (want ordinal, onehot or target)", e)
		}
	}
	if c.TextMaxFeatures < 0 || c.TextMinDF < 0 {
		return errors.New("TextMaxFeatures and TextMinDF must not be negative")
	}
	if c.MaxOneHot < 0 || c.Folds < 0 || c.Folds == 1 || c.Smoothing < 0 || math.IsNaN(c.Smoothing) || math.IsInf(c.Smoothing, 0) {
		return errors.New("MaxOneHot, Folds and Smoothing must be positive (Folds at least 2)")
	}
	return nil
}

// Prep is a fitted transform from named frame columns to learn.Features. It is
// immutable after Fit or Decode and safe for concurrent use.
type Prep struct {
	steps    []*step
	features int
	names    []string
}

// step is the fitted transform of one input column.
type step struct {
	name     string
	kind     data.Kind
	excluded string // why the column makes no features; "" if it does

	// Numeric and Datetime.
	parts []numPart

	// Categorical.
	enc     Encoding
	levels  []string // training levels (those with at least one row)
	index   map[string]int32
	slot    []int32 // OneHot: feature per level, -1 for "(other)"
	oneHot  int     // OneHot: number of level features
	other   bool    // OneHot: has "(other)"
	missing bool    // OneHot: has "(missing)"
	k       int     // Target: features per level
	te      []float64
	prior   []float64

	// Text (TF-IDF).
	vocab     []string
	idf       []float64
	bigrams   bool
	termIndex map[string]int32

	off, width int // place in the output features
}

// Datetime parts.
const (
	partValue = iota
	partYear
	partMonth
	partDOW
	numParts
)

var partSuffix = [numParts]string{"", "_year", "_month", "_dow"}

type numPart struct {
	part      uint8
	impute    bool
	indicator bool
	scale     bool
	fill      float64
	mean, std float64
}

// Codes of a categorical value that is not a training level.
const (
	codeMissing int32 = -1
	codeUnseen  int32 = -2
)

// Input describes one input column of a fitted Prep.
type Input struct {
	Name string
	Kind data.Kind
	// Levels are the training levels of a categorical column.
	Levels []string
	// Excluded says why the column makes no features ("" when it does).
	Excluded string
}

// Inputs lists the input columns in the order given to Fit, including
// excluded ones.
func (p *Prep) Inputs() []Input {
	out := make([]Input, len(p.steps))
	for i, s := range p.steps {
		out[i] = Input{Name: s.name, Kind: s.kind, Levels: slices.Clone(s.levels), Excluded: s.excluded}
	}
	return out
}

// Notes lists the columns that make no features and why.
func (p *Prep) Notes() []string {
	var out []string
	for _, s := range p.steps {
		if s.excluded != "" {
			out = append(out, fmt.Sprintf("column %q: %s", s.name, s.excluded))
		}
	}
	return out
}

// FeatureNames are the names of the output features, in order.
func (p *Prep) FeatureNames() []string { return slices.Clone(p.names) }

// NumFeatures is the number of output features.
func (p *Prep) NumFeatures() int { return p.features }

// Fit fits the transform of the named columns of frame and returns it with the
// transformed training rows. target (one value per row: the class index for
// classification) is needed only when a column uses target encoding; classes
// is 0 for regression, 2 for binary and K for multiclass. The seed draws the
// folds of out-of-fold target encoding.
func Fit(ctx context.Context, frame *data.Frame, columns []string, target []float64, classes int, cfg Config, seed uint64) (*Prep, *learn.Features, error) {
	if frame == nil {
		return nil, nil, errors.New("prep: no frame")
	}
	if len(columns) == 0 {
		return nil, nil, errors.New("prep: no input columns")
	}
	if err := cfg.check(); err != nil {
		return nil, nil, fmt.Errorf("prep: %w", err)
	}
	for name, c := range cfg.Columns {
		if err := c.check(); err != nil {
			return nil, nil, fmt.Errorf("prep: column %q: %w", name, err)
		}
	}
	n := frame.Rows()
	cols := make([]*data.Column, len(columns))
	var missing []string
	seen := map[string]bool{}
	for i, name := range columns {
		if seen[name] {
			return nil, nil, fmt.Errorf("prep: column %q given twice", name)
		}
		seen[name] = true
		cols[i] = frame.Column(name)
		if cols[i] == nil {
			missing = append(missing, strconv.Quote(name))
		}
	}
	if len(missing) > 0 {
		return nil, nil, missingError(missing)
	}
	f := &fitter{n: n, target: target, classes: classes, seed: seed}
	p := &Prep{}
	var feats []learn.Feature
	for i, col := range cols {
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("prep: %w", err)
		}
		if col.Len() != n {
			return nil, nil, fmt.Errorf("prep: column %q has %d rows, the frame %d", col.Name, col.Len(), n)
		}
		c := cfg
		if o, ok := cfg.Columns[col.Name]; ok {
			c = o
		}
		s, out, err := f.fitColumn(col, c)
		if err != nil {
			return nil, nil, fmt.Errorf("prep: column %q: %w", columns[i], err)
		}
		p.steps = append(p.steps, s)
		feats = append(feats, out...)
	}
	p.layout()
	return p, &learn.Features{Rows: n, Cols: feats}, nil
}

func missingError(quoted []string) error {
	if len(quoted) == 1 {
		return fmt.Errorf("prep: input column %s is missing", quoted[0])
	}
	return fmt.Errorf("prep: input columns %s are missing", joinComma(quoted))
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// layout places every step's features and names them.
func (p *Prep) layout() {
	off := 0
	p.names = p.names[:0]
	for _, s := range p.steps {
		s.off = off
		s.width = s.featureCount()
		off += s.width
		p.names = append(p.names, s.featureNames()...)
	}
	p.features = off
}

func (s *step) featureCount() int {
	if s.excluded != "" {
		return 0
	}
	switch s.kind {
	case data.Numeric, data.Datetime:
		w := 0
		for _, pt := range s.parts {
			w++
			if pt.indicator {
				w++
			}
		}
		return w
	case data.Categorical:
		switch s.enc {
		case Ordinal:
			return 1
		case OneHot:
			return s.oneHot + b2i(s.other) + b2i(s.missing)
		case Target:
			return s.k
		}
	case data.Text:
		return len(s.vocab)
	}
	return 0
}

func (s *step) featureNames() []string {
	var out []string
	if s.excluded != "" {
		return nil
	}
	switch s.kind {
	case data.Numeric, data.Datetime:
		for _, pt := range s.parts {
			out = append(out, s.name+partSuffix[pt.part])
			if pt.indicator {
				out = append(out, s.name+"_missing")
			}
		}
	case data.Categorical:
		switch s.enc {
		case Ordinal:
			out = append(out, s.name)
		case OneHot:
			names := make([]string, s.oneHot)
			for l, j := range s.slot {
				if j >= 0 {
					names[j] = s.name + "=" + s.levels[l]
				}
			}
			out = append(out, names...)
			if s.other {
				out = append(out, s.name+"=(other)")
			}
			if s.missing {
				out = append(out, s.name+"=(missing)")
			}
		case Target:
			if s.k == 1 {
				out = append(out, s.name+"_te")
			} else {
				for c := range s.k {
					out = append(out, s.name+"_te"+strconv.Itoa(c))
				}
			}
		}
	case data.Text:
		out = s.textFeatureNames()
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// fitter holds what all columns of one Fit share.
type fitter struct {
	n       int
	target  []float64
	classes int
	seed    uint64
	folds   []int // fold of each row, drawn on first use
	nFolds  int
}

func (f *fitter) fitColumn(col *data.Column, cfg Config) (*step, []learn.Feature, error) {
	s := &step{name: col.Name, kind: col.Kind}
	switch col.Kind {
	case data.Text:
		return f.fitText(s, cfg, col)
	case data.Numeric:
		s.parts = []numPart{{part: partValue}}
		return s, f.fitNumeric(s, cfg, col.Num), nil
	case data.Datetime:
		s.parts = []numPart{{part: partValue}}
		if cfg.DatetimeParts {
			s.parts = append(s.parts, numPart{part: partYear}, numPart{part: partMonth}, numPart{part: partDOW})
		}
		return s, f.fitNumeric(s, cfg, col.Num), nil
	case data.Categorical:
		return f.fitCategorical(s, cfg, col)
	}
	return nil, nil, fmt.Errorf("unsupported column type %v", col.Kind)
}

// isMissing treats ±Inf as missing too: no learner can use it.
func isMissing(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }

func (f *fitter) fitNumeric(s *step, cfg Config, vals []float64) []learn.Feature {
	n := f.n
	var out []learn.Feature
	for pi := range s.parts {
		pt := &s.parts[pi]
		raw := make([]float64, n)
		present := make([]float64, 0, n)
		for i, v := range vals {
			x := partOf(pt.part, v)
			raw[i] = x
			if !math.IsNaN(x) {
				present = append(present, x)
			}
		}
		nMiss := n - len(present)
		if cfg.Impute != ImputeNone {
			pt.impute = true
			pt.fill = fillValue(cfg.Impute, present)
			pt.indicator = cfg.Indicators && nMiss > 0 && pt.part == partValue
		}
		pt.std = 1
		if cfg.Standardize {
			pt.scale = true
			pt.mean, pt.std = meanStd(present, pt.fill, nMiss, pt.impute)
		}
		feat := learn.Feature{Name: s.name + partSuffix[pt.part], Num: raw}
		var ind learn.Feature
		if pt.indicator {
			ind = learn.Feature{Name: s.name + "_missing", Num: make([]float64, n)}
		}
		for i, v := range vals {
			miss := isMissing(v)
			raw[i] = pt.apply(raw[i], miss)
			if pt.indicator {
				ind.Num[i] = b2f(miss)
			}
		}
		out = append(out, feat)
		if pt.indicator {
			out = append(out, ind)
		}
	}
	return out
}

// partOf is the value of a datetime part of v (Unix seconds); NaN if missing.
func partOf(part uint8, v float64) float64 {
	if isMissing(v) {
		return math.NaN()
	}
	if part == partValue {
		return v
	}
	sec := math.Floor(v)
	if sec < -1e15 || sec > 1e15 {
		return math.NaN()
	}
	t := time.Unix(int64(sec), 0).UTC()
	switch part {
	case partYear:
		return float64(t.Year())
	case partMonth:
		return float64(t.Month())
	case partDOW:
		return float64(t.Weekday())
	}
	return math.NaN()
}

// apply imputes and scales one value x (already the part's value); miss says
// whether the input was missing.
func (pt *numPart) apply(x float64, miss bool) float64 {
	if miss || math.IsNaN(x) {
		if !pt.impute {
			return math.NaN()
		}
		x = pt.fill
	}
	if pt.scale {
		x = (x - pt.mean) / pt.std
	}
	return x
}

func fillValue(how Impute, present []float64) float64 {
	if len(present) == 0 {
		return 0
	}
	if how == ImputeMedian {
		s := slices.Clone(present)
		slices.Sort(s)
		m := len(s) / 2
		if len(s)%2 == 1 {
			return s[m]
		}
		return s[m-1]/2 + s[m]/2
	}
	sum := 0.0
	for _, v := range present {
		sum += v
	}
	return sum / float64(len(present))
}

// meanStd is the mean and population standard deviation of the values after
// imputation (nMiss copies of fill when imputed); a zero or undefined standard
// deviation counts as 1.
func meanStd(present []float64, fill float64, nMiss int, imputed bool) (mean, std float64) {
	n := float64(len(present))
	sum := 0.0
	for _, v := range present {
		sum += v
	}
	if imputed {
		n += float64(nMiss)
		sum += fill * float64(nMiss)
	}
	if n == 0 {
		return 0, 1
	}
	mean = sum / n
	ss := 0.0
	for _, v := range present {
		ss += (v - mean) * (v - mean)
	}
	if imputed {
		ss += float64(nMiss) * (fill - mean) * (fill - mean)
	}
	std = math.Sqrt(ss / n)
	if !(std > 0) || math.IsInf(std, 0) || math.IsInf(mean, 0) {
		return mean, 1
	}
	return mean, std
}

func (f *fitter) fitCategorical(s *step, cfg Config, col *data.Column) (*step, []learn.Feature, error) {
	counts := make([]int, len(col.Levels))
	nMiss := 0
	for _, c := range col.Codes {
		if c < 0 || int(c) >= len(counts) {
			nMiss++
			continue
		}
		counts[c]++
	}
	// Training levels: those with rows, in the column's order; codes maps a
	// column code to a training level.
	codes := make([]int32, len(col.Levels))
	s.index = make(map[string]int32)
	var levelCount []int
	for c, l := range col.Levels {
		codes[c] = codeUnseen
		if counts[c] == 0 {
			continue
		}
		if j, dup := s.index[l]; dup {
			codes[c] = j
			levelCount[j] += counts[c]
			continue
		}
		codes[c] = int32(len(s.levels))
		s.index[l] = codes[c]
		s.levels = append(s.levels, l)
		levelCount = append(levelCount, counts[c])
	}
	rowCode := make([]int32, f.n)
	for i, c := range col.Codes {
		if c < 0 || int(c) >= len(codes) {
			rowCode[i] = codeMissing
		} else {
			rowCode[i] = codes[c]
		}
	}
	s.enc = cfg.Categorical
	if cfg.HighCardinality > 0 && len(s.levels) > cfg.HighCardinality {
		s.enc = cfg.HighCardEncoding
	}
	switch s.enc {
	case OneHot:
		s.fitOneHot(cfg, levelCount, nMiss)
	case Target:
		if err := f.fitTarget(s, cfg, rowCode); err != nil {
			return nil, nil, err
		}
		return s, f.oofTarget(s, cfg, rowCode), nil
	}
	s.width = s.featureCount()
	out := s.newFeatures(f.n)
	for i, c := range rowCode {
		s.emitCode(c, i, out)
	}
	return s, out, nil
}

func (s *step) fitOneHot(cfg Config, levelCount []int, nMiss int) {
	limit := cfg.MaxOneHot
	if limit == 0 {
		limit = 100
	}
	order := make([]int, len(s.levels))
	for i := range order {
		order[i] = i
	}
	// Most frequent first; ties keep the column's level order.
	slices.SortStableFunc(order, func(a, b int) int { return levelCount[b] - levelCount[a] })
	s.slot = make([]int32, len(s.levels))
	for i := range s.slot {
		s.slot[i] = -1
	}
	for rank, l := range order {
		if rank < limit {
			s.slot[l] = int32(rank)
			s.oneHot++
		} else {
			s.other = true
		}
	}
	s.missing = nMiss > 0
}

// foldsFor draws the fold of every row once per Fit: a seeded shuffle dealt
// round-robin, so fold sizes differ by at most one.
func (f *fitter) foldsFor(k int) []int {
	if f.folds != nil {
		return f.folds
	}
	k = min(k, f.n)
	f.nFolds = k
	f.folds = make([]int, f.n)
	if k < 2 {
		return f.folds
	}
	rng := rand.New(rand.NewPCG(f.seed, 0x70726570)) // "prep"
	perm := rng.Perm(f.n)
	for r, i := range perm {
		f.folds[i] = r % k
	}
	return f.folds
}

func (f *fitter) checkTarget() (int, error) {
	if len(f.target) != f.n {
		return 0, fmt.Errorf("target encoding needs one target per row (%d targets for %d rows)", len(f.target), f.n)
	}
	if f.classes < 0 || f.classes == 1 {
		return 0, fmt.Errorf("%d classes: want 0 (regression) or at least 2", f.classes)
	}
	for i, y := range f.target {
		if isMissing(y) {
			return 0, fmt.Errorf("target of row %d is missing", i+1)
		}
		if f.classes > 0 && (y < 0 || y >= float64(f.classes) || y != math.Trunc(y)) {
			return 0, fmt.Errorf("target of row %d is %v, not a class index below %d", i+1, y, f.classes)
		}
	}
	if f.classes > 2 {
		return f.classes, nil
	}
	return 1, nil
}

// targetStat adds row i's target to the k sums at sums.
func (f *fitter) targetStat(i int, sums []float64) {
	y := f.target[i]
	switch {
	case f.classes > 2:
		sums[int(y)]++
	default: // regression value, or binary 0/1: the positive rate
		sums[0] += y
	}
}

func smoothing(cfg Config) float64 {
	if cfg.Smoothing == 0 {
		return 10
	}
	return cfg.Smoothing
}

func (f *fitter) fitTarget(s *step, cfg Config, rowCode []int32) error {
	k, err := f.checkTarget()
	if err != nil {
		return err
	}
	s.k = k
	L := len(s.levels)
	sums := make([]float64, L*k)
	counts := make([]float64, L)
	total := make([]float64, k)
	for i, c := range rowCode {
		f.targetStat(i, total)
		if c >= 0 {
			f.targetStat(i, sums[int(c)*k:])
			counts[c]++
		}
	}
	s.prior = make([]float64, k)
	for j := range total {
		s.prior[j] = total[j] / float64(max(f.n, 1))
	}
	s.te = encodeLevels(sums, counts, s.prior, k, smoothing(cfg))
	return nil
}

func encodeLevels(sums, counts, prior []float64, k int, m float64) []float64 {
	te := make([]float64, len(sums))
	for l, n := range counts {
		for j := range k {
			te[l*k+j] = (sums[l*k+j] + m*prior[j]) / (n + m)
		}
	}
	return te
}

// oofTarget encodes each training row with statistics from the other folds.
func (f *fitter) oofTarget(s *step, cfg Config, rowCode []int32) []learn.Feature {
	folds := cfg.Folds
	if folds == 0 {
		folds = 5
	}
	fold := f.foldsFor(folds)
	K := f.nFolds
	k, L := s.k, len(s.levels)
	out := s.newFeatures(f.n)
	if K < 2 {
		for i, c := range rowCode {
			s.emitCode(c, i, out)
		}
		return out
	}
	sums := make([]float64, K*L*k)
	counts := make([]float64, K*L)
	fsum := make([]float64, K*k)
	fn := make([]float64, K)
	for i, c := range rowCode {
		g := fold[i]
		f.targetStat(i, fsum[g*k:])
		fn[g]++
		if c >= 0 {
			f.targetStat(i, sums[(g*L+int(c))*k:])
			counts[g*L+int(c)]++
		}
	}
	// Full-data totals, from which each fold's share is subtracted.
	tsum := make([]float64, L*k)
	tcount := make([]float64, L)
	ttot := make([]float64, k)
	tn := 0.0
	for g := range K {
		for j := range L * k {
			tsum[j] += sums[g*L*k+j]
		}
		for l := range L {
			tcount[l] += counts[g*L+l]
		}
		for j := range k {
			ttot[j] += fsum[g*k+j]
		}
		tn += fn[g]
	}
	m := smoothing(cfg)
	enc := make([][]float64, K)
	priors := make([][]float64, K)
	for g := range K {
		prior := make([]float64, k)
		rest := tn - fn[g]
		for j := range k {
			if rest > 0 {
				prior[j] = (ttot[j] - fsum[g*k+j]) / rest
			} else {
				prior[j] = s.prior[j]
			}
		}
		osum := make([]float64, L*k)
		ocount := make([]float64, L)
		for j := range L * k {
			osum[j] = tsum[j] - sums[g*L*k+j]
		}
		for l := range L {
			ocount[l] = tcount[l] - counts[g*L+l]
		}
		enc[g] = encodeLevels(osum, ocount, prior, k, m)
		priors[g] = prior
	}
	for i, c := range rowCode {
		g := fold[i]
		for j := range k {
			v := priors[g][j]
			if c >= 0 {
				v = enc[g][int(c)*k+j]
			}
			out[j].Num[i] = v
		}
	}
	return out
}

// newFeatures allocates the step's features for n rows.
func (s *step) newFeatures(n int) []learn.Feature {
	names := s.featureNames()
	out := make([]learn.Feature, len(names))
	for j, name := range names {
		out[j].Name = name
		if s.kind == data.Categorical && s.enc == Ordinal {
			out[j].Codes = make([]int32, n)
			out[j].Levels = len(s.levels)
		} else {
			out[j].Num = make([]float64, n)
		}
	}
	return out
}

// emitNum writes row i of a numeric or datetime step from the input value v.
func (s *step) emitNum(v float64, i int, out []learn.Feature) {
	j := 0
	miss := isMissing(v)
	for pi := range s.parts {
		pt := &s.parts[pi]
		out[j].Num[i] = pt.apply(partOf(pt.part, v), miss)
		j++
		if pt.indicator {
			out[j].Num[i] = b2f(miss)
			j++
		}
	}
}

// emitCode writes row i of a categorical step from a training level code
// (or codeMissing / codeUnseen).
func (s *step) emitCode(c int32, i int, out []learn.Feature) {
	switch s.enc {
	case Ordinal:
		out[0].Codes[i] = max(c, codeMissing)
	case OneHot:
		for j := range out {
			out[j].Num[i] = 0
		}
		switch {
		case c >= 0 && s.slot[c] >= 0:
			out[s.slot[c]].Num[i] = 1
		case c == codeMissing:
			if s.missing {
				out[s.oneHot+b2i(s.other)].Num[i] = 1
			}
		default: // unseen, or a level beyond the cap
			if s.other {
				out[s.oneHot].Num[i] = 1
			}
		}
	case Target:
		for j := range s.k {
			v := s.prior[j]
			if c >= 0 {
				v = s.te[int(c)*s.k+j]
			}
			out[j].Num[i] = v
		}
	}
}
