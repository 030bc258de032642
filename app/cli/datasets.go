package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"modelsmith/app"
	"modelsmith/ml/data"
)

func runImport(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	name := fs.String("name", "", "")
	format := fs.String("format", "", "")
	delim := fs.String("delimiter", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("import needs exactly one PATH (got %d)", len(pos))
	}
	opts := app.ImportOptions{Name: *name, Format: data.Format(strings.ToLower(*format))}
	if *delim != "" {
		d := *delim
		if d == `\t` || d == "tab" {
			d = "\t"
		}
		r, size := utf8.DecodeRuneInString(d)
		if size != len(d) {
			return usagef("--delimiter must be one character (or \\t), got %q", *delim)
		}
		opts.Delimiter = r
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	p := newProgress(g.env.Stderr, "import")
	res, err := s.ImportDataset(ctx, pos[0], opts, p.report)
	p.done()
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.env.Stdout, res)
	}
	d := res.Dataset
	if res.Unchanged {
		fmt.Fprintf(g.env.Stdout, "%s already holds this content: nothing imported (%d rows, %d columns)\n", d.Ref, d.Rows, d.Columns)
	} else {
		fmt.Fprintf(g.env.Stdout, "imported %s: %d rows, %d columns, %s stored\n", d.Ref, d.Rows, d.Columns, app.FormatBytes(d.StoredBytes))
	}
	if len(res.SameContent) > 0 {
		fmt.Fprintf(g.env.Stdout, "same content as: %s\n", strings.Join(res.SameContent, ", "))
	}
	return nil
}

func runDatasets(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("datasets", flag.ContinueOnError)
	return runList(ctx, g, fs, args, func(ctx context.Context, s *app.Studio) ([]app.Dataset, error) {
		return s.Datasets(ctx)
	}, func(w io.Writer, list []app.Dataset) error {
		if len(list) == 0 {
			fmt.Fprintln(w, "no datasets yet: add one with 'modelsmith import PATH'")
			return nil
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "DATASET\tROWS\tCOLUMNS\tSTORED\tCREATED\tSOURCE")
		for _, d := range list {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", d.Ref, d.Rows, d.Columns, app.FormatBytes(d.StoredBytes),
				d.CreatedAt.Local().Format(time.DateTime), d.Source)
		}
		return tw.Flush()
	})
}

func runDataset(ctx context.Context, g *globals, args []string) error {
	if len(args) == 0 {
		return usagef("dataset needs a subcommand: show or rm")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("dataset "+sub, flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if sub != "show" && sub != "rm" {
		return usagef("unknown dataset subcommand %q (want show or rm)", sub)
	}
	if len(pos) != 1 {
		return usagef("dataset %s needs exactly one NAME[@VERSION] (got %d)", sub, len(pos))
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if sub == "rm" {
		removed, err := s.DeleteDataset(ctx, pos[0])
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(g.env.Stdout, map[string]any{"removed": removed})
		}
		for _, d := range removed {
			fmt.Fprintf(g.env.Stdout, "removed %s (%d rows)\n", d.Ref, d.Rows)
		}
		return nil
	}
	d, err := s.Dataset(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.env.Stdout, d)
	}
	return printDataset(g.env.Stdout, d)
}

func printDataset(w io.Writer, d app.DatasetDetail) error {
	fmt.Fprintf(w, "%s  %d rows × %d columns  (%s, %s)\n", d.Ref, d.Rows, d.Columns, d.Format, app.FormatBytes(d.StoredBytes))
	fmt.Fprintf(w, "source   %s\ncreated  %s\nsha256   %s\n\n", d.Source, d.CreatedAt.Local().Format(time.DateTime), d.Hash)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tCOLUMN\tTYPE\tMISSING\tDISTINCT\tSUMMARY\tNOTE")
	for _, c := range d.Schema {
		p := c.Profile
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%s\t%s\n", c.Position+1, c.Name, c.Type, p.Missing, p.Distinct, c.Summary(), c.Hint)
	}
	return tw.Flush()
}

func runJobs(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	limit := fs.Int("limit", 20, "")
	return runList(ctx, g, fs, args, func(ctx context.Context, s *app.Studio) ([]app.Job, error) {
		return s.Jobs(ctx, *limit)
	}, func(w io.Writer, list []app.Job) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "JOB\tKIND\tSTATUS\tSTARTED\tCPU\tTITLE\tERROR")
		for _, j := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%.1fs\t%s\t%s\n", j.ID, j.Kind, j.Status,
				j.StartedAt.Local().Format(time.DateTime), j.CPUSeconds, j.Title, j.Error)
		}
		return tw.Flush()
	})
}

// runList runs a list command: its flags on fs (--json is added here), no
// positional arguments, the list read by fetch once the flags are parsed,
// then written as a JSON array (--json) or by table.
func runList[T any](ctx context.Context, g *globals, fs *flag.FlagSet, args []string,
	fetch func(context.Context, *app.Studio) ([]T, error), table func(w io.Writer, list []T) error) error {
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("%s takes no arguments (got %q)", fs.Name(), pos[0])
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	list, err := fetch(ctx, s)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONList(g.env.Stdout, list)
	}
	return table(g.env.Stdout, list)
}

// writeJSONList writes a list as a JSON array: an empty list is [], not null,
// so that programs can iterate over it without a check.
func writeJSONList[T any](w io.Writer, list []T) error {
	if list == nil {
		list = []T{}
	}
	return writeJSON(w, list)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
