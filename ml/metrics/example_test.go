package metrics_test

import (
	"fmt"

	"modelsmith/ml/metrics"
)

func ExampleROCAUC() {
	y := []int{0, 0, 1, 1}
	// Rows of (P(class 0), P(class 1)).
	proba := []float64{
		0.9, 0.1,
		0.6, 0.4,
		0.65, 0.35,
		0.2, 0.8,
	}
	auc, err := metrics.ROCAUC(y, proba, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4f\n", auc)
	// Output: 0.7500
}

func ExampleScore() {
	// Targets and outputs as AutoML holds them: class indices as float64
	// and a predictor's n×K probabilities.
	y := []float64{0, 1, 2, 1}
	out := []float64{
		0.7, 0.2, 0.1,
		0.1, 0.8, 0.1,
		0.3, 0.3, 0.4,
		0.5, 0.4, 0.1,
	}
	name := metrics.Default(metrics.Multiclass)
	acc, _ := metrics.Score(name, y, out, 3)
	fmt.Printf("%s %.4f\n", name, acc)
	_, err := metrics.Score("auc", y, out, 3)
	fmt.Println(err)
	// Output:
	// accuracy 0.7500
	// metrics: unknown multiclass metric "auc"; valid: accuracy, roc_auc, balanced_accuracy, f1, pr_auc, log_loss
}

func ExampleR2() {
	y := []float64{3, -0.5, 2, 7}
	pred := []float64{2.5, 0.0, 2, 8}
	r2, _ := metrics.R2(y, pred, nil)
	rmse, _ := metrics.RMSE(y, pred, nil)
	fmt.Printf("R² %.4f RMSE %.4f\n", r2, rmse)
	// Output: R² 0.9486 RMSE 0.6124
}

func ExampleConfusionMatrix() {
	y := []int{0, 1, 1, 0}
	proba := []float64{0.8, 0.2, 0.3, 0.7, 0.6, 0.4, 0.9, 0.1}
	m, _ := metrics.ConfusionMatrix(y, proba)
	fmt.Println(m)
	// Output: [[2 0] [1 1]]
}
