package onnx

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/learn/forest"
	"modelsmith/ml/learn/gbdt"
	"modelsmith/ml/learn/learntest"
	"modelsmith/ml/learn/linear"
	"modelsmith/ml/model"
	"modelsmith/ml/prep"
)

// synthRows are cells of a synthetic table with every input kind: a number,
// a datetime (Unix seconds, 1901 to 2099), a category and a text.
type synthRows struct {
	num, when []float64
	cat, txt  []string
	city      []string // 80 levels: big categorical sets in tree splits
	y         []string
}

var words = []string{"Free", "entry", "WIN", "now", "call", "über", "Über", "café", "Txt", "ok", "home", "lol"}

func synth(n int, seed uint64, test bool) synthRows {
	r := rand.New(rand.NewPCG(seed, 7))
	var s synthRows
	cats := []string{"a", "b", "c", "D", "e e"}
	for i := range n {
		x := r.NormFloat64() * 10
		t := (r.Float64()*198 - 69) * 365.25 * 86400 // 1901..2099
		c := cats[r.IntN(len(cats))]
		cityN := r.IntN(80)
		city := fmt.Sprintf("city%02d", cityN)
		var sb strings.Builder
		for k := range 1 + r.IntN(6) {
			if k > 0 {
				sb.WriteString([]string{" ", "  ", "\t", "\n", " \r\n", "\v", "\f"}[r.IntN(7)])
			}
			sb.WriteString(words[r.IntN(len(words))])
		}
		txt := sb.String()
		switch i % 11 {
		case 1:
			x = math.NaN()
		case 2:
			t = math.NaN()
		case 3:
			c = ""
		case 4:
			txt = ""
		}
		if test {
			switch i % 13 {
			case 5:
				x = math.Inf(1 - 2*(i%2))
			case 6:
				c = []string{"NA", "na", "N/A", "null", "?", "NaN", "zzz unseen", "nA", "NuLL", " n/a\t", "\u00a0?\u3000", "na na", "\u0130"}[(i/13)%13]
			case 7:
				txt = []string{"NA", "  leading and trailing  ", "\t\t", "UPPER CASE WIN", "?", "nUll", " NA\n", "\u2028nan "}[i%8]
			case 8:
				t = []float64{0, -1, 86399, 86400, 951782400, 951868800, -2203891200}[i%7] // epoch, leap days, 1900
			}
		}
		score := x/10 + float64(len(c))/2 - 0.5 + float64(cityN%3)/2 - 0.5
		if strings.Contains(strings.ToLower(txt), "win") {
			score++
		}
		if !math.IsNaN(t) && t > 0 {
			score += 0.5
		}
		y := "no"
		if score+r.NormFloat64()*0.5 > 0.5 {
			y = "yes"
		}
		s.num, s.when, s.cat, s.txt, s.y = append(s.num, x), append(s.when, t), append(s.cat, c), append(s.txt, txt), append(s.y, y)
		s.city = append(s.city, city)
	}
	return s
}

// frame builds a data.Frame as a reader would: "" is a missing category or
// text (other NA spellings stay as cells, for the row predictor to read).
func (s synthRows) frame() *data.Frame {
	return &data.Frame{Columns: []*data.Column{
		{Name: "num", Kind: data.Numeric, Num: s.num},
		{Name: "when", Kind: data.Datetime, Num: s.when},
		learntest.CodedColumn("cat", data.Categorical, s.cat...),
		learntest.CodedColumn("txt", data.Text, s.txt...),
		learntest.CodedColumn("city", data.Categorical, s.city...),
		learntest.CodedColumn("y", data.Categorical, s.y...),
	}}
}

// compareRows checks the export against the app's row predictor (the
// serving path: cells as text, NA spellings missing) on every row of s.
func compareRows(t *testing.T, p *model.Pipeline, s synthRows) delta {
	t.Helper()
	b, err := Export(p)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	checkDecodes(t, b)
	n := len(s.num)
	num := jsonNumber
	in := map[string]ortInput{"num": {Type: "double"}, "when": {Type: "double"}, "cat": {Type: "string"}, "txt": {Type: "string"}, "city": {Type: "string"}}
	for i := range n {
		in["num"] = ortInput{"double", append(in["num"].Data, num(s.num[i]))}
		in["when"] = ortInput{"double", append(in["when"].Data, num(s.when[i]))}
		in["cat"] = ortInput{"string", append(in["cat"].Data, s.cat[i])}
		in["txt"] = ortInput{"string", append(in["txt"].Data, s.txt[i])}
		in["city"] = ortInput{"string", append(in["city"].Data, s.city[i])}
	}
	got := runORT(t, b, in)
	rp := p.NewRowPredictor()
	k := p.Outputs()
	want := make([]float64, n*k)
	cell := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for i := range n {
		row := make([]string, len(p.Inputs))
		for j, inp := range p.Inputs {
			switch inp.Name {
			case "num":
				row[j] = cell(s.num[i])
			case "when":
				row[j] = cell(s.when[i])
			case "cat":
				row[j] = s.cat[i]
			case "txt":
				row[j] = s.txt[i]
			case "city":
				row[j] = s.city[i]
			}
		}
		if err := rp.Predict(row, want[i*k:(i+1)*k]); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	prob := floats(t, got[OutProbabilities])
	d := delta{Rows: n}
	for i := range n {
		best := 0
		for c := range k {
			e := math.Abs(prob[i*k+c] - want[i*k+c])
			if !(e <= 1e-5) {
				t.Errorf("row %d (num %v when %v cat %q txt %q) class %d: onnx %v, app %v", i, s.num[i], s.when[i], s.cat[i], s.txt[i], c, prob[i*k+c], want[i*k+c])
			}
			d.MaxProb = math.Max(d.MaxProb, e)
			if want[i*k+c] > want[i*k+best] {
				best = c
			}
		}
		if l := fmt.Sprint(got[OutLabel].Data[i]); l != p.Classes[best] {
			t.Errorf("row %d: onnx label %q, app %q", i, l, p.Classes[best])
		} else {
			d.Labels++
		}
	}
	return d
}

func synthPipeline(t *testing.T, spec learn.Spec, set map[string]string, cfg prep.Config) *model.Pipeline {
	t.Helper()
	train := synth(600, 1, false).frame()
	s := &split{train: train, target: "y", features: []string{"num", "when", "cat", "txt", "city"}}
	cfg.TextMinDF = 1
	return trainPipeline(t, s, model.Binary, spec, set, cfg)
}

// TestExportEdgeCases: datetime parts (leap days, before 1970, the epoch),
// ±Inf as missing, NA spellings and unseen categories, text with tabs, new
// lines, upper case and letters beyond ASCII, through the serving path.
func TestExportEdgeCases(t *testing.T) {
	needORT(t)
	target := prep.LinearPrep()
	target.HighCardinality, target.HighCardEncoding = 2, prep.Target
	ordinalLinear := prep.LinearPrep()
	ordinalLinear.Impute, ordinalLinear.Standardize = prep.ImputeMean, false
	cases := []struct {
		name string
		spec learn.Spec
		set  map[string]string
		cfg  prep.Config
	}{
		{"gbdt tree prep", gbdt.Spec, map[string]string{"n_estimators": "40", "num_leaves": "8", "min_child_samples": "5"}, prep.TreePrep()},
		{"forest tree prep", forest.Spec, map[string]string{"n_estimators": "15", "min_samples_leaf": "3"}, prep.TreePrep()},
		{"linear one-hot", linear.Spec, nil, prep.LinearPrep()},
		{"linear target encoding", linear.Spec, nil, target},
		{"linear mean imputation unscaled", linear.Spec, nil, ordinalLinear},
	}
	test := synth(500, 2, true)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := synthPipeline(t, c.spec, c.set, c.cfg)
			if m, ok := p.Predictor.(*gbdt.Model); ok && bigSets(m) == 0 {
				t.Error("no categorical split with a big set: the test does not cover them")
			}
			d := compareRows(t, p, test)
			t.Logf("%s: labels %d/%d, max |Δp| %.3g", c.name, d.Labels, d.Rows, d.MaxProb)
		})
	}
}

// TestExportRefuses: what cannot be exported exactly is an error naming
// the part.
func TestExportRefuses(t *testing.T) {
	bigrams := prep.LinearPrep()
	bigrams.TextBigrams = true
	p := synthPipeline(t, linear.Spec, nil, bigrams)
	if _, err := Export(p); err == nil || !strings.Contains(err.Error(), `column "txt"`) || !strings.Contains(err.Error(), "bigrams") {
		t.Errorf("bigrams: got %v, want an error naming the column and bigrams", err)
	}
	p.Predictor = fakePredictor{}
	p.Prep, _, _ = prep.Fit(context.Background(), synth(50, 1, false).frame(), []string{"num"}, nil, 0, prep.TreePrep(), 1)
	p.Inputs = model.InputsOf(p.Prep)
	if _, err := Export(p); err == nil || !strings.Contains(err.Error(), `"fake"`) {
		t.Errorf("unknown family: got %v, want an error naming it", err)
	}
	ens := &model.Pipeline{Inputs: p.Inputs, Task: model.Binary, Classes: []string{"no", "yes"},
		Members: []model.Member{{Weight: 1, Pipeline: p}}}
	if _, err := Export(ens); err == nil || err.Error() != `onnx: export: ensemble member 1: predictor family "fake": no ONNX exporter for it` {
		t.Errorf("ensemble member: got %v", err)
	}
	if _, err := Export(nil); err == nil {
		t.Error("nil pipeline exported")
	}
	bad := &model.Pipeline{Inputs: []model.Input{{Name: "a", Type: "image"}}}
	if _, err := Export(bad); err == nil || !strings.Contains(err.Error(), `"a"`) {
		t.Errorf("image input: got %v", err)
	}
}

type fakePredictor struct{}

func (fakePredictor) Outputs() int                       { return 2 }
func (fakePredictor) Predict(*learn.Features, []float64) {}
func (fakePredictor) Family() string                     { return "fake" }
func (fakePredictor) MarshalBinary() ([]byte, error)     { return nil, nil }

// bigSets counts the categorical splits of a gbdt model whose set has 31 or
// more codes or a code above 30, which onnxruntime evaluates as a "big set"
// rather than a chain of equality tests.
func bigSets(m *gbdt.Model) int {
	n := 0
	for _, tr := range m.Trees {
		for _, nd := range tr.Nodes {
			if len(nd.Categories) >= 31 || len(nd.Categories) > 0 && slices.Max(nd.Categories) > 30 {
				n++
			}
		}
	}
	return n
}

// TestExportNumericClasses: whole-number classes give an int64 label.
func TestExportNumericClasses(t *testing.T) {
	needORT(t)
	train, test := synth(400, 1, false), synth(200, 2, false) // a frame as a reader makes: no NA spellings as levels
	toNum := func(f *data.Frame, s synthRows) *data.Frame {
		y := make([]float64, len(s.y))
		for i, v := range s.y {
			if v == "yes" {
				y[i] = 1
			}
		}
		for i, c := range f.Columns {
			if c.Name == "y" {
				f.Columns[i] = &data.Column{Name: "y", Kind: data.Numeric, Num: y}
			}
		}
		return f
	}
	s := &split{train: toNum(train.frame(), train), test: toNum(test.frame(), test), target: "y", features: []string{"num", "when", "cat", "city"}}
	p := trainPipeline(t, s, model.Binary, linear.Spec, nil, prep.LinearPrep())
	b, err := Export(p)
	if err != nil {
		t.Fatal(err)
	}
	got := runORT(t, b, frameInputs(t, p, s.test))
	if typ := got[OutLabel].Type; typ != "int64" {
		t.Errorf("label type %s, want int64 for classes %v", typ, p.Classes)
	}
	d := compare(t, p, s.test)
	t.Logf("numeric classes %v: labels %d/%d, max |Δp| %.3g", p.Classes, d.Labels, d.Rows, d.MaxProb)
}

// TestExportEmptyBatch: a batch of no rows gives outputs of no rows.
func TestExportEmptyBatch(t *testing.T) {
	needORT(t)
	for _, p := range []*model.Pipeline{
		synthPipeline(t, gbdt.Spec, map[string]string{"n_estimators": "5"}, prep.TreePrep()),
		synthPipeline(t, linear.Spec, nil, prep.LinearPrep()),
	} {
		b, err := Export(p)
		if err != nil {
			t.Fatal(err)
		}
		empty := map[string]ortInput{}
		for _, in := range p.Inputs {
			typ := "string"
			if in.Type == data.Numeric.String() || in.Type == data.Datetime.String() {
				typ = "double"
			}
			empty[in.Name] = ortInput{Type: typ, Data: []any{}}
		}
		got := runORT(t, b, empty)
		if d := got[OutProbabilities].Dims; len(d) != 2 || d[0] != 0 || d[1] != 2 {
			t.Errorf("%s: probabilities dims %v, want [0 2]", p.Meta["algorithm"], d)
		}
		if d := got[OutLabel].Dims; len(d) != 1 || d[0] != 0 {
			t.Errorf("%s: label dims %v, want [0]", p.Meta["algorithm"], d)
		}
	}
}
