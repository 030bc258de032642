package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"modelsmith/app"
)

// modelList collects repeated --model flags.
type modelList []string

func (m *modelList) String() string     { return strings.Join(*m, ",") }
func (m *modelList) Set(v string) error { *m = append(*m, v); return nil }

func runServe(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var models modelList
	fs.Var(&models, "model", "")
	addr := fs.String("addr", "127.0.0.1:8080", "")
	maxBody := fs.Int64("max-body", 8<<20, "")
	timeout := fs.Duration("timeout", 30*time.Second, "")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve takes no positional arguments (got %q); name models with --model", pos[0])
	}
	if len(models) == 0 {
		return usagef("serve needs at least one --model M[@VERSION|@ALIAS] (or NAME=M@...)")
	}
	// A server's live heap is small (~15 MB with a gbdt model) and it
	// allocates a few kB per request: at the default GOGC it collects several
	// times a second, and on two cores the mark worker takes half the CPU
	// while it runs. A 4x larger heap goal costs little memory and cuts that.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// With one P per core, a request that arrives while the Ps are busy (the
	// prediction log's SQLite batch, a GC mark phase) waits in Go's run queue
	// for the running goroutine to yield; with more Ps than cores the kernel
	// time-slices the threads instead and the wait is shorter. Measured with
	// scripts/bench_serve.sh (wrk -t2 -c16 on the same 2 cores): p99 11 ms at
	// GOMAXPROCS=2, 5.4-6.6 ms at 4, 4.0 ms at 8 and 16, throughput within
	// noise (32-37k req/s).
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(4 * runtime.NumCPU())
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	srv, err := s.Serve(ctx, app.ServeOptions{Addr: *addr, Models: models, MaxBodyBytes: *maxBody, RequestTimeout: *timeout,
		Logf: func(format string, args ...any) { fmt.Fprintf(g.env.Stderr, format+"\n", args...) }})
	if err != nil {
		return err
	}
	st := srv.Stats(0)
	for i, name := range srv.Names() {
		fmt.Fprintf(g.env.Stdout, "serving %s at %s/v2/models/%s/infer\n", st.Serving[i], srv.URL(), name)
	}
	auth := "no token needed on loopback until one is created"
	if st.NeedToken {
		auth = "requests need a bearer token"
	}
	fmt.Fprintf(g.env.Stdout, "%s; metrics at %s/metrics, OpenAPI at %s/openapi.json; Ctrl-C or SIGTERM stops\n",
		auth, srv.URL(), srv.URL())
	select {
	case <-ctx.Done():
	case <-waitChan(srv):
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err = srv.Stop(stopCtx)
	st = srv.Stats(0)
	fmt.Fprintf(g.env.Stderr, "stopped: %d requests answered, %d rows logged, %d errors\n", st.Requests, st.Logged, st.Errors)
	if err != nil {
		return fmt.Errorf("stop the server: %w", err)
	}
	return srv.Wait()
}

func waitChan(srv *app.Server) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		_ = srv.Wait()
		close(c)
	}()
	return c
}

func runToken(ctx context.Context, g *globals, args []string) error {
	if len(args) == 0 {
		return usagef("token needs a subcommand: create [--name N] | list [--all] | revoke ID")
	}
	sub := args[0]
	fs := flag.NewFlagSet("token "+sub, flag.ContinueOnError)
	name := fs.String("name", "", "")
	all := fs.Bool("all", false, "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	switch {
	case sub == "create" && len(pos) == 0, sub == "list" && len(pos) == 0, sub == "revoke" && len(pos) == 1:
	default:
		return usagef("token create [--name N] | token list [--all] | token revoke ID")
	}
	s, err := g.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	switch sub {
	case "create":
		info, secret, err := s.CreateToken(ctx, *name)
		if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(g.env.Stdout, map[string]any{"id": info.ID, "name": info.Name, "token": secret})
		}
		fmt.Fprintln(g.env.Stdout, secret)
		fmt.Fprintf(g.env.Stderr, "token %d created; it is shown only now (only its hash is stored). From now on every request to this workspace's servers needs a token.\n", info.ID)
		return nil
	case "revoke":
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil {
			return usagef("token revoke needs a token id (see token list), not %q", pos[0])
		}
		if err := s.RevokeToken(ctx, id); err != nil {
			return err
		}
		fmt.Fprintf(g.env.Stdout, "revoked token %d\n", id)
		return nil
	}
	list, err := s.Tokens(ctx, *all)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONList(g.env.Stdout, list)
	}
	tw := tabwriter.NewWriter(g.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTARTS\tCREATED\tREVOKED")
	for _, t := range list {
		revoked := ""
		if t.RevokedAt != nil {
			revoked = t.RevokedAt.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s…\t%s\t%s\n", t.ID, t.Name, t.Prefix, t.CreatedAt.Local().Format(time.DateTime), revoked)
	}
	return tw.Flush()
}

func runDeployments(ctx context.Context, g *globals, args []string) error {
	fs := flag.NewFlagSet("deployments", flag.ContinueOnError)
	running := fs.Bool("running", false, "")
	return runList(ctx, g, fs, args, func(ctx context.Context, s *app.Studio) ([]app.DeploymentInfo, error) {
		return s.Deployments(ctx, *running)
	}, func(w io.Writer, list []app.DeploymentInfo) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tMODEL\tSERVING\tADDRESS\tSTATUS\tPREDICTIONS\tSTARTED")
		for _, d := range list {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", d.ID, d.Name, d.ModelRef, joinOr([]string{d.Serving}, "-"), d.Address,
				d.Status, d.Predictions, d.StartedAt.Local().Format(time.DateTime))
		}
		return tw.Flush()
	})
}
