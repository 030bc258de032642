package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/learn/gbdt"
	"modelsmith/ml/metrics"
	"modelsmith/ml/prep"
)

func main() {
	ctx := context.Background()
	name, target := os.Args[1], os.Args[2]
	st := time.Now()
	tr, err := data.ReadFile(ctx, "../shared/datasets/"+name+"/train.csv.gz", data.ReadOptions{})
	if err != nil {
		panic(err)
	}
	te, _ := data.ReadFile(ctx, "../shared/datasets/"+name+"/test.csv.gz", data.ReadOptions{})
	fmt.Println("read", time.Since(st))
	var feats []string
	for _, c := range tr.Columns {
		if c.Name != target {
			feats = append(feats, c.Name)
		}
	}
	y, yt := tr.Column(target).Num, te.Column(target).Num
	st = time.Now()
	p, X, _ := prep.Fit(ctx, tr, feats, y, 2, prep.TreePrep(), 1)
	V, _ := p.Transform(te)
	fmt.Println("prep", time.Since(st))
	for _, a := range os.Args[3:] {
		v := map[string]string{}
		for _, kv := range strings.Split(a, ",") {
			k, x, _ := strings.Cut(kv, "=")
			v[k] = x
		}
		Xs, ys := X, y
		if n := v["sample"]; n != "" {
			var k int
			fmt.Sscan(n, &k)
			Xs = &learn.Features{Rows: k}
			for _, c := range X.Cols {
				c2 := c
				if c.Num != nil {
					c2.Num = c.Num[:k]
				} else {
					c2.Codes = c.Codes[:k]
				}
				Xs.Cols = append(Xs.Cols, c2)
			}
			ys = y[:k]
			delete(v, "sample")
		}
		vals, err := gbdt.Spec.Values(v)
		if err != nil {
			panic(err)
		}
		l, _ := gbdt.Spec.New(vals)
		st := time.Now()
		m, err := l.Fit(ctx, learn.Dataset{X: Xs, Y: ys, Classes: 2}, learn.Options{Seed: 1})
		if err != nil {
			panic(err)
		}
		fit := time.Since(st)
		out := make([]float64, V.Rows*2)
		m.Predict(V, out)
		auc, _ := metrics.Score("roc_auc", yt, out, 2)
		fmt.Printf("%v auc=%.4f fit %.1fs\n", v, auc, fit.Seconds())
	}
}
