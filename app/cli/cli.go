// Package cli is Modelsmith's command line: a thin adapter that parses
// arguments, calls the use cases of app.Studio and prints their results —
// tables for people, --json for programs — with progress on stderr.
//
// Exit codes: 0 ok, 1 failure, 2 usage error. It must not import views or Fyne;
// the desktop app is reached through Env.GUI.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"modelsmith/app"
)

// Exit codes.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Env is what the CLI talks to.
type Env struct {
	Stdout, Stderr io.Writer
	// GUI opens the desktop app with these options and returns the exit code.
	// It is called when no command is given; nil means this build has none.
	GUI func(opts app.Options) int
}

// usageError marks a mistake in the command line itself.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type command struct {
	name    string
	args    string
	summary string
	run     func(ctx context.Context, g *globals, args []string) error
}

// commands are the commands that exist. A command appears here, and so in
// --help, only once it works.
var commands = []command{
	{"import", "PATH [--name N] [--format F] [--delimiter C]", "import a data file (CSV, TSV, JSON lines, Parquet, XLSX, ARFF; .gz too)", runImport},
	{"datasets", "", "list the datasets in the workspace", runDatasets},
	{"dataset", "show|rm NAME[@VERSION]", "a dataset's schema and column profiles, or delete it", runDataset},
	{"algorithms", "", "the learning algorithms and their hyperparameters", runAlgorithms},
	{"train", "--data N|FILE --target COL --algo A [--set k=v]... [--name M]", "train a model and register it as M@version", runTrain},
	{"automl", "--data N|FILE --target COL [--time T] [--name M] [--resume E]", "search models in a time budget, register the best as M@version", runAutoML},
	{"experiments", "[--limit N]", "trainings and AutoML searches, newest first", runExperiments},
	{"runs", "[--experiment E] [--limit N]", "training runs, newest first", runRuns},
	{"models", "", "the registered models", runModels},
	{"model", "show NAME[@VERSION] | alias [NAME[@V] ALIAS]", "a model's metrics and lineage; aliases such as prod", runModel},
	{"evaluate", "--model M --data N|FILE", "score a model on labelled data", runEvaluate},
	{"predict", "--model M --data N|FILE [--out FILE]", "predictions as CSV: inputs, prediction, proba_<class>", runPredict},
	{"jobs", "[--limit N]", "recent background jobs and how they ended", runJobs},
	{"export", "--model M --format native|onnx --out FILE", "write a model version to a file: native (re-importable) or ONNX", runExport},
	{"import-model", "FILE [--name N]", "register a model from an exported file", runImportModel},
	{"serve", "--model M[@V|@ALIAS]... [--addr 127.0.0.1:8080]", "serve models over HTTP (KServe OIP v2, /predict, /metrics)", runServe},
	{"token", "create [--name N] | list [--all] | revoke ID", "bearer tokens for the inference server", runToken},
	{"deployments", "[--running]", "inference servers and the predictions they logged", runDeployments},
}

type globals struct {
	env  Env
	opts app.Options
}

// Main runs the command line args (without the program name) and returns the
// exit code. ctx is cancelled on Ctrl-C by the caller.
func Main(ctx context.Context, args []string, env Env) int {
	g := &globals{env: env}
	fs := flag.NewFlagSet("modelsmith", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.opts.Path, "workspace", "", "")
	fs.BoolVar(&g.opts.Empty, "empty", false, "")
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	if err := fs.Parse(args); err != nil {
		return fail(env, usagef("%v", err))
	}
	rest := fs.Args()
	if *help || len(rest) > 0 && rest[0] == "help" {
		printUsage(env.Stdout)
		return ExitOK
	}
	if len(rest) == 0 {
		if env.GUI == nil {
			return fail(env, usagef("no command given"))
		}
		return env.GUI(g.opts)
	}
	for _, c := range commands {
		if c.name == rest[0] {
			return fail(env, c.run(ctx, g, rest[1:]))
		}
	}
	return fail(env, usagef("unknown command %q", rest[0]))
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Modelsmith: a desktop machine-learning studio.

Usage:
  modelsmith [--workspace FILE] [--empty]            open the desktop app
  modelsmith [--workspace FILE] [--empty] COMMAND [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %-62s %s\n", c.name, c.args, c.summary)
	}
	fmt.Fprintf(w, `
Every command takes --json for machine-readable output.

Global flags:
  --workspace FILE   the workspace file (default: $%s, else
                     default.modelsmith in your config directory)
  --empty            create a new workspace without the sample datasets

Exit codes: 0 ok, 1 failure, 2 usage error. Progress goes to stderr; Ctrl-C
cancels the running command and leaves the workspace as it was.
`, app.EnvWorkspace)
}

// fail prints err (if any) as one line and returns the exit code for it.
func fail(env Env, err error) int {
	if err == nil {
		return ExitOK
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "modelsmith: %v\nRun 'modelsmith --help' for usage.\n", err)
		return ExitUsage
	case errors.Is(err, app.ErrUsage):
		fmt.Fprintf(env.Stderr, "modelsmith: %v\n", err)
		return ExitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(env.Stderr, "modelsmith: cancelled; the workspace is unchanged\n")
		return ExitFailure
	}
	fmt.Fprintf(env.Stderr, "modelsmith: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	return ExitFailure
}

// open opens the Studio for a command, reporting sample seeding and jobs that
// a dead process left behind.
func (g *globals) open(ctx context.Context) (*app.Studio, error) {
	// Only a new workspace reports progress: while it adds the samples.
	s, err := app.Open(ctx, g.opts, func(p app.Progress) {
		if p.Stage == "reading" && p.Fraction == 0 {
			fmt.Fprintf(g.env.Stderr, "new workspace: adding sample data (%s)\n", p.Message)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, j := range s.Interrupted() {
		fmt.Fprintf(g.env.Stderr, "note: job %d (%s) was interrupted: %s\n", j.ID, j.Title, j.Error)
	}
	return s, nil
}

// parseFlags parses flags that may come before, between or after the
// positional arguments, which it returns.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// isTerminal reports whether w is a character device (a terminal), where
// progress can redraw one line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
