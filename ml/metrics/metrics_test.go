package metrics

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		f       classFunc
		y       []int
		proba   []float64
		w       []float64
		want    float64
		wantErr bool
	}{
		{"perfect ROC AUC", ROCAUC, []int{0, 0, 1, 1}, binaryProba([]float64{0.1, 0.2, 0.8, 0.9}), nil, 1, false},
		{"reversed ROC AUC", ROCAUC, []int{0, 0, 1, 1}, binaryProba([]float64{0.9, 0.8, 0.2, 0.1}), nil, 0, false},
		{"all scores tied: ROC AUC is one half", ROCAUC, []int{0, 1, 0, 1}, binaryProba([]float64{0.5, 0.5, 0.5, 0.5}), nil, 0.5, false},
		{"all scores tied: AP is the positive rate", PRAUC, []int{0, 1, 0, 0}, binaryProba([]float64{0.5, 0.5, 0.5, 0.5}), nil, 0.25, false},
		{"perfect accuracy", Accuracy, []int{0, 1, 2}, []float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, nil, 1, false},
		{"perfect log loss is nearly zero", LogLoss, []int{0, 1}, []float64{1, 0, 0, 1}, nil, 1e-15, false},
		{"perfect F1", F1, []int{0, 1, 1}, binaryProba([]float64{0, 1, 1}), nil, 1, false},
		{"F1 without positives anywhere is zero", F1, []int{0, 0}, binaryProba([]float64{0.1, 0.2}), nil, 0, false},
		{"balanced accuracy of a majority guesser", BalancedAccuracy, []int{0, 0, 0, 1}, binaryProba([]float64{0, 0, 0, 0}), nil, 0.5, false},
		{"tied probabilities predict the first class", Accuracy, []int{0}, []float64{0.5, 0.5}, nil, 1, false},
		{"ROC AUC with one class present", ROCAUC, []int{1, 1}, binaryProba([]float64{0.3, 0.6}), nil, 0, true},
		{"multiclass ROC AUC with a class absent", ROCAUC, []int{0, 1, 0}, []float64{.5, .3, .2, .2, .5, .3, .6, .2, .2}, nil, 0, true},
		{"AP without positives", PRAUC, []int{0, 0}, binaryProba([]float64{0.3, 0.6}), nil, 0, true},
		{"empty", Accuracy, nil, nil, nil, 0, true},
		{"ragged probabilities", Accuracy, []int{0, 1}, []float64{1, 0, 1}, nil, 0, true},
		{"one column", Accuracy, []int{0, 0}, []float64{1, 1}, nil, 0, true},
		{"label out of range", Accuracy, []int{0, 2}, binaryProba([]float64{0, 1}), nil, 0, true},
		{"NaN probability", LogLoss, []int{0, 1}, []float64{1, 0, math.NaN(), 1}, nil, 0, true},
		{"weights of the wrong length", Accuracy, []int{0, 1}, binaryProba([]float64{0, 1}), []float64{1}, 0, true},
		{"negative weight", Accuracy, []int{0, 1}, binaryProba([]float64{0, 1}), []float64{1, -1}, 0, true},
		{"zero weights", Accuracy, []int{0, 1}, binaryProba([]float64{0, 1}), []float64{0, 0}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f(tt.y, tt.proba, tt.w)
			if tt.wantErr {
				if !errors.Is(err, ErrInput) {
					t.Fatalf("got %v, %v; want an ErrInput", got, err)
				}
				if !strings.HasPrefix(err.Error(), "metrics: ") {
					t.Errorf("error %q lacks the package prefix", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("got %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestRegressionEdgeCases(t *testing.T) {
	tests := []struct {
		name    string
		f       func(y, pred, w []float64) (float64, error)
		y, pred []float64
		want    float64
		wantErr bool
	}{
		{"perfect R2", R2, []float64{1, 2, 3}, []float64{1, 2, 3}, 1, false},
		{"mean predictor R2", R2, []float64{1, 2, 3}, []float64{2, 2, 2}, 0, false},
		{"constant target, perfect prediction", R2, []float64{4, 4}, []float64{4, 4}, 1, false},
		{"constant target, wrong prediction", R2, []float64{4, 4}, []float64{4, 5}, 0, false},
		{"perfect RMSE", RMSE, []float64{1, 2}, []float64{1, 2}, 0, false},
		{"R2 of one row", R2, []float64{1}, []float64{1}, 0, true},
		{"empty", MAE, nil, nil, 0, true},
		{"length mismatch", RMSE, []float64{1, 2}, []float64{1}, 0, true},
		{"NaN prediction", MAE, []float64{1, 2}, []float64{1, math.NaN()}, 0, true},
		{"infinite target", MAE, []float64{math.Inf(1), 2}, []float64{1, 2}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f(tt.y, tt.pred, nil)
			if tt.wantErr {
				if !errors.Is(err, ErrInput) {
					t.Fatalf("got %v, %v; want an ErrInput", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("got %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestResiduals(t *testing.T) {
	r, err := Residuals([]float64{3, 1}, []float64{1, 1.5})
	if err != nil {
		t.Fatal(err)
	}
	if r[0] != 2 || r[1] != -0.5 {
		t.Errorf("got %v, want [2 -0.5]", r)
	}
}

func TestCurveThinningKeepsEndpoints(t *testing.T) {
	const n = 5000
	y := make([]int, n)
	p := make([]float64, n)
	for i := range n {
		y[i] = i % 3 % 2 // not separable, so the curve has many steps
		p[i] = float64(i) / n
	}
	roc, err := ROCCurve(y, binaryProba(p), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(roc) != MaxCurvePoints {
		t.Fatalf("%d points, want %d", len(roc), MaxCurvePoints)
	}
	first, last := roc[0], roc[len(roc)-1]
	if !math.IsInf(first.Threshold, 1) || first.FPR != 0 || first.TPR != 0 {
		t.Errorf("first point %+v, want (0,0) at +Inf", first)
	}
	if last.FPR != 1 || last.TPR != 1 || last.Threshold != 0 {
		t.Errorf("last point %+v, want (1,1) at the lowest score", last)
	}
	for i := 1; i < len(roc); i++ {
		if roc[i].Threshold >= roc[i-1].Threshold || roc[i].FPR < roc[i-1].FPR || roc[i].TPR < roc[i-1].TPR {
			t.Fatalf("points %d and %d out of order: %+v %+v", i-1, i, roc[i-1], roc[i])
		}
	}
	pr, err := PRCurve(y, binaryProba(p), 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr) != MaxCurvePoints || pr[0].Recall != 0 || pr[len(pr)-1].Recall != 1 {
		t.Errorf("PR curve: %d points from %+v to %+v", len(pr), pr[0], pr[len(pr)-1])
	}
}

func TestCurvesOneVsRest(t *testing.T) {
	roc, err := ROCCurve(ym, pm, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if last := roc[len(roc)-1]; last.FPR != 1 || last.TPR != 1 {
		t.Errorf("last point %+v, want (1,1)", last)
	}
	if _, err := ROCCurve(ym, pm, 3, nil); !errors.Is(err, ErrInput) {
		t.Errorf("class 3 of 3: got %v, want ErrInput", err)
	}
	if _, err := CalibrationBins(ym, pm, 0, 0); !errors.Is(err, ErrInput) {
		t.Errorf("zero bins: got %v, want ErrInput", err)
	}
	// The classes' own areas are the terms of the macro averages.
	for _, tc := range []struct {
		name  string
		class func(y []int, proba []float64, class int, w []float64) (float64, error)
		macro func(y []int, proba []float64, w []float64) (float64, error)
	}{{"AUC", ClassROCAUC, ROCAUC}, {"AP", ClassAP, PRAUC}} {
		sum := 0.0
		for c := range 3 {
			v, err := tc.class(ym, pm, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			sum += v
		}
		macro, err := tc.macro(ym, pm, nil)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(sum/3-macro) > 1e-12 {
			t.Errorf("%s: classes average %v, macro %v", tc.name, sum/3, macro)
		}
		if _, err := tc.class(ym, pm, 3, nil); !errors.Is(err, ErrInput) {
			t.Errorf("%s of class 3 of 3: got %v, want ErrInput", tc.name, err)
		}
	}
}

func TestScoreByName(t *testing.T) {
	yf := make([]float64, len(yb))
	for i, v := range yb {
		yf[i] = float64(v)
	}
	ymf := make([]float64, len(ym))
	for i, v := range ym {
		ymf[i] = float64(v)
	}
	tests := []struct {
		name    string
		metric  string
		y, out  []float64
		classes int
		want    float64
		errHas  string
	}{
		{"binary default", Default(Binary), yf, binaryProba(p1), 2, 0.9577777777777777, ""},
		{"multiclass default", Default(Multiclass), ymf, pm, 3, 0.6666666666666666, ""},
		{"regression default", Default(Regression), yr, pr, 0, 0.33482858538430993, ""},
		{"multiclass log loss", "log_loss", ymf, pm, 3, 0.7102857301335427, ""},
		{"unknown name lists valid ones", "auc", yf, binaryProba(p1), 2, 0, "valid: roc_auc, accuracy, balanced_accuracy, f1, pr_auc, log_loss"},
		{"regression metric for classes", "rmse", yf, binaryProba(p1), 2, 0, `unknown binary metric "rmse"`},
		{"one class", "accuracy", yf, p1, 1, 0, "1 classes"},
		{"fractional label", "accuracy", []float64{0.5}, []float64{1, 0}, 2, 0, "not a class index"},
		{"outputs of the wrong shape", "accuracy", yf, p1, 2, 0, "outputs for"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Score(tt.metric, tt.y, tt.out, tt.classes)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) || !strings.HasPrefix(err.Error(), "metrics: ") {
					t.Fatalf("got %v, %v; want an error containing %q", got, err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("got %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	for _, task := range []string{Binary, Multiclass, Regression} {
		ms := Metrics(task)
		if len(ms) == 0 || ms[0].Name != Default(task) {
			t.Errorf("%s: metrics %v do not start with the default %q", task, ms, Default(task))
		}
		for _, m := range ms {
			if m.Task != task || m.Label == "" {
				t.Errorf("%s: bad entry %+v", task, m)
			}
		}
	}
	ll, err := Lookup("log_loss", Binary)
	if err != nil || ll.HigherIsBetter || !ll.Better(0.1, 0.2) {
		t.Errorf("log_loss: %+v, %v; want lower is better", ll, err)
	}
	if _, err := Lookup("r2", "ranking"); err == nil {
		t.Error("unknown task: want an error")
	}
}
