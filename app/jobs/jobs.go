// Package jobs runs Modelsmith's background work — imports now, training and
// retraining later — as persisted jobs: each has a row in the workspace's jobs
// table that records its owner process, progress, outcome, CPU time and peak
// memory, and each can be cancelled through its context.
//
// It imports storage for the job rows and nothing above it (no app, no views,
// no Fyne).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"sync"
	"time"

	"modelsmith/storage"
)

// Job statuses, as stored in the jobs table.
const (
	Queued      = "queued"
	Running     = "running"
	Succeeded   = "succeeded"
	Failed      = "failed"
	Cancelled   = "cancelled"
	Interrupted = "interrupted"
)

// Progress is one report from running work.
type Progress struct {
	JobID    int64
	Stage    string  // short, e.g. "reading", "profiling", "storing"
	Fraction float64 // 0..1 of the whole job; -1 when not known
	Message  string  // for people: "read 12.5 of 40.1 MB"
}

// Reporter is what a job's function uses to report progress.
type Reporter func(stage string, fraction float64, message string)

// Runner runs jobs for one workspace and one process.
type Runner struct {
	ws    *storage.Workspace
	owner Owner

	mu      sync.Mutex
	cancels map[int64]context.CancelFunc
}

// NewRunner returns a runner that records jobs in ws as owned by this process.
func NewRunner(ws *storage.Workspace) *Runner {
	return &Runner{ws: ws, owner: Self(), cancels: map[int64]context.CancelFunc{}}
}

// persistEvery bounds how often progress is written to the workspace: often
// enough for another process (the GUI watching a CLI import) to follow, rarely
// enough to cost nothing.
const persistEvery = 500 * time.Millisecond

// Run runs fn as a job of the given kind and waits for it. The job row is
// created as running, updated with progress, and finished as succeeded, failed
// or cancelled. onProgress, if not nil, receives every report synchronously, on
// the goroutine that calls the Reporter. result is stored as the job's result
// (JSON text) when fn succeeds.
func (r *Runner) Run(ctx context.Context, kind, title string, onProgress func(Progress),
	fn func(ctx context.Context, report Reporter) (result string, err error)) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	now := time.Now().UTC()
	job := storage.Job{
		Kind: kind, Title: title, Status: Running, StartedAt: now,
		OwnerPID: r.owner.PID, OwnerStart: r.owner.Start, OwnerHost: r.owner.Host,
	}
	if err := r.ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertJob(&job) }); err != nil {
		return 0, fmt.Errorf("start %s job: %w", kind, err)
	}
	ctx = context.WithValue(ctx, jobKey{}, job.ID)
	r.mu.Lock()
	r.cancels[job.ID] = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.cancels, job.ID)
		r.mu.Unlock()
	}()

	usage := StartUsage()
	persist := startPersister(ctx, r.ws, job)
	report := func(stage string, fraction float64, message string) {
		if onProgress != nil {
			onProgress(Progress{JobID: job.ID, Stage: stage, Fraction: fraction, Message: message})
		}
		persist.set(fraction, message)
	}

	result, err := fn(ctx, report)
	persist.stop()

	job.FinishedAt = time.Now().UTC()
	job.CPUSeconds, job.PeakMemoryBytes = usage.Finish()
	switch {
	case err == nil:
		job.Status, job.Progress, job.Result, job.Message = Succeeded, 1, result, "done"
	case errors.Is(err, context.Canceled):
		job.Status, job.Error = Cancelled, err.Error()
	default:
		job.Status, job.Error = Failed, err.Error()
	}
	// The job's own context may be cancelled; its final row must still be written.
	if uerr := r.ws.Update(context.WithoutCancel(ctx), func(tx *storage.Tx) error { return tx.UpdateJob(job) }); uerr != nil && err == nil {
		err = fmt.Errorf("record end of %s job: %w", kind, uerr)
	}
	return job.ID, err
}

type jobKey struct{}

// FromContext returns the id of the job whose function received ctx.
func FromContext(ctx context.Context) (int64, bool) {
	id, ok := ctx.Value(jobKey{}).(int64)
	return id, ok
}

// Cancel asks the running job with that id to stop; it reports whether this
// runner runs such a job.
func (r *Runner) Cancel(id int64) bool {
	r.mu.Lock()
	cancel, ok := r.cancels[id]
	r.mu.Unlock()
	if ok {
		cancel()
	}
	return ok
}

// RecoverInterrupted marks as interrupted every job left running or queued by
// a process that is no longer alive, and returns them. Jobs of live processes
// (another window, a CLI import under way) are left alone. It only reads
// unless there is something to mark, so opening a workspace while another
// process holds the write lock does not wait for it.
func RecoverInterrupted(ctx context.Context, ws *storage.Workspace) ([]storage.Job, error) {
	var dead []storage.Job
	err := ws.View(ctx, func(tx *storage.Tx) error {
		for _, status := range []string{Running, Queued} {
			jobs, err := tx.JobsWithStatus(status)
			if err != nil {
				return err
			}
			for _, j := range jobs {
				if !ownerOf(j).Alive() {
					dead = append(dead, j)
				}
			}
		}
		return nil
	})
	if err != nil || len(dead) == 0 {
		return nil, err
	}
	var marked []storage.Job
	err = ws.Update(ctx, func(tx *storage.Tx) error {
		marked = marked[:0]
		for _, d := range dead {
			j, err := tx.Job(d.ID)
			if err != nil {
				return err
			}
			// Another process may have recovered or finished it meanwhile.
			if j.Status != Running && j.Status != Queued {
				continue
			}
			j.Status = Interrupted
			j.Error = fmt.Sprintf("the process that ran it (%s) ended before the job finished", ownerOf(j))
			j.FinishedAt = time.Now().UTC()
			if err := tx.UpdateJob(j); err != nil {
				return err
			}
			// What the job was training goes with it; it registered nothing,
			// since a model is registered in the run's last transaction.
			if err := tx.InterruptRunsOfJob(j.ID, j.FinishedAt); err != nil {
				return err
			}
			marked = append(marked, j)
		}
		return nil
	})
	return marked, err
}

func ownerOf(j storage.Job) Owner {
	return Owner{PID: j.OwnerPID, Start: j.OwnerStart, Host: j.OwnerHost}
}

// persister writes a job's latest progress to its row every persistEvery, on
// its own goroutine. It must not write from the job's goroutine: a job may
// report progress from inside its own write transaction, and the workspace has
// one writer connection, so a nested write would wait for itself.
type persister struct {
	mu       sync.Mutex
	fraction float64
	message  string
	dirty    bool
	quit     chan struct{}
	done     chan struct{}
}

func startPersister(ctx context.Context, ws *storage.Workspace, job storage.Job) *persister {
	p := &persister{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(persistEvery)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				return
			case <-tick.C:
			}
			p.mu.Lock()
			dirty := p.dirty
			job.Progress, job.Message, p.dirty = max(p.fraction, 0), p.message, false
			p.mu.Unlock()
			if dirty {
				// Best effort: a busy workspace must not fail the job.
				_ = ws.Update(ctx, func(tx *storage.Tx) error { return tx.UpdateJob(job) })
			}
		}
	}()
	return p
}

func (p *persister) set(fraction float64, message string) {
	p.mu.Lock()
	p.fraction, p.message, p.dirty = fraction, message, true
	p.mu.Unlock()
}

// stop ends the goroutine and waits for it, so that no progress write lands
// after the job's final row.
func (p *persister) stop() {
	close(p.quit)
	<-p.done
}

// Usage measures the CPU time and the peak live heap of the process while a
// job (or a part of one, such as one training run) runs. With several jobs at
// once the figures are the process's, which is what a user pays for; the GUI
// runs one heavy job at a time. A goroutine samples the heap every
// usageEvery until Finish, so short peaks between progress reports count.
type Usage struct {
	startCPU float64
	mu       sync.Mutex
	samples  []metrics.Sample
	peakHeap uint64
	quit     chan struct{}
	done     chan struct{}
}

const usageEvery = 20 * time.Millisecond

// StartUsage starts measuring.
func StartUsage() *Usage {
	u := &Usage{samples: []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}},
		quit: make(chan struct{}), done: make(chan struct{})}
	u.startCPU = processCPUSeconds()
	u.Sample()
	go func() {
		defer close(u.done)
		tick := time.NewTicker(usageEvery)
		defer tick.Stop()
		for {
			select {
			case <-u.quit:
				return
			case <-tick.C:
				u.Sample()
			}
		}
	}()
	return u
}

// Sample records the current heap for the peak.
func (u *Usage) Sample() {
	u.mu.Lock()
	defer u.mu.Unlock()
	metrics.Read(u.samples)
	if s := u.samples[0]; s.Value.Kind() == metrics.KindUint64 {
		u.peakHeap = max(u.peakHeap, s.Value.Uint64())
	}
}

// Finish stops measuring and returns the CPU seconds used since StartUsage
// and the peak heap seen.
func (u *Usage) Finish() (cpuSeconds float64, peakBytes int64) {
	close(u.quit)
	<-u.done
	u.Sample()
	return max(processCPUSeconds()-u.startCPU, 0), int64(u.peakHeap)
}
