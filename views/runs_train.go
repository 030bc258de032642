package views

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"modelsmith/app"
)

// trainFollow is a custom training this window runs, followed on the Runs
// screen: its worker reports the job's progress; a poller finds the
// experiment and run the job created and reads the run's learning curves as
// they are written (twice a second by app.Train).
type trainFollow struct {
	opts    app.TrainOptions
	started time.Time
	cancel  context.CancelFunc

	mu       sync.Mutex
	jobID    int64
	expID    int64
	run      app.RunInfo
	curves   []app.Curve
	fraction float64
	message  string
	done     bool
}

// followPoll is how often a followed training's curves are read.
const followPoll = 700 * time.Millisecond

// followTraining starts following a custom training: the Runs screen shows
// it; progress feeds it from the worker goroutine.
func (r *runsScreen) followTraining(opts app.TrainOptions, cancel context.CancelFunc) (progress func(app.Progress), finish func()) {
	f := &trainFollow{opts: opts, started: time.Now(), cancel: cancel}
	r.train = f
	r.selected = 0
	r.rows, r.best, r.curves, r.curveRun, r.rowSel = nil, nil, nil, 0, -1
	r.title.SetText(fmt.Sprintf("Training %s on %s → %s · starting…", opts.Algorithm, opts.Data, opts.Target))
	r.board.Refresh()
	r.bestChart.Update()
	r.curveChart.Update()
	r.resume.Hide()
	r.open.Hide()
	r.showBestChart(false)
	r.liveBox.Show()
	r.cancel.Enable()
	r.shell.showNamed("Runs")

	stop := make(chan struct{})
	r.shell.background(func(ctx context.Context) {
		tick := time.NewTicker(followPoll)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			r.pollTraining(ctx, f)
			r.trainRefresh.signal()
		}
	})
	progress = func(p app.Progress) {
		f.mu.Lock()
		f.jobID = p.JobID
		if p.Fraction >= 0 {
			f.fraction = p.Fraction
		}
		f.message = p.Message
		f.mu.Unlock()
		r.trainRefresh.signal()
	}
	finish = func() {
		close(stop)
		f.mu.Lock()
		f.done = true
		f.mu.Unlock()
	}
	return progress, finish
}

// pollTraining finds the followed job's experiment and run, and reads the
// run's curves; worker goroutine.
func (r *runsScreen) pollTraining(ctx context.Context, f *trainFollow) {
	f.mu.Lock()
	job, exp := f.jobID, f.expID
	f.mu.Unlock()
	if job == 0 {
		return
	}
	if exp == 0 {
		list, err := r.shell.studio.Experiments(ctx, 20)
		if err != nil {
			return
		}
		for _, e := range list {
			if e.JobID == job {
				exp = e.ID
			}
		}
		if exp == 0 {
			return
		}
	}
	runs, err := r.shell.studio.Runs(ctx, exp, 1)
	if err != nil || len(runs) == 0 {
		return
	}
	curves, err := r.shell.studio.LearningCurves(ctx, runs[0].ID)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.expID, f.run, f.curves = exp, runs[0], curves
	f.mu.Unlock()
}

// showTraining redraws the followed training; UI goroutine.
func (r *runsScreen) showTraining() {
	f := r.train
	if f == nil {
		return
	}
	f.mu.Lock()
	exp, run, curves, fraction, msg, done := f.expID, f.run, f.curves, f.fraction, f.message, f.done
	f.mu.Unlock()
	if done || (r.selected != 0 && r.selected != exp) {
		return
	}
	if r.selected == 0 && exp != 0 {
		r.relist.signal() // list the new experiment
	}
	r.selected = exp
	r.liveBox.Show()
	r.bar.SetValue(math.Min(math.Max(fraction, 0), 1))
	timing := "elapsed " + roundDuration(time.Since(f.started))
	if msg != "" {
		timing += " · " + msg
	}
	r.timing.SetText(timing)
	if exp != 0 {
		r.title.SetText(fmt.Sprintf("#%d Training · %s → %s · %s", exp, f.opts.Data, f.opts.Target, run.Metric))
		r.metric = run.Metric
		r.rows = []app.LeaderboardRow{{Rank: 1, RunID: run.ID, Algorithm: run.Algorithm, Params: run.Params,
			Score: math.NaN(), ScoreStd: math.NaN(), FitSeconds: time.Since(f.started).Seconds(), PredictMicros: math.NaN(),
			CPUSeconds: math.NaN(), Status: "running"}}
		r.board.Refresh()
		r.rowSel, r.curveRun, r.curves = 0, run.ID, curves
		r.curveChart.Update()
	}
}
