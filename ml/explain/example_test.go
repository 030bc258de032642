package explain_test

import (
	"context"
	"fmt"

	"modelsmith/ml/explain"
	"modelsmith/ml/learn"
)

func ExamplePermutation() {
	// A regression model that reads only "size"; "age" is ignored.
	X := &learn.Features{Rows: 6, Cols: []learn.Feature{
		{Name: "age", Num: []float64{30, 41, 25, 60, 33, 48}},
		{Name: "size", Num: []float64{1, 2, 3, 4, 5, 6}},
	}}
	y := []float64{2, 4, 6, 8, 10, 12}
	predict := func(X *learn.Features, out []float64) {
		for i, s := range X.Cols[1].Num {
			out[i] = 2 * s
		}
	}
	imp, err := explain.Permutation(context.Background(), predict, 1, X, y, 0, "rmse", 10, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range imp {
		fmt.Printf("%s matters: %v\n", f.Feature, f.Mean > 0)
	}
	// Output:
	// size matters: true
	// age matters: false
}

func ExamplePartialDependence() {
	X := &learn.Features{Rows: 4, Cols: []learn.Feature{
		{Name: "x", Num: []float64{0, 1, 2, 3}},
		{Name: "z", Num: []float64{10, 20, 30, 40}},
	}}
	predict := func(X *learn.Features, out []float64) {
		for i := range out {
			out[i] = X.Cols[0].Num[i] + X.Cols[1].Num[i]
		}
	}
	grid, mean, _ := explain.PartialDependence(context.Background(), predict, 1, X, "x", 10)
	for g := range grid {
		fmt.Printf("x=%.0f → %.1f\n", grid[g], mean[g][0])
	}
	// Output:
	// x=0 → 25.0
	// x=1 → 26.0
	// x=2 → 27.0
	// x=3 → 28.0
}
