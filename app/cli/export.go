package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

func runExport(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	ref := fs.String("model", "", "")
	format := fs.String("format", "native", "")
	out := fs.String("out", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("export takes no positional arguments (got %q)", pos[0])
	}
	if *ref == "" || *out == "" {
		return usagef("export needs --model M[@VERSION|@ALIAS] and --out FILE")
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	info, err := s.ExportModelFile(ctx, *ref, *format, *out)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.env.Stdout, map[string]any{"model": info.Ref, "format": *format, "file": *out})
	}
	fmt.Fprintf(g.env.Stdout, "exported %s (%s) to %s\n", info.Ref, *format, *out)
	return nil
}

func runImportModel(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("import-model", flag.ContinueOnError)
	name := fs.String("name", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("import-model needs exactly one FILE (got %d)", len(pos))
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	info, err := s.ImportModel(ctx, pos[0], *name)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(g.env.Stdout, info)
	}
	fmt.Fprintf(g.env.Stdout, "registered %s (%s %s) from %s\n", info.Ref, info.Algorithm, info.Task, pos[0])
	return nil
}

// runModelAlias is "model alias": list aliases, point one at a version, or
// remove one.
func runModelAlias(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("model alias", flag.ContinueOnError)
	rm := fs.Bool("rm", false, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 2 || *rm && len(pos) != 2 {
		return usagef("model alias [NAME] | model alias NAME[@VERSION] ALIAS | model alias --rm NAME ALIAS")
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	switch {
	case *rm:
		if err := s.RemoveModelAlias(ctx, pos[0], pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(g.env.Stdout, "removed %s@%s\n", pos[0], pos[1])
		return nil
	case len(pos) == 2:
		a, err := s.SetModelAlias(ctx, pos[0], pos[1])
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(g.env.Stdout, a)
		}
		fmt.Fprintf(g.env.Stdout, "%s@%s → %s@%d\n", a.Model, a.Alias, a.Model, a.Version)
		return nil
	}
	name := ""
	if len(pos) == 1 {
		name = pos[0]
	}
	list, err := s.ModelAliases(ctx, name)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONList(g.env.Stdout, list)
	}
	tw := tabwriter.NewWriter(g.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ALIAS\tVERSION\tUPDATED")
	for _, a := range list {
		fmt.Fprintf(tw, "%s@%s\t%d\t%s\n", a.Model, a.Alias, a.Version, a.UpdatedAt.Local().Format(time.DateTime))
	}
	return tw.Flush()
}

func joinOr(list []string, none string) string {
	if len(list) == 0 {
		return none
	}
	return strings.Join(list, ", ")
}
