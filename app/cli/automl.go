package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"modelsmith/app"
)

// budgetFlag is --time: a Go duration (90s, 2m) or a plain number of seconds.
type budgetFlag struct {
	d   time.Duration
	set bool
}

func (b *budgetFlag) String() string { return b.d.String() }

func (b *budgetFlag) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return fmt.Errorf("%q is not a duration (such as 60s or 2m)", v)
		}
		if math.Abs(secs) > math.MaxInt64/float64(time.Second) {
			return fmt.Errorf("%q seconds is too long a time", v)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	b.d, b.set = d, true
	return nil
}

// defaultBudget is the search time when neither --time nor --trials is given.
const defaultBudget = 60 * time.Second

// leaderboardLines is how many rows the final table shows; --json has all.
const leaderboardLines = 20

// automlMemoryLimit is the automl command's soft heap limit (unless
// GOMEMLIMIT is set). A search keeps its finished trials' models for the
// ensemble and the final pick, and the collector's default goal of twice the
// live heap let flights_delay (800k rows) peak at 2.0 GB RSS; near this limit
// the collector works harder instead: 1.46 GB, the same trials and score.
const automlMemoryLimit = 1536 << 20

func runAutoML(ctx context.Context, g *globals, args []string) error {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(automlMemoryLimit)
	}
	fs := flag.NewFlagSet("automl", flag.ContinueOnError)
	var opts app.AutoMLOptions
	var budget budgetFlag
	var families string
	fs.StringVar(&opts.Data, "data", "", "")
	fs.StringVar(&opts.Target, "target", "", "")
	fs.StringVar(&opts.Task, "task", "", "")
	fs.StringVar(&opts.Metric, "metric", "", "")
	fs.Var(&budget, "time", "")
	fs.IntVar(&opts.Trials, "trials", 0, "")
	fs.Uint64Var(&opts.Seed, "seed", 42, "")
	fs.StringVar(&families, "families", "", "")
	fs.IntVar(&opts.Folds, "folds", 0, "")
	fs.StringVar(&opts.Name, "name", "", "")
	fs.Int64Var(&opts.Resume, "resume", 0, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case len(pos) > 0:
		return usagef("automl takes flags only (got %q)", pos[0])
	case set["resume"] && opts.Resume <= 0:
		return usagef("--resume needs the id of an AutoML experiment (see 'modelsmith runs')")
	case opts.Resume > 0 && (set["data"] || set["target"] || set["task"] || set["metric"] || set["families"] ||
		set["folds"] || set["seed"] || set["name"]):
		return usagef("--resume continues a search with its own data, target and settings: give only --time or --trials with it")
	case opts.Resume == 0 && (opts.Data == "" || opts.Target == ""):
		return usagef("automl needs --data N|FILE and --target COL (or --resume EXPERIMENT)")
	case opts.Task != "" && opts.Task != "binary" && opts.Task != "multiclass" && opts.Task != "regression":
		return usagef("--task must be binary, multiclass or regression, not %q", opts.Task)
	case budget.set && budget.d <= 0:
		return usagef("--time %v: the time budget must be above 0", budget.d)
	case opts.Trials < 0:
		return usagef("--trials %d: the trial count must be at least 1", opts.Trials)
	case set["trials"] && opts.Trials == 0:
		return usagef("--trials 0: the trial count must be at least 1")
	case opts.Folds < 0 || opts.Folds == 1:
		return usagef("--folds %d: give 0 (chosen by data size) or at least 2", opts.Folds)
	}
	opts.Budget = budget.d
	if !budget.set && opts.Trials == 0 && opts.Resume == 0 {
		opts.Budget = defaultBudget
	}
	if families != "" {
		for _, f := range strings.Split(families, ",") {
			if f = strings.TrimSpace(f); f != "" {
				opts.Families = append(opts.Families, f)
			}
		}
	}

	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	p := newProgress(g.env.Stderr, "automl")
	live := &liveBoard{w: g.env.Stderr, p: p}
	res, err := s.AutoML(ctx, opts, func(pr app.Progress) {
		// The search reports itself a line per trial, below.
		if pr.Stage != "searching" {
			p.report(pr)
		}
	}, live.event)
	p.done()
	if err != nil {
		if errors.Is(err, context.Canceled) && res.ExperimentID != 0 {
			if *asJSON {
				_ = writeJSON(g.env.Stdout, res)
			} else if len(res.Leaderboard) > 0 {
				printLeaderboard(g.env.Stdout, res)
			}
			kept := 0
			for _, r := range res.Leaderboard {
				if r.Trial >= 0 {
					kept++
				}
			}
			return fmt.Errorf("stopped: the %d finished trials of AutoML search %d are kept; continue it with 'modelsmith automl --resume %d'",
				kept, res.ExperimentID, res.ExperimentID)
		}
		return err
	}
	if *asJSON {
		return writeJSON(g.env.Stdout, res)
	}
	printLeaderboard(g.env.Stdout, res)
	how := "trained on its first fold"
	if res.Refitted {
		how = "refitted on all rows"
	}
	fmt.Fprintf(g.env.Stdout, "registered %s (%s, %s, validation %s %s by %s; %s)\n", res.Model.Ref, res.Model.Algorithm,
		res.Task, res.Metric, score(res.Score), res.Validation, how)
	for _, n := range res.Notes {
		fmt.Fprintf(g.env.Stdout, "note: %s\n", n)
	}
	fmt.Fprintf(g.env.Stdout, "experiment %d: every trial with 'modelsmith runs --experiment %d'\n", res.ExperimentID, res.ExperimentID)
	return nil
}

// liveBoard prints a line per finished trial on stderr: the trial, its
// score and fit time, and the best so far, so that a log shows the search.
type liveBoard struct {
	w       io.Writer
	p       *progress
	started bool
}

func (l *liveBoard) event(ev app.AutoMLEvent) {
	if !l.started {
		l.p.done()
		direction := "higher is better"
		if !ev.Greater {
			direction = "lower is better"
		}
		fmt.Fprintf(l.w, "automl: experiment %d, %s (%s)\n", ev.ExperimentID, ev.Metric, direction)
		l.started = true
	}
	r := ev.Row
	best := ev.Leaderboard[0]
	total := ""
	switch {
	case ev.Budget > 0:
		total = fmt.Sprintf("%5.1fs/%s", ev.Elapsed.Seconds(), ev.Budget)
	case ev.Planned > 0:
		total = fmt.Sprintf("%d/%d", ev.Done, ev.Planned)
	}
	status := ""
	if r.Status != "succeeded" {
		status = " " + r.Status
	}
	fmt.Fprintf(l.w, "trial %3d  %-10s %-8s fit %6.2fs%s  | best #%d %s %s  %s\n", r.Trial, r.Algorithm, score(r.Score),
		r.FitSeconds, status, best.Trial, best.Algorithm, score(best.Score), total)
}

func score(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// printLeaderboard prints the best rows of a search, the final model's among
// them.
func printLeaderboard(w io.Writer, res app.AutoMLResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "RANK\tTRIAL\tALGORITHM\t%s\t±\tFIT\tPREDICT\tSTATUS\tNOTE\n", strings.ToUpper(res.Metric))
	shown := 0
	for _, r := range res.Leaderboard {
		if shown >= leaderboardLines && r.Trial >= 0 {
			continue
		}
		shown++
		rank, trial, std := "-", "final", ""
		if r.Rank > 0 {
			rank = strconv.Itoa(r.Rank)
		}
		if r.Trial >= 0 {
			trial = strconv.Itoa(r.Trial)
		}
		if !math.IsNaN(r.ScoreStd) {
			std = strconv.FormatFloat(r.ScoreStd, 'f', 4, 64)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2fs\t%.1fµs\t%s\t%s\n", rank, trial, r.Algorithm, score(r.Score), std,
			r.FitSeconds, r.PredictMicros, r.Status, r.Note)
	}
	tw.Flush()
	if more := len(res.Leaderboard) - shown; more > 0 {
		fmt.Fprintf(w, "… and %d more trials (--json, or 'modelsmith runs --experiment %d')\n", more, res.ExperimentID)
	}
}

// runExperiments lists the experiments (custom trainings and AutoML
// searches): what can be resumed, and the ids that --resume and
// 'runs --experiment' take.
func runExperiments(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("experiments", flag.ContinueOnError)
	limit := fs.Int("limit", 20, "")
	return runList(ctx, g, fs, args, func(ctx context.Context, s *app.Studio) ([]app.ExperimentInfo, error) {
		return s.Experiments(ctx, *limit)
	}, func(w io.Writer, list []app.ExperimentInfo) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "EXP\tKIND\tDATASET\tTARGET\tTASK\tSTATUS\tRUNS\tBEST\tBUDGET\tCREATED")
		resumable := 0
		for _, e := range list {
			best, budget := "", ""
			if e.BestScore != nil {
				best = fmt.Sprintf("%s %.4f", e.Metric, *e.BestScore)
			}
			if e.BudgetSeconds > 0 {
				budget = (time.Duration(e.BudgetSeconds * float64(time.Second))).String()
			}
			if e.Kind == "automl" && (e.Status == "interrupted" || e.Status == "cancelled" || e.Status == "failed") {
				resumable++
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", e.ID, e.Kind, e.Dataset, e.Target, e.Task, e.Status,
				e.Runs, best, budget, e.CreatedAt.Local().Format(time.DateTime))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if resumable > 0 {
			fmt.Fprintln(w, "an interrupted, cancelled or failed AutoML search continues with 'modelsmith automl --resume EXP'")
		}
		return nil
	})
}
