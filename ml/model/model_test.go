package model

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/learn/learntest"
	"modelsmith/ml/prep"
)

// linearScorer is a fake predictor: a weighted sum of the features
// (categorical codes count as numbers, NaN as 0), through a sigmoid for
// binary classification.
type linearScorer struct {
	outputs int
	w       []float64
}

func (m *linearScorer) Outputs() int   { return m.outputs }
func (m *linearScorer) Family() string { return "fakelinear" }

func (m *linearScorer) Predict(x *learn.Features, out []float64) {
	for i := range x.Rows {
		s := 0.0
		for j := range x.Cols {
			c := &x.Cols[j]
			v := 0.0
			if c.Codes != nil {
				v = float64(c.Codes[i])
			} else if !math.IsNaN(c.Num[i]) {
				v = c.Num[i]
			}
			s += m.w[j%len(m.w)] * v
		}
		if m.outputs == 1 {
			out[i] = s
			continue
		}
		p := 1 / (1 + math.Exp(-s))
		out[2*i], out[2*i+1] = 1-p, p
	}
}

func (m *linearScorer) MarshalBinary() ([]byte, error) {
	b := []byte{byte(m.outputs)}
	for _, w := range m.w {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(w))
	}
	return b, nil
}

func decodeScorer(b []byte) (learn.Predictor, error) {
	if len(b) < 9 || (len(b)-1)%8 != 0 || (b[0] != 1 && b[0] != 2) {
		return nil, errors.New("fakelinear: bad bytes")
	}
	m := &linearScorer{outputs: int(b[0])}
	for i := 1; i < len(b); i += 8 {
		m.w = append(m.w, math.Float64frombits(binary.LittleEndian.Uint64(b[i:])))
	}
	return m, nil
}

func families(name string) (learn.Spec, bool) {
	if name == "fakelinear" {
		return learn.Spec{Name: name, Decode: decodeScorer}, true
	}
	return learn.Spec{}, false
}

func numCol(name string, vals ...float64) *data.Column {
	return &data.Column{Name: name, Kind: data.Numeric, Num: vals}
}

func catCol(name string, cells ...string) *data.Column {
	return learntest.CodedColumn(name, data.Categorical, cells...)
}

// trainFrame has n rows of every input type, with some missing values.
func trainFrame(n int) (*data.Frame, []float64) {
	age := make([]float64, n)
	ts := make([]float64, n)
	colors := make([]string, n)
	cities := make([]string, n)
	notes := make([]string, n)
	y := make([]float64, n)
	palette := []string{"red", "green", "blue", ""}
	for i := range n {
		age[i] = float64(18 + (i*7)%50)
		if i%11 == 3 {
			age[i] = math.NaN()
		}
		ts[i] = 1.6e9 + float64(i)*86400
		colors[i] = palette[i%4]
		cities[i] = "c" + strconv.Itoa(i%45)
		notes[i] = "note " + strconv.Itoa(i%3)
		y[i] = float64((i % 3) % 2)
	}
	f := &data.Frame{Columns: []*data.Column{
		numCol("age", age...),
		catCol("color", colors...),
		{Name: "when", Kind: data.Datetime, Num: ts},
		catCol("city", cities...),
		catCol("note", notes...),
	}}
	f.Columns[4].Kind = data.Text
	return f, y
}

func newPipeline(t testing.TB, cfg prep.Config, n int) (*Pipeline, *data.Frame) {
	t.Helper()
	f, y := trainFrame(n)
	cols := []string{"age", "color", "when", "city", "note"}
	pr, x, err := prep.Fit(context.Background(), f, cols, y, 2, cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float64, len(x.Cols))
	for j := range w {
		w[j] = 0.1 * float64(j%5-2)
	}
	w[2%len(w)] = 1e-9 // keep the datetime seconds from saturating the sigmoid
	return &Pipeline{
		Inputs:    InputsOf(pr),
		Target:    "y",
		Task:      Binary,
		Classes:   []string{"0", "1"},
		Prep:      pr,
		Predictor: &linearScorer{outputs: 2, w: w},
		Meta:      map[string]string{"algorithm": "fakelinear", "seed": "7"},
	}, f
}

// cells is row i of f as text, one cell per input of p.
func cells(p *Pipeline, f *data.Frame, i int) []string {
	out := make([]string, len(p.Inputs))
	for j, in := range p.Inputs {
		out[j] = f.Column(in.Name).Format(i)
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*(1+math.Abs(b)) }

func TestPredictMatchesRowPredict(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  prep.Config
	}{{"tree prep", prep.TreePrep()}, {"linear prep", prep.LinearPrep()}} {
		t.Run(tc.name, func(t *testing.T) {
			p, f := newPipeline(t, tc.cfg, 300)
			out, err := p.Predict(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 300*p.Outputs() {
				t.Fatalf("%d outputs", len(out))
			}
			rp := p.NewRowPredictor()
			got := make([]float64, p.Outputs())
			for i := range 300 {
				if err := rp.Predict(cells(p, f, i), got); err != nil {
					t.Fatal(err)
				}
				for k := range got {
					if !near(got[k], out[i*2+k]) {
						t.Fatalf("row %d output %d: row predictor %v, batch %v", i, k, got[k], out[i*2+k])
					}
				}
			}
		})
	}
}

func TestPredictParallelBlocks(t *testing.T) {
	n := 3*blockRows + 17
	p, f := newPipeline(t, prep.LinearPrep(), n)
	out, err := p.Predict(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	x, err := p.Prep.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, n*2)
	p.Predictor.Predict(x, want)
	for i := range want {
		if !near(out[i], want[i]) {
			t.Fatalf("value %d: %v, want %v", i, out[i], want[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Predict(ctx, f); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}

func TestPredictColumns(t *testing.T) {
	p, f := newPipeline(t, prep.LinearPrep(), 40)
	want, _ := p.Predict(context.Background(), f)
	reordered := &data.Frame{Columns: []*data.Column{
		numCol("extra", make([]float64, 40)...), f.Column("city"), f.Column("when"), f.Column("note"), f.Column("age"), f.Column("color"),
	}}
	ageText := make([]string, 40)
	for i := range ageText {
		ageText[i] = f.Column("age").Format(i)
	}
	ageText[5] = "forty"
	tests := []struct {
		name    string
		f       *data.Frame
		wantErr []string
	}{
		{"extra and reordered columns match by name", reordered, nil},
		{"missing columns are named", &data.Frame{Columns: []*data.Column{f.Column("age"), f.Column("when")}},
			[]string{"model: ", `"color"`, `"city"`, "missing"}},
		{"text in a numeric column names column, row and value",
			&data.Frame{Columns: []*data.Column{catCol("age", ageText...), f.Column("color"), f.Column("when"), f.Column("city"), f.Column("note")}},
			[]string{`"age"`, "row 6", `"forty"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.Predict(context.Background(), tt.f)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				for i := range out {
					if !near(out[i], want[i]) {
						t.Fatalf("value %d: %v, want %v", i, out[i], want[i])
					}
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %s", err, w)
				}
			}
		})
	}
	t.Run("row predictor errors", func(t *testing.T) {
		rp := p.NewRowPredictor()
		out := make([]float64, 2)
		if err := rp.Predict([]string{"1"}, out); err == nil {
			t.Fatal("too few values: no error")
		}
		vals := cells(p, f, 0)
		vals[0] = "old"
		if err := rp.Predict(vals, out); err == nil || !strings.Contains(err.Error(), `"age"`) || !strings.Contains(err.Error(), `"old"`) {
			t.Fatalf("bad number: err = %v", err)
		}
		vals = cells(p, f, 0)
		vals[1] = "never-seen" // an unseen level is fine
		if err := rp.Predict(vals, out); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCodecRoundTrip(t *testing.T) {
	for i, cfg := range []prep.Config{prep.TreePrep(), prep.LinearPrep(), prep.TreePrep()} {
		p, f := newPipeline(t, cfg, 200)
		if i == 2 {
			p.Task, p.Classes = Regression, nil
			p.Predictor = &linearScorer{outputs: 1, w: []float64{0.5, -1, 0, 2}}
		}
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Decode(b, families)
		if err != nil {
			t.Fatal(err)
		}
		if q.Target != p.Target || q.Task != p.Task || !slices.Equal(q.Classes, p.Classes) ||
			q.Meta["seed"] != "7" || len(q.Inputs) != len(p.Inputs) || !slices.Equal(q.Inputs[3].Levels, p.Inputs[3].Levels) {
			t.Fatalf("decoded %+v", q)
		}
		checkDecoded(t, p, q, b, f)
	}
}

// checkDecoded checks that q, decoded from b, the encoding of p, predicts f
// as p does and encodes to b again.
func checkDecoded(t *testing.T, p, q *Pipeline, b []byte, f *data.Frame) {
	t.Helper()
	want, _ := p.Predict(context.Background(), f)
	got, err := q.Predict(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatal("the decoded pipeline predicts differently")
	}
	b2, _ := q.MarshalBinary()
	if !slices.Equal(b, b2) {
		t.Fatal("re-encoding differs")
	}
}

// reseal rewrites the checksum after a deliberate change.
func reseal(b []byte) []byte {
	end := len(b) - 4
	binary.LittleEndian.PutUint32(b[end:], crc32.Checksum(b[:end], castagnoli))
	return b
}

func TestDecodeErrors(t *testing.T) {
	p, _ := newPipeline(t, prep.LinearPrep(), 50)
	good, _ := p.MarshalBinary()
	mutate := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	tests := []struct {
		name string
		b    []byte
		fams func(string) (learn.Spec, bool)
		is   error
		want string
	}{
		{"flipped byte", mutate(func(b []byte) []byte { b[len(b)/2] ^= 1; return b }), families, ErrCorrupt, "model artifact is corrupt: checksum mismatch"},
		{"truncated", good[:len(good)-10], families, ErrCorrupt, "truncated"},
		{"not a model", []byte("PK\x03\x04 a zip file"), families, ErrCorrupt, "not a Modelsmith model"},
		{"empty", nil, families, ErrCorrupt, "corrupt"},
		{"newer format", mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint32(b[len(magic):], FormatVersion+1)
			return reseal(b)
		}), families, ErrNewer, "update Modelsmith"},
		{"unknown family", good, func(string) (learn.Spec, bool) { return learn.Spec{}, false }, nil, `unknown model family "fakelinear"`},
		{"panicking family decoder", good, func(string) (learn.Spec, bool) {
			return learn.Spec{Decode: func([]byte) (learn.Predictor, error) { panic("boom") }}, true
		}, nil, "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.b, tt.fams)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, not %v", err, tt.is)
			}
		})
	}
}

func TestRowPredictorDoesNotAllocate(t *testing.T) {
	p, f := newPipeline(t, prep.LinearPrep(), 50)
	rp := p.NewRowPredictor()
	vals := cells(p, f, 3)
	out := make([]float64, p.Outputs())
	allocs := testing.AllocsPerRun(100, func() {
		if err := rp.Predict(vals, out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per row", allocs)
	}
}

func BenchmarkRowPredictor(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  prep.Config
	}{{"tree", prep.TreePrep()}, {"linear", prep.LinearPrep()}} {
		b.Run(tc.name, func(b *testing.B) {
			p, f := newPipeline(b, tc.cfg, 200)
			rp := p.NewRowPredictor()
			rows := make([][]string, 16)
			for i := range rows {
				rows[i] = cells(p, f, i)
			}
			out := make([]float64, p.Outputs())
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := rp.Predict(rows[i%len(rows)], out); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkPredict(b *testing.B) {
	p, f := newPipeline(b, prep.LinearPrep(), 100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Predict(context.Background(), f); err != nil {
			b.Fatal(err)
		}
	}
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the committed seed corpus of FuzzDecode")

// TestFuzzCorpus writes the committed seed corpus (go test -run FuzzCorpus
// -update-corpus): valid artifacts of both preps and a few damaged ones.
func TestFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite testdata/fuzz/FuzzDecode")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var seeds [][]byte
	for _, cfg := range []prep.Config{prep.TreePrep(), prep.LinearPrep()} {
		p, _ := newPipeline(t, cfg, 60)
		b, _ := p.MarshalBinary()
		seeds = append(seeds, b, b[:len(b)/2])
	}
	p, _ := newPipeline(t, prep.TreePrep(), 10)
	p.Task, p.Classes = Regression, nil
	p.Predictor = &linearScorer{outputs: 1, w: []float64{1, 2}}
	b, _ := p.MarshalBinary()
	seeds = append(seeds, b)
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzDecode checks that Decode never panics, and that whatever it accepts
// predicts without panicking and re-encodes to an artifact it accepts again.
// Run it with a short minimisation time: minimising each new input of a few
// kilobytes otherwise takes most of the run:
//
//	go test ./ml/model -run XXX -fuzz FuzzDecode -fuzztime 30s -fuzzminimizetime 100x
func FuzzDecode(f *testing.F) {
	p, _ := newPipeline(f, prep.LinearPrep(), 30)
	good, _ := p.MarshalBinary()
	f.Add(good)
	e, _ := newEnsemble(f)
	ens, _ := e.MarshalBinary()
	f.Add(ens)
	frame, _ := trainFrame(20)
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzDecode(t, b, frame)
		// Most mutations only break the checksum: reseal a copy so that the
		// fuzzer also reaches the sections behind it.
		const head = len(magic) + 12
		if len(b) >= head+4 && string(b[:len(magic)]) == magic {
			c := slices.Clone(b)
			binary.LittleEndian.PutUint64(c[len(magic)+4:], uint64(len(c)-head-4))
			fuzzDecode(t, reseal(c), frame)
		}
	})
}

func fuzzDecode(t *testing.T, b []byte, frame *data.Frame) {
	q, err := Decode(b, families)
	if err != nil {
		return
	}
	if _, err := q.Predict(context.Background(), frame); err == nil {
		vals := make([]string, len(q.Inputs))
		q.NewRowPredictor().Predict(vals, make([]float64, q.Outputs()))
	}
	b2, err := q.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b2, families); err != nil {
		t.Fatalf("re-decode: %v", err)
	}
}
