package model

import (
	"math"
	"slices"
	"strings"
	"testing"

	"modelsmith/ml/data"
)

func TestLabels(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name    string
		col     *data.Column
		task    string
		y       []float64
		classes []string
		err     string
	}{
		{"categorical sorted as text", catCol("t", "yes", "no", "yes"), Binary, []float64{1, 0, 1}, []string{"no", "yes"}, ""},
		{"numeric labels sort numerically", catCol("t", "10", "2", "1"), Multiclass, []float64{2, 1, 0}, []string{"1", "2", "10"}, ""},
		{"whole numbers", numCol("t", 1, 0, 1, 0), Binary, []float64{1, 0, 1, 0}, []string{"0", "1"}, ""},
		{"negative whole numbers", numCol("t", -1, 1, 0), Multiclass, []float64{0, 2, 1}, []string{"-1", "0", "1"}, ""},
		{"regression", numCol("t", 1.5, 2), Regression, []float64{1.5, 2}, nil, ""},
		{"one class", catCol("t", "a", "a"), Binary, nil, nil, `target "t" has only one class ("a")`},
		{"missing target", numCol("t", 1, nan, 0, nan), Binary, nil, nil, "missing in 2 rows (first: row 2)"},
		{"missing category", catCol("t", "a", "b", ""), Binary, nil, nil, "first: row 3"},
		{"fractions are not classes", numCol("t", 0.5, 1), Binary, nil, nil, "row 1"},
		{"binary with three classes", catCol("t", "a", "b", "c"), Binary, nil, nil, "3 classes"},
		{"multiclass with two", catCol("t", "a", "b"), Multiclass, nil, nil, "use binary"},
		{"regression on text", catCol("t", "a", "b"), Regression, nil, nil, "numeric"},
		{"unknown task", numCol("t", 1), "clustering", nil, nil, "unknown task"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y, classes, err := Labels(tt.col, tt.task)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "model: ") {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(y, tt.y) || !slices.Equal(classes, tt.classes) {
				t.Fatalf("y %v classes %q, want %v %q", y, classes, tt.y, tt.classes)
			}
		})
	}
}

func TestInferTask(t *testing.T) {
	many := make([]float64, 30)
	for i := range many {
		many[i] = float64(i)
	}
	tests := []struct {
		name string
		col  *data.Column
		want string
	}{
		{"two categories", catCol("t", "a", "b", ""), Binary},
		{"three categories", catCol("t", "a", "b", "c"), Multiclass},
		{"0/1 numbers", numCol("t", 0, 1, 1, math.NaN()), Binary},
		{"few whole numbers", numCol("t", 1, 2, 3, 5), Multiclass},
		{"many whole numbers", numCol("t", many...), Regression},
		{"fractions", numCol("t", 0.5, 1, 1), Regression},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := InferTask(tt.col); got != tt.want {
				t.Fatalf("%s, want %s", got, tt.want)
			}
		})
	}
}
