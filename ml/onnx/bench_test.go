package onnx

import (
	"testing"

	"modelsmith/ml/learn/gbdt"
	"modelsmith/ml/prep"
)

// BenchmarkExportGBDT: exporting a 100-tree gbdt pipeline of adult (about
// 3,000 tree nodes and categorical sets) to bytes.
func BenchmarkExportGBDT(b *testing.B) {
	s := loadSplit(b, "adult", 3000, 10)
	p := trainPipeline(b, s, inferTask(s), gbdt.Spec, map[string]string{"n_estimators": "100"}, prep.TreePrep())
	b.ReportAllocs()
	var n int
	for b.Loop() {
		out, err := Export(p)
		if err != nil {
			b.Fatal(err)
		}
		n = len(out)
	}
	b.ReportMetric(float64(n), "bytes/model")
}
