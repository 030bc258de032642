package metrics

import (
	"math"
	"testing"
)

// The data and expected values below were made once by
// testdata/sklearn_expected.py (scikit-learn 1.2.1, numpy 1.24.2): random
// data from a seeded generator, rounded so that scores tie, and the metric
// as scikit-learn computes it, printed with repr (17 significant digits).

const tol = 1e-9

var (
	yb = []int{1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1}
	p1 = []float64{0.7, 1.0, 0.9, 0.8, 1.0, 0.5, 0.5, 0.4, 0.0, 0.0, 0.3, 0.7, 0.9, 0.4, 0.3, 0.7, 0.2, 0.4, 0.1, 0.4, 0.5, 0.2, 0.0, 0.5, 0.5, 0.2, 0.9, 0.3, 0.6, 0.8}
	wb = []float64{1.61, 0.64, 1.31, 1.26, 1.81, 1.04, 1.4, 0.59, 1.08, 0.98, 0.73, 1.72, 1.07, 1.97, 1.38, 1.41, 1.46, 1.51, 0.73, 1.16, 0.86, 1.1, 0.65, 1.95, 0.82, 1.51, 0.95, 1.81, 1.49, 0.7}

	ym = []int{0, 1, 2, 2, 1, 2, 2, 1, 0, 0, 1, 0, 2, 2, 0, 1, 0, 0, 1, 2, 2, 1, 1, 1}
	pm = []float64{0.41, 0.1, 0.49, 0.29, 0.41, 0.3, 0.11, 0.46, 0.43, 0.3, 0.05, 0.65, 0.14, 0.28, 0.58, 0.01, 0.04, 0.95, 0.1, 0.12, 0.78, 0.35, 0.48, 0.17, 0.73, 0.22, 0.05, 0.64, 0.27, 0.09, 0.25, 0.23, 0.52, 0.67, 0.22, 0.11, 0.47, 0.07, 0.46, 0.18, 0.02, 0.8, 0.16, 0.7, 0.14, 0.4, 0.56, 0.04, 0.65, 0.29, 0.06, 0.63, 0.26, 0.11, 0.54, 0.29, 0.17, 0.26, 0.31, 0.43, 0.31, 0.07, 0.62, 0.33, 0.44, 0.23, 0.14, 0.69, 0.17, 0.4, 0.37, 0.23}
	wm = []float64{0.82, 1.87, 1.76, 0.67, 1.41, 1.22, 1.39, 1.49, 0.96, 1.94, 1.2, 1.44, 1.45, 0.78, 0.59, 1.12, 1.65, 1.72, 1.59, 0.67, 1.87, 1.7, 1.82, 1.28}

	yr = []float64{8.48, 11.89, 9.09, 9.55, 10.07, 13.53, 12.04, 11.15, 8.31, 5.85, 12.85, 12.9, 9.58, 11.63, 12.34}
	pr = []float64{9.73, 13.27, 8.41, 11.82, 8.2, 14.82, 12.78, 12.46, 11.13, 8.08, 11.13, 10.37, 10.81, 10.11, 12.32}
	wr = []float64{1.7, 0.97, 1.79, 1.7, 0.69, 1.65, 1.82, 0.8, 1.36, 1.46, 1.41, 0.64, 1.49, 1.45, 1.74}
)

// binaryProba turns positive-class probabilities into n×2 rows.
func binaryProba(p []float64) []float64 {
	out := make([]float64, 0, 2*len(p))
	for _, x := range p {
		out = append(out, 1-x, x)
	}
	return out
}

type classFunc func(y []int, proba, w []float64) (float64, error)

func TestClassificationMatchesSklearn(t *testing.T) {
	pb := binaryProba(p1)
	tests := []struct {
		name  string
		f     classFunc
		y     []int
		proba []float64
		w     []float64
		want  float64
	}{
		{"binary accuracy", Accuracy, yb, pb, nil, 0.8},
		{"binary balanced accuracy", BalancedAccuracy, yb, pb, nil, 0.8},
		{"binary F1", F1, yb, pb, nil, 0.7692307692307692},
		{"binary ROC AUC with ties", ROCAUC, yb, pb, nil, 0.9577777777777777},
		{"binary average precision with ties", PRAUC, yb, pb, nil, 0.95},
		{"binary log loss", LogLoss, yb, pb, nil, 0.35026679068935873},
		{"weighted binary accuracy", Accuracy, yb, pb, wb, 0.805994550408719},
		{"weighted binary balanced accuracy", BalancedAccuracy, yb, pb, wb, 0.8044857067071739},
		{"weighted binary F1", F1, yb, pb, wb, 0.7780548628428927},
		{"weighted binary ROC AUC", ROCAUC, yb, pb, wb, 0.9460626872596459},
		{"weighted binary average precision", PRAUC, yb, pb, wb, 0.9373236421124338},
		{"weighted binary log loss", LogLoss, yb, pb, wb, 0.37380575543694017},
		{"log loss clips a zero probability at 1e-15", LogLoss, []int{1, 0, 1}, []float64{1, 0, 0.2, 0.8, 0.5, 0.5}, nil, 12.280453829301578},

		{"multiclass accuracy", Accuracy, ym, pm, nil, 0.6666666666666666},
		{"multiclass balanced accuracy", BalancedAccuracy, ym, pm, nil, 0.6732804232804233},
		{"multiclass macro F1", F1, ym, pm, nil, 0.6658496732026143},
		{"multiclass one-vs-rest ROC AUC", ROCAUC, ym, pm, nil, 0.8817912581699346},
		{"multiclass macro average precision", PRAUC, ym, pm, nil, 0.8084649755702387},
		{"multiclass log loss", LogLoss, ym, pm, nil, 0.7102857301335427},
		{"weighted multiclass accuracy", Accuracy, ym, pm, wm, 0.6883677877198398},
		{"weighted multiclass balanced accuracy", BalancedAccuracy, ym, pm, wm, 0.7038831405162876},
		{"weighted multiclass macro F1", F1, ym, pm, wm, 0.6886077238045653},
		{"weighted multiclass ROC AUC", ROCAUC, ym, pm, wm, 0.9136036305445993},
		{"weighted multiclass average precision", PRAUC, ym, pm, wm, 0.8601873399785128},
		{"weighted multiclass log loss", LogLoss, ym, pm, wm, 0.6875793865911285},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f(tt.y, tt.proba, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("got %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestRegressionMatchesSklearn(t *testing.T) {
	tests := []struct {
		name string
		f    func(y, pred, w []float64) (float64, error)
		w    []float64
		want float64
	}{
		{"RMSE", RMSE, nil, 1.6855305791747992},
		{"MAE", MAE, nil, 1.5240000000000002},
		{"R2", R2, nil, 0.33482858538430993},
		{"weighted RMSE", RMSE, wr, 1.6098375756067786},
		{"weighted MAE", MAE, wr, 1.4301064344460572},
		{"weighted R2", R2, wr, 0.4202382165396742},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.f(yr, pr, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tt.want) > tol {
				t.Errorf("got %.17g, want %.17g", got, tt.want)
			}
		})
	}
}

func TestConfusionMatrixMatchesSklearn(t *testing.T) {
	tests := []struct {
		name  string
		y     []int
		proba []float64
		want  [][]int
	}{
		{"binary", yb, binaryProba(p1), [][]int{{14, 1}, {5, 10}}},
		{"multiclass", ym, pm, [][]int{{5, 1, 1}, {2, 5, 2}, {1, 1, 6}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ConfusionMatrix(tt.y, tt.proba)
			if err != nil {
				t.Fatal(err)
			}
			for r := range tt.want {
				for c := range tt.want[r] {
					if got[r][c] != tt.want[r][c] {
						t.Fatalf("got %v, want %v", got, tt.want)
					}
				}
			}
		})
	}
}

func TestCurvesMatchSklearn(t *testing.T) {
	pb := binaryProba(p1)
	// roc_curve(drop_intermediate=False); scikit-learn 1.2 puts max+1 as the
	// first threshold where we put +Inf.
	wantFPR := []float64{0.0, 0.0, 0.0, 0.0, 0.0, 0.06666666666666667, 0.13333333333333333, 0.3333333333333333, 0.5333333333333333, 0.7333333333333333, 0.8, 1.0}
	wantTPR := []float64{0.0, 0.13333333333333333, 0.3333333333333333, 0.4666666666666667, 0.6666666666666666, 0.6666666666666666, 0.9333333333333333, 1.0, 1.0, 1.0, 1.0, 1.0}
	wantThr := []float64{math.Inf(1), 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0}
	roc, err := ROCCurve(yb, pb, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(roc) != len(wantFPR) {
		t.Fatalf("ROC: %d points, want %d", len(roc), len(wantFPR))
	}
	for i, p := range roc {
		if p.Threshold != wantThr[i] || math.Abs(p.FPR-wantFPR[i]) > tol || math.Abs(p.TPR-wantTPR[i]) > tol {
			t.Errorf("ROC point %d = %+v, want thr %v fpr %v tpr %v", i, p, wantThr[i], wantFPR[i], wantTPR[i])
		}
	}

	// precision_recall_curve, reversed to decreasing thresholds.
	wantP := []float64{1.0, 1.0, 1.0, 1.0, 1.0, 0.9090909090909091, 0.875, 0.75, 0.6521739130434783, 0.5769230769230769, 0.5555555555555556, 0.5}
	wantR := wantTPR
	prc, err := PRCurve(yb, pb, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(prc) != len(wantP) {
		t.Fatalf("PR: %d points, want %d", len(prc), len(wantP))
	}
	for i, p := range prc {
		if p.Threshold != wantThr[i] || math.Abs(p.Precision-wantP[i]) > tol || math.Abs(p.Recall-wantR[i]) > tol {
			t.Errorf("PR point %d = %+v, want thr %v precision %v recall %v", i, p, wantThr[i], wantP[i], wantR[i])
		}
	}
}

func TestCalibrationBinsMatchSklearn(t *testing.T) {
	// calibration_curve(n_bins=5); several probabilities lie exactly on
	// bin edges (0.2, 0.4, ...), which go to the lower bin.
	wantObs := []float64{0.0, 0.14285714285714285, 0.6666666666666666, 1.0, 1.0}
	wantPred := []float64{0.09999999999999999, 0.35714285714285715, 0.5166666666666667, 0.74, 0.9400000000000001}
	bins, err := CalibrationBins(yb, binaryProba(p1), 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != len(wantObs) {
		t.Fatalf("%d bins, want %d: %+v", len(bins), len(wantObs), bins)
	}
	total := 0
	for i, b := range bins {
		total += b.Count
		if math.Abs(b.Observed-wantObs[i]) > tol || math.Abs(b.MeanPredicted-wantPred[i]) > tol {
			t.Errorf("bin %d = %+v, want observed %v mean predicted %v", i, b, wantObs[i], wantPred[i])
		}
	}
	if total != len(yb) {
		t.Errorf("bins hold %d rows, want %d", total, len(yb))
	}
}
