package nn

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"modelsmith/ml/learn"
)

var update = flag.Bool("update", false, "rewrite the committed fuzz seed corpus in testdata/fuzz/FuzzDecode")

// corpusModels are small valid models of every kind the codec stores.
func corpusModels(t testing.TB) [][]byte {
	var out [][]byte
	for _, tc := range []struct {
		classes    int
		hidden     string
		activation string
	}{{0, "3", "relu"}, {2, "4,2", "tanh"}, {3, "2", "sigmoid"}, {3, "2,2,2", "relu"}} {
		d := synthetic(20, 2, tc.classes)
		l, err := Spec.New(map[string]string{"hidden": tc.hidden, "activation": tc.activation, "epochs": "2"})
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.Fit(context.Background(), d, learn.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := p.MarshalBinary()
		out = append(out, b)
	}
	return out
}

// TestFuzzCorpus keeps the committed seed corpus in step with the codec;
// regenerate it with go test -run TestFuzzCorpus -update.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for i, b := range corpusModels(t) {
		path := filepath.Join(dir, fmt.Sprintf("model%d", i))
		want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is missing or stale (%v); run go test -run TestFuzzCorpus -update", path, err)
		}
	}
}

// FuzzDecode wants Decode never to panic, and whatever it accepts to predict
// without panicking and to re-encode to the same bytes.
func FuzzDecode(f *testing.F) {
	for _, b := range corpusModels(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, _ := m.MarshalBinary()
		if !bytes.Equal(again, b) {
			t.Fatal("re-encoding a decoded model changed it")
		}
		X := &learn.Features{Rows: 2, Cols: make([]learn.Feature, m.sizes[0])}
		for j := range X.Cols {
			X.Cols[j].Num = []float64{1, -1}
		}
		m.Predict(X, make([]float64, 2*m.Outputs()))
	})
}
