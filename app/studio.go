// Package app holds Modelsmith's use cases. A Studio owns one open workspace and
// offers every operation the desktop app and the CLI perform — import, list,
// inspect, preview, delete datasets; later train, evaluate, serve — each as a
// method taking a context (for cancellation) and a progress callback. Views and
// CLI commands are thin adapters over it.
//
// app imports ml/... and storage and translates between them; it must not import
// views or Fyne.
package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"modelsmith/app/jobs"
	"modelsmith/resources"
	"modelsmith/storage"
)

// Progress is one report from a running use case.
type Progress = jobs.Progress

// Job is a row of the workspace's job list.
type Job = storage.Job

// Options say which workspace a Studio opens and how.
type Options struct {
	// Path of the workspace file; "" means DefaultPath().
	Path string
	// Empty leaves a newly created workspace without the sample datasets.
	Empty bool
}

// EnvWorkspace is the environment variable that names the workspace file when
// no --workspace flag is given.
const EnvWorkspace = "MODELSMITH_WORKSPACE"

// DefaultPath is $MODELSMITH_WORKSPACE if set, else default.modelsmith in the
// user's config directory (for example ~/.config/Modelsmith on Linux).
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvWorkspace); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the default workspace: %w (use --workspace FILE or %s)", err, EnvWorkspace)
	}
	return filepath.Join(dir, "Modelsmith", "default.modelsmith"), nil
}

// Studio is an open workspace and the use cases on it. Its methods are safe for
// concurrent use.
type Studio struct {
	ws          *storage.Workspace
	runner      *jobs.Runner
	interrupted []Job
}

// settingSamples records whether a workspace got its samples, so that a first
// start cut short (Ctrl-C during seeding) seeds again next time.
const settingSamples = "workspace.samples"

// Open opens (or creates) the workspace and returns its Studio. Jobs left
// running by a process that has died are marked interrupted. A new workspace is
// seeded with the sample datasets unless opts.Empty; progress reports that.
func Open(ctx context.Context, opts Options, progress func(Progress)) (*Studio, error) {
	path := opts.Path
	if path == "" {
		var err error
		if path, err = DefaultPath(); err != nil {
			return nil, err
		}
	}
	ws, err := storage.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	s := &Studio{ws: ws, runner: jobs.NewRunner(ws)}
	if s.interrupted, err = jobs.RecoverInterrupted(ctx, ws); err != nil {
		ws.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.seed(ctx, ws.Created(), opts.Empty, progress); err != nil {
		ws.Close()
		return nil, err
	}
	return s, nil
}

func (s *Studio) seed(ctx context.Context, created, empty bool, progress func(Progress)) error {
	var state string
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		v, _, err := tx.Setting(settingSamples)
		state = v
		return err
	})
	if err != nil {
		return err
	}
	switch {
	case state != "":
		return nil
	case empty && created:
		return s.setSetting(ctx, settingSamples, "none")
	case empty:
		return nil
	}
	// Either new, or a first start that was cut short: importing a sample that
	// is already there is recognised by its content hash and costs nothing.
	for _, sample := range resources.Samples() {
		if _, err := s.importSample(ctx, sample, progress); err != nil {
			return fmt.Errorf("add sample dataset %s: %w", sample.Name, err)
		}
	}
	return s.setSetting(ctx, settingSamples, "seeded")
}

func (s *Studio) setSetting(ctx context.Context, key, value string) error {
	return s.ws.Update(ctx, func(tx *storage.Tx) error { return tx.SetSetting(key, value) })
}

// Close closes the workspace.
func (s *Studio) Close() error { return s.ws.Close() }

// Path is the workspace file.
func (s *Studio) Path() string { return s.ws.Path() }

// Interrupted lists the jobs that Open found abandoned by a dead process.
func (s *Studio) Interrupted() []Job { return s.interrupted }

// Jobs lists the newest jobs, newest first.
func (s *Studio) Jobs(ctx context.Context, limit int) ([]Job, error) {
	var out []Job
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		var err error
		out, err = tx.Jobs(limit)
		return err
	})
	return out, err
}

// CancelJob asks a job running in this process to stop.
func (s *Studio) CancelJob(id int64) bool { return s.runner.Cancel(id) }

// ErrUsage marks errors in what the caller asked for (a malformed reference,
// an invalid name, an unknown hyperparameter), as opposed to failures while
// doing it: errors.Is(err, ErrUsage) tells them apart.
var ErrUsage = errors.New("invalid request")

// usageError is an error in the request; its text is the underlying error's.
type usageError struct{ err error }

func (e usageError) Error() string        { return e.err.Error() }
func (e usageError) Unwrap() error        { return e.err }
func (e usageError) Is(target error) bool { return target == ErrUsage }

func usageErrorf(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
