package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"modelsmith/app"
)

// settings collects repeated --set key=value flags.
type settings map[string]string

func (s settings) String() string { return fmt.Sprint(map[string]string(s)) }

func (s settings) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	s[k] = val
	return nil
}

func runTrain(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	opts := app.TrainOptions{Params: settings{}}
	fs.StringVar(&opts.Data, "data", "", "")
	fs.StringVar(&opts.Target, "target", "", "")
	fs.StringVar(&opts.Task, "task", "", "")
	fs.StringVar(&opts.Algorithm, "algo", "", "")
	fs.Var(settings(opts.Params), "set", "")
	fs.StringVar(&opts.Name, "name", "", "")
	fs.Uint64Var(&opts.Seed, "seed", 42, "")
	fs.Float64Var(&opts.Holdout, "holdout", app.DefaultHoldout, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("train takes flags only (got %q)", pos[0])
	case opts.Data == "" || opts.Target == "" || opts.Algorithm == "":
		return usagef("train needs --data, --target and --algo (see 'modelsmith algorithms')")
	case opts.Task != "" && opts.Task != "binary" && opts.Task != "multiclass" && opts.Task != "regression":
		return usagef("--task must be binary, multiclass or regression, not %q", opts.Task)
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	p := newProgress(g.env.Stderr, "train")
	res, err := s.Train(ctx, opts, p.report)
	p.done()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.env.Stdout, res)
	}
	fmt.Fprintf(g.env.Stdout, "registered %s (%s, %s, run %d)\n", res.Model.Ref, res.Model.Algorithm, res.Model.Task, res.RunID)
	printMetrics(g.env.Stdout, "held-out", res.Metrics)
	return nil
}

func printMetrics(w io.Writer, label string, m map[string]float64) {
	for _, name := range app.SortedMetricNames(m) {
		fmt.Fprintf(w, "  %s %-18s %.6g\n", label, name, m[name])
	}
}

func runAlgorithms(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("algorithms", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	specs := app.Algorithms()
	if *asJSON {
		type param struct {
			Name, Kind, Default, Valid, Help string
		}
		type algo struct {
			Name, Help string
			Params     []param
		}
		var out []algo
		for _, s := range specs {
			a := algo{Name: s.Name, Help: s.Help}
			for _, p := range s.Params {
				a.Params = append(a.Params, param{p.Name, p.Kind, p.Default, p.Describe(), p.Help})
			}
			out = append(out, a)
		}
		return writeJSON(g.env.Stdout, out)
	}
	for _, s := range specs {
		fmt.Fprintf(g.env.Stdout, "%s — %s\n", s.Name, s.Help)
		tw := tabwriter.NewWriter(g.env.Stdout, 0, 0, 2, ' ', 0)
		for _, p := range s.Params {
			fmt.Fprintf(tw, "  --set %s=%s\t%s\t%s\n", p.Name, p.Default, p.Describe(), p.Help)
		}
		tw.Flush()
		fmt.Fprintln(g.env.Stdout)
	}
	return nil
}

func runRuns(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("runs", flag.ContinueOnError)
	exp := fs.Int64("experiment", 0, "")
	limit := fs.Int("limit", 50, "")
	return runList(ctx, g, fs, args, func(ctx context.Context, s *app.Studio) ([]app.RunInfo, error) {
		return s.Runs(ctx, *exp, *limit)
	}, func(w io.Writer, runs []app.RunInfo) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "RUN\tEXP\tALGORITHM\tDATASET\tTARGET\tSTATUS\tSCORE\tFIT\tCPU")
		for _, r := range runs {
			score := ""
			if r.Score != nil {
				score = fmt.Sprintf("%s %.4f", r.Metric, *r.Score)
			}
			fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%.1fs\t%.1fs\n", r.ID, r.Experiment, r.Algorithm, r.Dataset, r.Target,
				r.Status, score, r.FitSeconds, r.CPUSeconds)
		}
		return tw.Flush()
	})
}

func runModels(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	return runList(ctx, g, fs, args, func(ctx context.Context, s *app.Studio) ([]app.ModelInfo, error) {
		return s.Models(ctx)
	}, func(w io.Writer, list []app.ModelInfo) error {
		if len(list) == 0 {
			fmt.Fprintln(w, "no models yet: train one with 'modelsmith train --data D --target T --algo gbdt'")
			return nil
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "MODEL\tALGORITHM\tTASK\tSTAGE\tDATASET\tSIZE\tCREATED")
		for _, m := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Ref, m.Algorithm, m.Task, m.Stage, m.DatasetRef,
				app.FormatBytes(m.Bytes), m.CreatedAt.Local().Format(time.DateTime))
		}
		return tw.Flush()
	})
}

func runModel(ctx context.Context, g *globals, args []string) error {
	if len(args) > 0 && args[0] == "alias" {
		return runModelAlias(ctx, g, args[1:]) // export.go
	}
	if len(args) == 0 || args[0] != "show" {
		return usagef("model needs a subcommand: model show NAME[@VERSION] or model alias")
	}
	fs := flag.NewFlagSet("model show", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("model show needs exactly one NAME[@VERSION] (got %d)", len(pos))
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	m, err := s.Model(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.env.Stdout, m)
	}
	fmt.Fprintf(g.env.Stdout, "%s  %s %s  stage %s  (%s)\n", m.Ref, m.Algorithm, m.Task, m.Stage, app.FormatBytes(m.Bytes))
	fmt.Fprintf(g.env.Stdout, "trained on %s, run %d, %s\n", m.DatasetRef, m.RunID, m.CreatedAt.Local().Format(time.DateTime))
	printMetrics(g.env.Stdout, "held-out", m.Metrics)
	for _, k := range []string{"target", "params", "seed", "fit_seconds", "cpu_seconds", "peak_memory_bytes", "code_version"} {
		if v, ok := m.Card[k]; ok {
			fmt.Fprintf(g.env.Stdout, "  %-18s %v\n", k, v)
		}
	}
	printCardExtras(g.env.Stdout, m.Card)
	return nil
}

// showImportance is how many features model show lists by importance.
const showImportance = 10

// printCardExtras writes what an AutoML model card adds: the permutation
// importance of the top features and the ensemble's members.
func printCardExtras(w io.Writer, card map[string]any) {
	if imp, ok := app.CardImportance(card); ok {
		fmt.Fprintf(w, "permutation importance (top %d of %d features):\n", min(len(imp), showImportance), len(imp))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, fi := range imp[:min(len(imp), showImportance)] {
			fmt.Fprintf(tw, "  %s\t%s\t± %s\n", fi.Feature, app.FormatNumber(fi.Mean), app.FormatNumber(fi.Std))
		}
		tw.Flush()
	}
	if members, ok := app.CardEnsemble(card); ok && len(members) > 0 {
		fmt.Fprintf(w, "ensemble of %d members:\n", len(members))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, mb := range members {
			fmt.Fprintf(tw, "  trial %d\t%s\tweight %s\n", mb.Trial, mb.Algorithm, app.FormatNumber(mb.Weight))
		}
		tw.Flush()
	}
}

func runEvaluate(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	modelRef := fs.String("model", "", "")
	dataRef := fs.String("data", "", "")
	asJSON := fs.Bool("json", false, "")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *modelRef == "" || *dataRef == "" {
		return usagef("evaluate needs --model M and --data N|FILE")
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	p := newProgress(g.env.Stderr, "evaluate")
	ev, err := s.Evaluate(ctx, *modelRef, *dataRef, p.report)
	p.done()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.env.Stdout, ev)
	}
	fmt.Fprintf(g.env.Stdout, "%s on %s (%d rows)\n", ev.Model, ev.Data, ev.Rows)
	printMetrics(g.env.Stdout, "", ev.Metrics)
	if ev.Confusion != nil {
		fmt.Fprintln(g.env.Stdout, "confusion matrix (rows: true class, columns: predicted):")
		tw := tabwriter.NewWriter(g.env.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "\t")
		for _, c := range ev.Classes {
			fmt.Fprintf(tw, "%s\t", c)
		}
		fmt.Fprintln(tw)
		for i, row := range ev.Confusion {
			fmt.Fprintf(tw, "%s\t", ev.Classes[i])
			for _, n := range row {
				fmt.Fprintf(tw, "%d\t", n)
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
	return nil
}

func runPredict(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	modelRef := fs.String("model", "", "")
	dataRef := fs.String("data", "", "")
	outPath := fs.String("out", "", "")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 || *modelRef == "" || *dataRef == "" {
		return usagef("predict needs --model M and --data N|FILE (and optionally --out FILE)")
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	p := newProgress(g.env.Stderr, "predict")
	res, err := s.Predict(ctx, *modelRef, *dataRef, p.report)
	p.done()
	if err != nil {
		return err
	}
	if len(res.Ignored) > 0 {
		fmt.Fprintf(g.env.Stderr, "predict: columns not used by %s: %s\n", res.Model.Ref, strings.Join(res.Ignored, ", "))
	}
	w := g.env.Stdout
	var f *os.File
	if *outPath != "" {
		// Write beside the target and rename, so a cancelled or failed
		// predict never leaves a half-written file under the name asked for.
		if f, err = os.CreateTemp(dirOf(*outPath), ".predict-*.csv"); err != nil {
			return err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := res.WriteCSV(ctx, bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f != nil {
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Rename(f.Name(), *outPath); err != nil {
			return err
		}
		fmt.Fprintf(g.env.Stderr, "predict: wrote %d rows to %s\n", res.Input.Rows(), *outPath)
	}
	return nil
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i+1]
	}
	return "."
}
