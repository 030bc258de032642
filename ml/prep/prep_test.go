package prep

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/learn/learntest"
)

var nan = math.NaN()

func numCol(name string, vals ...float64) *data.Column {
	return &data.Column{Name: name, Kind: data.Numeric, Num: vals}
}

// catCol builds a categorical column; "" is missing.
func catCol(name string, cells ...string) *data.Column {
	return learntest.CodedColumn(name, data.Categorical, cells...)
}

func frame(cols ...*data.Column) *data.Frame { return &data.Frame{Columns: cols} }

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*(1+math.Abs(b))
}

func eqNums(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	for i := range got {
		if !near(got[i], want[i]) {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
	}
}

func names(x *learn.Features) []string {
	var out []string
	for _, c := range x.Cols {
		out = append(out, c.Name)
	}
	return out
}

func fit(t *testing.T, f *data.Frame, cfg Config, target []float64, classes int) (*Prep, *learn.Features) {
	t.Helper()
	var cols []string
	for _, c := range f.Columns {
		cols = append(cols, c.Name)
	}
	p, x, err := Fit(context.Background(), f, cols, target, classes, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	return p, x
}

func TestNumeric(t *testing.T) {
	age := []float64{1, 2, nan, 9}
	tests := []struct {
		name  string
		cfg   Config
		names []string
		want  [][]float64
	}{
		{"no imputation keeps NaN", TreePrep(), []string{"age"}, [][]float64{{1, 2, nan, 9}}},
		{"mean imputation with indicator", Config{Impute: ImputeMean, Indicators: true, Categorical: Ordinal},
			[]string{"age", "age_missing"}, [][]float64{{1, 2, 4, 9}, {0, 0, 1, 0}}},
		{"median imputation without indicator", Config{Impute: ImputeMedian, Categorical: Ordinal},
			[]string{"age"}, [][]float64{{1, 2, 2, 9}}},
		{"median imputation and standardisation", LinearPrep(), []string{"age", "age_missing"},
			[][]float64{{-0.8, -0.4, -0.4, 2.4 - 0.8}, {0, 0, 1, 0}}},
	}
	// LinearPrep: imputed 1 2 2 9, mean 3.5, std sqrt((6.25+2.25+2.25+30.25)/4)=sqrt(10.25)
	sd := math.Sqrt(10.25)
	tests[3].want[0] = []float64{(1 - 3.5) / sd, (2 - 3.5) / sd, (2 - 3.5) / sd, (9 - 3.5) / sd}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, x := fit(t, frame(numCol("age", age...)), tt.cfg, nil, 0)
			if !slices.Equal(names(x), tt.names) || !slices.Equal(p.FeatureNames(), tt.names) {
				t.Fatalf("names %v / %v, want %v", names(x), p.FeatureNames(), tt.names)
			}
			for j, w := range tt.want {
				eqNums(t, x.Cols[j].Name, x.Cols[j].Num, w)
			}
			// Transform gives the same as the training output for these transforms.
			y, err := p.Transform(frame(numCol("age", age...)))
			if err != nil {
				t.Fatal(err)
			}
			for j, w := range tt.want {
				eqNums(t, "transform "+y.Cols[j].Name, y.Cols[j].Num, w)
			}
		})
	}
}

func TestConstantColumnScalesByOne(t *testing.T) {
	_, x := fit(t, frame(numCol("c", 5, 5, 5)), LinearPrep(), nil, 0)
	eqNums(t, "c", x.Cols[0].Num, []float64{0, 0, 0})
}

func TestOrdinal(t *testing.T) {
	p, x := fit(t, frame(catCol("color", "red", "blue", "", "red")), TreePrep(), nil, 0)
	f := x.Cols[0]
	if !f.IsCategorical() || f.Levels != 2 || !slices.Equal(f.Codes, []int32{0, 1, -1, 0}) {
		t.Fatalf("training feature %+v", f)
	}
	y, err := p.Transform(frame(catCol("color", "blue", "green", "", "red")))
	if err != nil {
		t.Fatal(err)
	}
	if got := y.Cols[0].Codes; !slices.Equal(got, []int32{1, -1, -1, 0}) {
		t.Fatalf("unseen and missing should be -1: %v", got)
	}
}

func TestOneHot(t *testing.T) {
	train := frame(catCol("color", "red", "red", "red", "blue", "blue", "green", ""))
	tests := []struct {
		name  string
		max   int
		names []string
		in    []string
		want  [][]float64 // per input row, the row's features
	}{
		{"all levels plus missing", 0,
			[]string{"color=red", "color=blue", "color=green", "color=(missing)"},
			[]string{"blue", "", "purple"},
			[][]float64{{0, 1, 0, 0}, {0, 0, 0, 1}, {0, 0, 0, 0}}},
		{"cap sends rare and unseen levels to other", 2,
			[]string{"color=red", "color=blue", "color=(other)", "color=(missing)"},
			[]string{"green", "purple", "red"},
			[][]float64{{0, 0, 1, 0}, {0, 0, 1, 0}, {1, 0, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := LinearPrep()
			cfg.MaxOneHot = tt.max
			p, x := fit(t, train, cfg, nil, 0)
			if !slices.Equal(names(x), tt.names) {
				t.Fatalf("names %v, want %v", names(x), tt.names)
			}
			y, err := p.Transform(frame(catCol("color", tt.in...)))
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range tt.want {
				var row []float64
				for _, c := range y.Cols {
					row = append(row, c.Num[i])
				}
				eqNums(t, tt.in[i], row, w)
			}
		})
	}
	t.Run("no missing column without missing values", func(t *testing.T) {
		_, x := fit(t, frame(catCol("c", "a", "b")), LinearPrep(), nil, 0)
		if got := names(x); !slices.Equal(got, []string{"c=a", "c=b"}) {
			t.Fatalf("names %v", got)
		}
	})
}

func TestTargetEncoding(t *testing.T) {
	// 40 rows, level "a" mostly positive, "b" mostly negative.
	var cells []string
	var y []float64
	for i := range 40 {
		l := "a"
		if i%2 == 1 {
			l = "b"
		}
		cells = append(cells, l)
		pos := (l == "a") != (i%10 == 0 || i%10 == 3)
		y = append(y, b2f(pos))
	}
	cfg := Config{Impute: ImputeNone, Categorical: Target, Smoothing: 2}
	p, x := fit(t, frame(catCol("city", cells...)), cfg, y, 2)
	if got := names(x); !slices.Equal(got, []string{"city_te"}) {
		t.Fatalf("names %v", got)
	}
	full, err := p.Transform(frame(catCol("city", cells...)))
	if err != nil {
		t.Fatal(err)
	}
	// Full-data encoding: a has 16/20 positives; prior 20/40.
	wantA := (16 + 2*0.5) / (20 + 2.0)
	if !near(full.Cols[0].Num[0], wantA) {
		t.Fatalf("full encoding of a = %v, want %v", full.Cols[0].Num[0], wantA)
	}
	if slices.Equal(full.Cols[0].Num, x.Cols[0].Num) {
		t.Fatal("training output should be out-of-fold, not the full-data encoding")
	}
	for i := range y {
		if d := math.Abs(x.Cols[0].Num[i] - full.Cols[0].Num[i]); d > 0.2 {
			t.Fatalf("row %d: OOF %v far from full %v", i, x.Cols[0].Num[i], full.Cols[0].Num[i])
		}
	}
	// Deterministic for a seed.
	_, x2 := fit(t, frame(catCol("city", cells...)), cfg, y, 2)
	eqNums(t, "refit", x2.Cols[0].Num, x.Cols[0].Num)
	// Unseen and missing get the prior.
	u, err := p.Transform(frame(catCol("city", "zzz", "")))
	if err != nil {
		t.Fatal(err)
	}
	eqNums(t, "unseen", u.Cols[0].Num, []float64{0.5, 0.5})

	t.Run("multiclass makes one feature per class", func(t *testing.T) {
		y3 := []float64{0, 1, 2, 0, 1, 2, 0, 0}
		p, x := fit(t, frame(catCol("c", "a", "a", "b", "b", "a", "b", "a", "b")), cfg, y3, 3)
		if got := names(x); !slices.Equal(got, []string{"c_te0", "c_te1", "c_te2"}) {
			t.Fatalf("names %v", got)
		}
		u, _ := p.Transform(frame(catCol("c", "zzz")))
		eqNums(t, "prior", []float64{u.Cols[0].Num[0], u.Cols[1].Num[0], u.Cols[2].Num[0]}, []float64{4.0 / 8, 2.0 / 8, 2.0 / 8})
	})
	t.Run("high cardinality switches to target encoding", func(t *testing.T) {
		var cells []string
		for i := range 40 {
			cells = append(cells, string(rune('A'+i)))
		}
		_, x := fit(t, frame(catCol("id", cells...)), LinearPrep(), y, 2)
		if got := names(x); !slices.Equal(got, []string{"id_te"}) {
			t.Fatalf("names %v", got)
		}
	})
	t.Run("needs a target", func(t *testing.T) {
		_, _, err := Fit(context.Background(), frame(catCol("c", "a")), []string{"c"}, nil, 0, cfg, 1)
		if err == nil || !strings.Contains(err.Error(), "target") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDatetimeAndText(t *testing.T) {
	ts := &data.Column{Name: "ts", Kind: data.Datetime, Num: []float64{0, 86400 * 31, nan}}
	note := &data.Column{Name: "note", Kind: data.Text, Codes: []int32{0, 0, -1}, Levels: []string{"hi"}}
	p, x := fit(t, frame(ts, note), TreePrep(), nil, 0)
	if got := names(x); !slices.Equal(got, []string{"ts", "ts_year", "ts_month", "ts_dow", "note:hi"}) {
		t.Fatalf("names %v", got)
	}
	eqNums(t, "year", x.Cols[1].Num, []float64{1970, 1970, nan})
	eqNums(t, "month", x.Cols[2].Num, []float64{1, 2, nan})
	eqNums(t, "dow", x.Cols[3].Num, []float64{4, 0, nan}) // 1970-01-01 was a Thursday
	if n := p.Notes(); len(n) != 0 {
		t.Fatalf("notes %v", n)
	}
	eqNums(t, "note", x.Cols[4].Num, []float64{1, 1, 0})
	// Datetimes may arrive as text.
	y, err := p.Transform(frame(catCol("ts", "1970-02-01", ""), catCol("note", "x", "HI")))
	if err != nil {
		t.Fatal(err)
	}
	eqNums(t, "ts from text", y.Cols[0].Num, []float64{86400 * 31, nan})
}

func TestTransformColumnMismatch(t *testing.T) {
	p, _ := fit(t, frame(numCol("age", 1, 2), catCol("zip", "10", "20")), LinearPrep(), nil, 0)
	tests := []struct {
		name    string
		f       *data.Frame
		wantErr []string
	}{
		{"missing columns are named", frame(numCol("other", 1)), []string{`"age"`, `"zip"`, "missing"}},
		{"text in a numeric column names column, row and value", frame(catCol("age", "3", "", "old"), catCol("zip", "10", "10", "10")),
			[]string{`"age"`, "row 3", `"old"`}},
		{"reordered and extra columns are fine", frame(numCol("x", 1), catCol("zip", "20"), catCol("age", " 4 ")), nil},
		{"categorical arriving as numbers maps by text", frame(numCol("zip", 20, 10, 30), numCol("age", 1, 2, 3)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := p.Transform(tt.f)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error; features %v", names(x))
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %s", err, w)
				}
			}
		})
	}
	x, _ := p.Transform(frame(numCol("zip", 20, 10, 30), numCol("age", 1, 2, 3)))
	// zip features: zip=10, zip=20 (ties keep level order).
	eqNums(t, "zip=10", x.Cols[1].Num, []float64{0, 1, 0})
	eqNums(t, "zip=20", x.Cols[2].Num, []float64{1, 0, 0})
}

func mixedFrame() (*data.Frame, []float64) {
	f := frame(
		numCol("age", 30, nan, 50, 20, 41, 33, nan, 28),
		catCol("color", "red", "blue", "", "red", "green", "red", "blue", "blue"),
		&data.Column{Name: "ts", Kind: data.Datetime, Num: []float64{0, 1e9, 2e9, nan, 1e8, 3e8, 5e8, 7e8}},
		catCol("city", "a", "b", "c", "a", "b", "c", "a", "d"),
	)
	return f, []float64{1, 0, 1, 0, 1, 1, 0, 0}
}

func TestRowMatchesTransform(t *testing.T) {
	f, y := mixedFrame()
	for _, cfg := range []Config{TreePrep(), LinearPrep(), {Impute: ImputeMean, Categorical: Target, Standardize: true}} {
		t.Run(string(cfg.Categorical), func(t *testing.T) {
			p, _ := fit(t, f, cfg, y, 2)
			want, err := p.Transform(f)
			if err != nil {
				t.Fatal(err)
			}
			row := p.NewRow()
			cells := make([]string, len(f.Columns))
			for i := range f.Rows() {
				for j, c := range f.Columns {
					cells[j] = c.Format(i)
				}
				if err := row.Set(cells); err != nil {
					t.Fatal(err)
				}
				for j, c := range row.Features().Cols {
					w := want.Cols[j]
					if c.IsCategorical() {
						if c.Codes[0] != w.Codes[i] {
							t.Fatalf("row %d %s: %d, want %d", i, c.Name, c.Codes[0], w.Codes[i])
						}
					} else if !near(c.Num[0], w.Num[i]) {
						t.Fatalf("row %d %s: %v, want %v", i, c.Name, c.Num[0], w.Num[i])
					}
				}
			}
			if err := row.Set([]string{"old", "", "", ""}); err == nil || !strings.Contains(err.Error(), `"age"`) {
				t.Fatalf("bad number: err = %v", err)
			}
		})
	}
}

func TestCodecRoundTrip(t *testing.T) {
	f, y := mixedFrame()
	for _, cfg := range []Config{TreePrep(), LinearPrep(), {Impute: ImputeMean, Categorical: Target, Standardize: true, Indicators: true}} {
		t.Run(string(cfg.Categorical), func(t *testing.T) {
			p, _ := fit(t, f, cfg, y, 2)
			b, err := p.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			q, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			b2, _ := q.MarshalBinary()
			if !slices.Equal(b, b2) {
				t.Fatal("re-encoding differs")
			}
			x1, _ := p.Transform(f)
			x2, _ := q.Transform(f)
			if !slices.Equal(names(x1), names(x2)) {
				t.Fatalf("names %v vs %v", names(x1), names(x2))
			}
			for j := range x1.Cols {
				if x1.Cols[j].IsCategorical() {
					if !slices.Equal(x1.Cols[j].Codes, x2.Cols[j].Codes) {
						t.Fatal("codes differ")
					}
				} else {
					eqNums(t, x1.Cols[j].Name, x2.Cols[j].Num, x1.Cols[j].Num)
				}
			}
			// Every truncation and single-byte change decodes or fails cleanly.
			for i := range b {
				if _, err := Decode(b[:i]); err == nil {
					t.Fatalf("truncated to %d bytes: no error", i)
				}
				c := slices.Clone(b)
				c[i] ^= 0xff
				if q, err := Decode(c); err == nil {
					q.Transform(f) // must not panic either
				}
			}
		})
	}
	b := []byte(prepMagic + "\x09")
	if _, err := Decode(b); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("newer version: err = %v", err)
	}
	if _, err := Decode([]byte("garbage")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbage: err = %v", err)
	}
}

func TestFitErrors(t *testing.T) {
	f := frame(numCol("a", 1, 2))
	tests := []struct {
		name string
		cols []string
		cfg  Config
		want string
	}{
		{"missing column", []string{"a", "b"}, TreePrep(), `"b"`},
		{"no columns", nil, TreePrep(), "no input columns"},
		{"bad imputation", []string{"a"}, Config{Impute: "zero", Categorical: Ordinal}, "zero"},
		{"duplicate column", []string{"a", "a"}, TreePrep(), "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Fit(context.Background(), f, tt.cols, nil, 0, tt.cfg, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "prep: ") {
				t.Fatalf("err = %v, want one mentioning %s", err, tt.want)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	fr, y := mixedFrame()
	for _, cfg := range []Config{TreePrep(), LinearPrep()} {
		p, _, err := Fit(context.Background(), fr, []string{"age", "color", "ts", "city"}, y, 2, cfg, 1)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := p.MarshalBinary()
		f.Add(b)
	}
	tp, _, err := Fit(context.Background(), frame(textCol("msg", "free call", "call now", "free now"), numCol("n", 1, 2, 3)),
		[]string{"msg", "n"}, nil, 0, Config{Impute: ImputeMean, Categorical: OneHot, TextBigrams: true}, 1)
	if err != nil {
		f.Fatal(err)
	}
	tb, _ := tp.MarshalBinary()
	f.Add(tb)
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Decode(b)
		if err != nil {
			return
		}
		p.Transform(fr)
		p.NewRow().Set(make([]string, len(p.Inputs())))
		b2, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(b2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
