package linear

import "modelsmith/ml/learn/learntest"

// The shared test helpers, under the names this package's tests use.
var (
	load               = learntest.LoadNumeric
	predict            = learntest.Predict
	accuracy           = learntest.Accuracy
	auc                = learntest.AUC
	r2                 = learntest.R2
	checkProbabilities = learntest.CheckProbabilities
)
