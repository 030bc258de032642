package automl

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"modelsmith/ml/data"
	"modelsmith/ml/metrics"
	"modelsmith/ml/model"
)

// Validation by data size: k-fold CV while the table is small enough for
// several fits per trial, a holdout beyond.
const (
	cvMaxCells    = 1_500_000 // rows × feature columns
	cvMaxRows     = 100_000
	manyFoldsRows = 10_000 // 5 folds below, 3 above
	holdoutFrac   = 0.2
	textWidth     = 200 // features a text column counts for in cvMaxCells
)

// problem is the checked input of a search: the feature columns, the target
// as learn.Dataset wants it, the task and metric, and the validation plan.
type problem struct {
	frame    *data.Frame // feature columns only, rows with a target
	target   string
	features []string
	y        []float64
	classes  int // 0 regression, else number of classes
	labels   []string
	task     string
	metric   metrics.Metric
	inputs   []model.Input

	folds      int // 0: holdout
	foldOf     []int
	validRows  int // rows scored per trial (all rows with CV, the holdout rows otherwise)
	trainRows  int // rows a fold trains on
	validation string
	notes      []string

	// prepWidth is the number of features the linear preparation gives (one-hot
	// levels and TF-IDF terms counted); 0 until the search has prepared it.
	prepWidth int
}

// linearWidth is the number of features of the linear preparation, or the
// number of feature columns before it is known.
func (p *problem) linearWidth() int {
	if p.prepWidth > 0 {
		return p.prepWidth
	}
	return p.width()
}

var errBadInput = errors.New("automl: bad input")

func badInput(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadInput, fmt.Sprintf(format, a...))
}

// newProblem checks the input and builds the problem; all of Validate's
// checks are here.
func newProblem(f *data.Frame, target string, cfg Config) (*problem, error) {
	if cfg.Budget < 0 {
		return nil, badInput("time budget %v is negative", cfg.Budget)
	}
	if cfg.Budget == 0 && cfg.Trials <= 0 {
		return nil, badInput("no budget: give a time budget above 0 or a trial count")
	}
	if cfg.Trials < 0 {
		return nil, badInput("trial count %d is negative", cfg.Trials)
	}
	if cfg.Folds < 0 || cfg.Folds == 1 {
		return nil, badInput("folds %d: want 0 (by data size) or at least 2", cfg.Folds)
	}
	for _, name := range cfg.Families {
		if families[name] == nil {
			return nil, badInput("unknown algorithm family %q; valid: %s", name, strings.Join(Families, ", "))
		}
	}
	if f == nil || len(f.Columns) == 0 {
		return nil, badInput("the data have no columns")
	}
	col := f.Column(target)
	if col == nil {
		names := make([]string, len(f.Columns))
		for i, c := range f.Columns {
			names[i] = strconv.Quote(c.Name)
		}
		return nil, badInput("no target column %q; the columns are %s", target, strings.Join(names, ", "))
	}
	// Rows without a target cannot be learnt from.
	var keep []int
	for i := range col.Len() {
		if !col.IsMissing(i) && !(col.Kind == data.Numeric && math.IsInf(col.Num[i], 0)) {
			keep = append(keep, i)
		}
	}
	p := &problem{target: target}
	if len(keep) < f.Rows() {
		p.notes = append(p.notes, fmt.Sprintf("%d rows without a target value were left out", f.Rows()-len(keep)))
		f = f.Take(keep)
		col = f.Column(target)
	}
	if f.Rows() == 0 {
		return nil, badInput("target %q has no values", target)
	}
	if constant(col) {
		return nil, badInput("target %q is constant (%q in every row): there is nothing to learn", target, col.Format(0))
	}
	p.task = cfg.Task
	if p.task == "" {
		p.task = model.InferTask(col)
	}
	y, labels, err := model.Labels(col, p.task)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBadInput, err)
	}
	p.y, p.labels = y, labels
	if p.task != model.Regression {
		p.classes = len(labels)
	}
	name := cfg.Metric
	if name == "" {
		name = metrics.Default(p.task)
	}
	if p.metric, err = metrics.Lookup(name, p.task); err != nil {
		return nil, fmt.Errorf("%w: %w", errBadInput, err)
	}
	p.frame = &data.Frame{}
	allConstant := true
	for _, c := range f.Columns {
		if c.Name == target {
			continue
		}
		p.frame.Columns = append(p.frame.Columns, c)
		p.features = append(p.features, c.Name)
		in := model.Input{Name: c.Name, Type: c.Kind.String()}
		if c.Kind == data.Categorical {
			in.Levels = c.Levels
		}
		p.inputs = append(p.inputs, in)
		if !constant(c) {
			allConstant = false
		}
	}
	if len(p.features) == 0 {
		return nil, badInput("the data have no columns besides the target %q", target)
	}
	if allConstant {
		return nil, badInput("every feature column is constant: there is nothing to learn from")
	}
	p.plan(cfg)
	n := len(p.y)
	if p.folds > 0 && n < p.folds {
		return nil, badInput("%d rows are fewer than the %d folds of cross-validation", n, p.folds)
	}
	if p.folds == 0 && n < 10 {
		return nil, badInput("%d rows are too few to validate a model on", n)
	}
	return p, nil
}

// constant reports whether a column holds one value in every row (missing
// counting as a value of its own).
func constant(c *data.Column) bool {
	n := c.Len()
	if n <= 1 {
		return true
	}
	for i := 1; i < n; i++ {
		if c.IsMissing(i) != c.IsMissing(0) {
			return false
		}
		if c.IsMissing(i) {
			continue
		}
		switch c.Kind {
		case data.Categorical, data.Text:
			if c.Codes[i] != c.Codes[0] && c.Levels[c.Codes[i]] != c.Levels[c.Codes[0]] {
				return false
			}
		default:
			if c.Num[i] != c.Num[0] {
				return false
			}
		}
	}
	return true
}

// plan chooses the validation: k-fold CV (stratified for classification)
// while data are small, a holdout beyond; it draws the fold of every row.
func (p *problem) plan(cfg Config) {
	n := len(p.y)
	p.folds = cfg.Folds
	if p.folds == 0 {
		cells := n * p.width()
		switch {
		case n > cvMaxRows || cells > cvMaxCells:
			p.folds = 0
		case n > manyFoldsRows:
			p.folds = 3
		default:
			p.folds = 5
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xa070))
	p.foldOf = make([]int, n)
	stratify := p.classes > 0
	if stratify {
		counts := make([]int, p.classes)
		for _, v := range p.y {
			counts[int(v)]++
		}
		for c, k := range counts {
			if k == 1 {
				stratify = false
				p.notes = append(p.notes, fmt.Sprintf("class %q has one example: stratification fell back to plain splits", p.labels[c]))
				break
			}
		}
	}
	if p.folds == 0 {
		classes := 0
		if stratify {
			classes = p.classes
		}
		_, held := data.Holdout(n, p.y, classes, holdoutFrac, cfg.Seed)
		for _, i := range held {
			p.foldOf[i] = 1 // fold 1 is validated, fold 0 trains
		}
		p.validRows = len(held)
		p.trainRows = n - len(held)
		p.validation = fmt.Sprintf("holdout %d%% (%d rows)", int(holdoutFrac*100), len(held))
		if stratify {
			p.validation = fmt.Sprintf("stratified holdout %d%% (%d rows)", int(holdoutFrac*100), len(held))
		}
		return
	}
	groups := [][]int{}
	if stratify {
		groups = make([][]int, p.classes)
		for i, v := range p.y {
			groups[int(v)] = append(groups[int(v)], i)
		}
	} else {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		groups = [][]int{all}
	}
	// Deal each shuffled class round-robin, continuing where the previous
	// class stopped, so fold sizes differ by at most one.
	next := 0
	for _, g := range groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		for _, i := range g {
			p.foldOf[i] = next % p.folds
			next++
		}
	}
	p.validRows = n
	p.trainRows = n - n/p.folds
	p.validation = fmt.Sprintf("%d-fold CV", p.folds)
	if stratify {
		p.validation = fmt.Sprintf("%d-fold stratified CV", p.folds)
	}
}

// splits is the number of fits per trial.
func (p *problem) splits() int { return max(p.folds, 1) }

// rowsOf returns the training and validation rows of split s, in increasing
// order.
func (p *problem) rowsOf(s int) (train, valid []int) {
	for i, f := range p.foldOf {
		if p.folds == 0 {
			if f == 1 {
				valid = append(valid, i)
			} else {
				train = append(train, i)
			}
			continue
		}
		if f == s {
			valid = append(valid, i)
		} else {
			train = append(train, i)
		}
	}
	return train, valid
}

// validOrder is the row of every OOF entry: with CV the rows in order,
// with a holdout the held-out rows in order.
func (p *problem) validOrder() []int {
	if p.folds > 0 {
		out := make([]int, len(p.y))
		for i := range out {
			out[i] = i
		}
		return out
	}
	_, v := p.rowsOf(0)
	return v
}

// width estimates the features the columns become: a text column becomes
// thousands of TF-IDF features.
func (p *problem) width() int {
	w := 0
	for _, c := range p.frame.Columns {
		if c.Kind == data.Text {
			w += textWidth
		} else {
			w++
		}
	}
	return w
}

// textOnly reports whether every feature column is text: its features are
// then all non-negative TF-IDF values (multinomial naive Bayes applies).
func (p *problem) textOnly() bool {
	for _, c := range p.frame.Columns {
		if c.Kind != data.Text {
			return false
		}
	}
	return true
}

func (p *problem) outputs() int { return max(p.classes, 1) }

func takeFloats(v []float64, rows []int) []float64 {
	out := make([]float64, len(rows))
	for i, r := range rows {
		out[i] = v[r]
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	slices.Sort(k)
	return k
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }
