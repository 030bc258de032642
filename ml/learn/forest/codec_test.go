package forest

import (
	"bytes"
	"context"
	"testing"

	"modelsmith/ml/learn"
)

// FuzzDecode feeds Decode corrupt models: it must return an error or a
// model that predicts and round-trips, never panic or loop.
// The committed corpus in testdata/fuzz/FuzzDecode holds small models of
// every kind; f.Add adds one more built here.
func FuzzDecode(f *testing.F) {
	d := synthetic(300, 5)
	p := DefaultParams()
	p.NEstimators, p.MaxDepth = 2, 3
	l, err := New(p)
	if err != nil {
		f.Fatal(err)
	}
	pr, err := l.Fit(context.Background(), d, learn.Options{Seed: 1})
	if err != nil {
		f.Fatal(err)
	}
	b, err := pr.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(magic))
	X := d.X
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		out := make([]float64, X.Rows*m.Outputs())
		m.Predict(X, out)
		again, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded model does not encode: %v", err)
		}
		// Varints may arrive padded, so compare canonical encodings.
		m2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded model does not decode: %v", err)
		}
		third, _ := m2.MarshalBinary()
		if !bytes.Equal(again, third) {
			t.Fatal("encoding is not stable across a round trip")
		}
	})
}
