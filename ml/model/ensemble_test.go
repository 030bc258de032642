package model

import (
	"context"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"modelsmith/ml/prep"
)

func newEnsemble(t testing.TB) (*Pipeline, []*Pipeline) {
	t.Helper()
	a, f := newPipeline(t, prep.TreePrep(), 60)
	b, _ := newPipeline(t, prep.LinearPrep(), 60)
	b.Predictor.(*linearScorer).w[0] = 0.7
	e := &Pipeline{Inputs: a.Inputs, Target: a.Target, Task: a.Task, Classes: a.Classes,
		Members: []Member{{Weight: 0.25, Pipeline: a}, {Weight: 0.75, Pipeline: b}},
		Meta:    map[string]string{"algorithm": "ensemble"}}
	_ = f
	return e, []*Pipeline{a, b}
}

func TestEnsemblePredictsWeightedSum(t *testing.T) {
	e, ms := newEnsemble(t)
	_, f := newPipeline(t, prep.TreePrep(), 60)
	got, err := e.Predict(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := ms[0].Predict(context.Background(), f)
	pb, _ := ms[1].Predict(context.Background(), f)
	if e.Outputs() != 2 || len(got) != len(pa) {
		t.Fatalf("outputs %d, %d values", e.Outputs(), len(got))
	}
	differs := false
	for i := range got {
		if want := 0.25*pa[i] + 0.75*pb[i]; !near(got[i], want) {
			t.Fatalf("value %d: %v, want %v", i, got[i], want)
		}
		differs = differs || !near(pa[i], pb[i])
	}
	if !differs {
		t.Fatal("the members predict alike: the test proves nothing")
	}
	rp := e.NewRowPredictor()
	out := make([]float64, 2)
	for i := range f.Rows() {
		if err := rp.Predict(cells(e, f, i), out); err != nil {
			t.Fatal(err)
		}
		if !near(out[0], got[2*i]) || !near(out[1], got[2*i+1]) {
			t.Fatalf("row %d: %v, batch %v", i, out, got[2*i:2*i+2])
		}
	}
	c3 := cells(e, f, 3)
	if allocs := testing.AllocsPerRun(50, func() { _ = rp.Predict(c3, out) }); allocs != 0 {
		t.Errorf("row predict allocates %v times", allocs)
	}
}

func TestEnsembleCodecRoundTrip(t *testing.T) {
	e, _ := newEnsemble(t)
	_, f := newPipeline(t, prep.TreePrep(), 60)
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode(b, families)
	if err != nil {
		t.Fatal(err)
	}
	if !q.IsEnsemble() || len(q.Members) != 2 || q.Members[1].Weight != 0.75 || q.Meta["algorithm"] != "ensemble" {
		t.Fatalf("decoded %+v", q)
	}
	checkDecoded(t, e, q, b, f)
}

func TestDecodeVersion1(t *testing.T) {
	p, f := newPipeline(t, prep.LinearPrep(), 40)
	b, _ := p.MarshalBinary()
	binary.LittleEndian.PutUint32(b[len(magic):], 1)
	q, err := Decode(reseal(b), families)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := p.Predict(context.Background(), f)
	got, _ := q.Predict(context.Background(), f)
	if !slices.Equal(got, want) {
		t.Fatal("version 1 artifact predicts differently")
	}
}

func TestEnsembleErrors(t *testing.T) {
	e, ms := newEnsemble(t)
	nested := &Pipeline{Inputs: e.Inputs, Target: e.Target, Task: e.Task, Classes: e.Classes,
		Members: []Member{{Weight: 1, Pipeline: e}}}
	regression, _ := newPipeline(t, prep.TreePrep(), 20)
	regression.Predictor = &linearScorer{outputs: 1, w: []float64{1}}
	tests := []struct {
		name string
		p    *Pipeline
		want string
	}{
		{"nested", nested, "is an ensemble itself"},
		{"negative weight", &Pipeline{Inputs: e.Inputs, Task: e.Task, Classes: e.Classes, Members: []Member{{Weight: -1, Pipeline: ms[0]}}}, "weight -1"},
		{"zero weights", &Pipeline{Inputs: e.Inputs, Task: e.Task, Classes: e.Classes, Members: []Member{{Weight: 0, Pipeline: ms[0]}}}, "sum to 0"},
		{"outputs differ", &Pipeline{Inputs: e.Inputs, Task: e.Task, Classes: e.Classes, Members: []Member{{Weight: 1, Pipeline: ms[0]}, {Weight: 1, Pipeline: regression}}}, "2 and 1 outputs"},
		{"own predictor too", &Pipeline{Inputs: e.Inputs, Task: e.Task, Classes: e.Classes, Prep: ms[0].Prep, Predictor: ms[0].Predictor, Members: e.Members}, "not its own prep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.p.MarshalBinary(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("encode: %v, want %q", err, tt.want)
			}
		})
	}
}
