// Command quality measures AutoML on the public datasets: for each one it
// runs a search on train.csv (a time budget and/or a trial count), scores
// the final model on test.csv and prints our test metric beside the best
// peer's from ../shared/bench. It is a measuring tool, not a test:
//
//	go run ./ml/automl/internal/quality -time 60s
//	go run ./ml/automl/internal/quality -trials 20 -data iris,diabetes
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"modelsmith/ml/automl"
	"modelsmith/ml/data"
	"modelsmith/ml/metrics"
	"modelsmith/ml/model"
)

// peers are the best peer test scores in ../shared/bench/README.md (and the
// TF-IDF + linear baseline for sms_spam).
var peers = map[string]float64{
	"iris": 0.9667, "breast_cancer": 0.996, "diabetes": 0.4541, "adult": 0.9311,
	"california_housing": 0.8399, "flights_delay": 0.7784, "sms_spam": 0.9920,
}

var order = []string{"iris", "breast_cancer", "diabetes", "sms_spam", "adult", "california_housing", "flights_delay"}

var targets = map[string]string{
	"iris": "species", "breast_cancer": "diagnosis", "diabetes": "progression", "adult": "income",
	"california_housing": "median_house_value", "flights_delay": "delayed", "sms_spam": "label",
}

func main() {
	dir := flag.String("datasets", "../shared/datasets", "folder of the public datasets")
	names := flag.String("data", strings.Join(order, ","), "comma-separated dataset names")
	budget := flag.Duration("time", 0, "time budget per dataset")
	trials := flag.Int("trials", 0, "trial count per dataset")
	seed := flag.Uint64("seed", 1, "seed")
	fams := flag.String("families", "", "comma-separated families (default all)")
	verbose := flag.Bool("v", false, "print every trial")
	flag.Parse()
	if *budget == 0 && *trials == 0 {
		*budget = 60 * time.Second
	}
	fmt.Printf("%-20s %-10s %8s %8s %8s %7s %6s %6s  %s\n", "dataset", "metric", "ours", "peer", "need", "ok", "trials", "secs", "best")
	for _, name := range strings.Split(*names, ",") {
		if err := one(*dir, name, *budget, *trials, *seed, *fams, *verbose); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		}
	}
}

func read(dir, name, split string) (*data.Frame, error) {
	for _, f := range []string{split + ".csv", split + ".csv.gz"} {
		p := filepath.Join(dir, name, f)
		if _, err := os.Stat(p); err == nil {
			return data.ReadFile(context.Background(), p, data.ReadOptions{})
		}
	}
	return nil, fmt.Errorf("no %s file", split)
}

func one(dir, name string, budget time.Duration, trials int, seed uint64, fams string, verbose bool) error {
	started := time.Now()
	train, err := read(dir, name, "train")
	if err != nil {
		return err
	}
	test, err := read(dir, name, "test")
	if err != nil {
		return err
	}
	cfg := automl.Config{Budget: budget - time.Since(started), Trials: trials, Seed: seed}
	if budget == 0 {
		cfg.Budget = 0
	}
	if fams != "" {
		cfg.Families = strings.Split(fams, ",")
	}
	var ms runtime.MemStats
	res, err := automl.Run(context.Background(), train, targets[name], cfg, func(e automl.Event) {
		if verbose {
			t := e.Trial
			fmt.Fprintf(os.Stderr, "  %3d %-7s %-9s %.4f ±%.4f %6.2fs %s %v %s\n", t.Index, t.Algorithm, t.Status, t.Score, t.ScoreStd, t.FitSeconds, e.Elapsed.Round(time.Millisecond), t.Params, t.Error)
		}
	})
	if err != nil {
		return err
	}
	secs := time.Since(started).Seconds()
	runtime.ReadMemStats(&ms)
	out, err := res.Best.Predict(context.Background(), test)
	if err != nil {
		return err
	}
	col := test.Column(targets[name])
	classes := len(res.Best.Classes)
	var y []float64
	metric := "r2"
	if res.Task == model.Regression {
		y = col.Num
		classes = 0
	} else {
		metric = "roc_auc"
		if res.Task == model.Multiclass {
			metric = "accuracy"
		}
		for i := range col.Len() {
			k := slices.Index(res.Best.Classes, col.Format(i))
			if k < 0 {
				return fmt.Errorf("test label %q unknown", col.Format(i))
			}
			y = append(y, float64(k))
		}
	}
	score, err := metrics.Score(metric, y, out, classes)
	if err != nil {
		return err
	}
	tol := 0.005
	if metric == "r2" {
		tol = 0.01
	}
	if n := col.Len(); n < 1000 {
		tol = max(tol, 1/float64(n))
	}
	need := peers[name] - tol
	ok := "yes"
	if score < need-1e-12 || math.IsNaN(score) {
		ok = "NO"
	}
	best := res.Best.Meta["algorithm"]
	fmt.Printf("%-20s %-10s %8.4f %8.4f %8.4f %7s %6d %6.1f  %s refit=%v val=%.4f (%s) heap=%dMB\n", name, metric, score, peers[name], need, ok,
		len(res.Trials), secs, best, res.Refitted, res.Score, res.Validation, ms.HeapSys>>20)
	for _, n := range res.Notes {
		fmt.Printf("    note: %s\n", n)
	}
	return nil
}
