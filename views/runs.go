package views

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
	"modelsmith/views/charts"
)

// liveInterval is how often the Runs screen redraws a running search at most.
const liveInterval = 200 * time.Millisecond

// liveSearch is an AutoML search this window started. Its worker goroutine
// writes the latest event and progress under mu; the UI reads them when the
// coalescer posts.
type liveSearch struct {
	opts    app.AutoMLOptions
	started time.Time
	cancel  context.CancelFunc

	mu       sync.Mutex
	expID    int64
	event    app.AutoMLEvent
	hasEvent bool
	best     [][2]float64 // (seconds since start, best score so far)
	fraction float64
	message  string
	done     bool
}

func (l *liveSearch) snapshot() (ev app.AutoMLEvent, has bool, best [][2]float64, fraction float64, msg string, done bool, expID int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.event, l.hasEvent, append([][2]float64(nil), l.best...), l.fraction, l.message, l.done, l.expID
}

// runsScreen lists experiments (AutoML searches and custom trainings) and
// shows one: its leaderboard, the best score as the search went, the
// learning curves of the selected run, and — while it runs — its progress
// with Cancel.
type runsScreen struct {
	shell *Shell
	view  fyne.CanvasObject

	expList *widget.List
	exps    []app.ExperimentInfo
	noExps  *widget.Label

	selected int64 // experiment shown; 0 = none
	selKind  string
	greater  bool
	metric   string

	title    *widget.Label
	live     *liveSearch
	liveBox  *fyne.Container
	bar      *widget.ProgressBar
	timing   *widget.Label
	cancel   *widget.Button
	resume   *widget.Button
	open     *widget.Button
	modelRef string

	board    *widget.Table
	rows     []app.LeaderboardRow
	rowSel   int
	best     [][2]float64
	bestByX  string // "seconds" while live, "trial" after
	curves   []app.Curve
	curveRun int64
	// picked is the run whose curves the user chose while a search runs;
	// 0 follows the leader.
	picked        int64
	liveSelecting bool // the board selection is being set by code

	bestChart  *charts.Chart
	curveChart *charts.Chart
	charts     *fyne.Container
	refresh    *coalescer
	relist     *coalescer // the experiment list, while a search adds to it
	lists      newest     // reload's requests: only the newest answer is shown
	wantExp    int64      // the experiment a reload asked for, until an answer shows it

	train        *trainFollow // a custom training being followed
	trainRefresh *coalescer
}

var boardHeaders = []string{"Rank", "Algorithm", "CV score", "± std", "Fit time", "Predict µs", "CPU s", "Status", "Note"}

func newRunsScreen(s *Shell) *runsScreen {
	r := &runsScreen{shell: s, rowSel: -1}
	r.noExps = widget.NewLabel("Nothing trained yet. Start AutoML on the Train screen, or press Try AutoML on a sample at Home.")
	r.noExps.Wrapping = fyne.TextWrapWord
	r.expList = widget.NewList(
		func() int { return len(r.exps) },
		func() fyne.CanvasObject { return twoLineItem(theme.HistoryIcon()) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			e := r.exps[id]
			setTwoLineItem(o, experimentTitle(e), experimentSummary(e))
		})
	r.expList.OnSelected = func(id widget.ListItemID) { r.show(r.exps[id]) }

	r.title = heading("")
	r.title.Truncation = fyne.TextTruncateEllipsis
	r.bar = widget.NewProgressBar()
	r.timing = widget.NewLabel("")
	r.timing.Truncation = fyne.TextTruncateEllipsis
	r.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), r.cancelLive)
	r.cancel.Importance = widget.DangerImportance
	r.liveBox = container.NewBorder(nil, nil, nil, r.cancel, container.NewGridWithColumns(2, r.bar, r.timing))
	r.liveBox.Hide()
	r.resume = widget.NewButtonWithIcon("Resume search", theme.MediaPlayIcon(), r.resumeSearch)
	r.resume.Hide()
	r.open = widget.NewButtonWithIcon("Open model", theme.NavigateNextIcon(), func() { s.openModel(r.modelRef) })
	r.open.Hide()

	r.board = newRecordTable(boardHeaders, []float32{54, 96, 84, 72, 76, 90, 60, 96, 240},
		func() int { return len(r.rows) }, r.boardText)
	r.board.OnSelected = func(id widget.TableCellID) {
		if id.Row >= 0 && id.Row < len(r.rows) {
			if r.isLive() && !r.liveSelecting {
				r.picked = r.rows[id.Row].RunID
			}
			r.rowSel = id.Row
			r.curveChart.Update() // its title names the row
			r.loadCurves(r.rows[id.Row].RunID)
		}
	}

	r.bestChart = charts.NewChart(fyne.NewSize(300, 200), r.drawBest)
	r.curveChart = charts.NewChart(fyne.NewSize(300, 200), r.drawCurves)
	r.refresh = newCoalescer(liveInterval, r.showLive)
	r.relist = newCoalescer(time.Second, func() { r.reload(0) })
	r.trainRefresh = newCoalescer(liveInterval, r.showTraining)

	head := container.NewVBox(
		container.NewBorder(nil, nil, nil, container.NewHBox(r.resume, r.open), r.title),
		r.liveBox)
	r.charts = container.NewGridWithColumns(2, r.bestChart, r.curveChart)
	detail := container.NewVSplit(r.board, r.charts)
	detail.Offset = 0.45
	right := container.NewBorder(head, nil, nil, nil, detail)
	left := container.NewBorder(container.NewVBox(heading("Experiments"), r.noExps), nil, nil, nil, r.expList)
	split := container.NewHSplit(left, right)
	split.Offset = 0.27
	r.view = split
	return r
}

// showBestChart shows the best-score chart (a search) or leaves the learning
// curves the whole width (one training has no "best so far").
func (r *runsScreen) showBestChart(on bool) {
	if on == (len(r.charts.Objects) == 2) {
		return
	}
	if on {
		r.charts.Layout = layout.NewGridLayoutWithColumns(2)
		r.charts.Objects = []fyne.CanvasObject{r.bestChart, r.curveChart}
	} else {
		r.charts.Layout = layout.NewGridLayoutWithColumns(1)
		r.charts.Objects = []fyne.CanvasObject{r.curveChart}
	}
	r.charts.Refresh()
}

func experimentTitle(e app.ExperimentInfo) string {
	kind := "Training"
	if e.Kind == "automl" {
		kind = "AutoML"
	}
	return fmt.Sprintf("#%d %s · %s → %s", e.ID, kind, e.Dataset, e.Target)
}

func experimentSummary(e app.ExperimentInfo) string {
	s := e.Status
	if e.BestScore != nil {
		s = fmt.Sprintf("%s %s · %s", e.Metric, app.FormatNumber(*e.BestScore), s)
	}
	if e.Kind == "automl" {
		s += fmt.Sprintf(" · %d runs", e.Runs)
	}
	return s + " · " + e.CreatedAt.Local().Format("01-02 15:04")
}

func (r *runsScreen) onShow() { r.reload(0) }

// selectRef shows experiment id (as text).
func (r *runsScreen) selectRef(ref string) {
	id, err := strconv.ParseInt(ref, 10, 64)
	if err == nil {
		r.reload(id)
	}
}

// reload lists the experiments, then shows experiment id if not 0 (or keeps
// the one shown).
func (r *runsScreen) reload(id int64) {
	current := r.lists.start()
	if id != 0 {
		r.wantExp = id
	}
	r.shell.background(func(ctx context.Context) {
		list, err := r.shell.studio.Experiments(ctx, 200)
		post(func() {
			if !current() {
				return // a newer reload's answer is coming: this one may be stale
			}
			if err != nil {
				r.shell.showError("Could not list the experiments", err)
				return
			}
			r.exps = list
			r.noExps.Hidden = len(list) > 0
			r.noExps.Refresh()
			r.expList.Refresh()
			want := r.wantExp
			r.wantExp = 0
			if want == 0 {
				want = r.selected
			}
			for i, e := range list {
				if e.ID == want {
					r.selectRow(i)
					return
				}
			}
			if want == 0 && !r.isLive() && !r.following() && len(list) > 0 {
				r.selectRow(0) // the newest
			}
		})
	})
}

// selectRow highlights experiment i of the list and shows it (again, if it
// was shown: its state may have changed).
func (r *runsScreen) selectRow(i int) {
	handler := r.expList.OnSelected
	r.expList.OnSelected = nil
	r.expList.Select(i)
	r.expList.OnSelected = handler
	r.show(r.exps[i])
}

// show loads experiment e into the right-hand side.
func (r *runsScreen) show(e app.ExperimentInfo) {
	r.selected, r.selKind, r.metric = e.ID, e.Kind, e.Metric
	r.showBestChart(e.Kind == "automl")
	r.greater = app.GreaterIsBetter(e.Metric, e.Task)
	r.title.SetText(experimentTitle(e) + " · " + e.Task + " · " + e.Metric)
	if r.live != nil && r.liveExp() == e.ID && !r.liveDone() {
		r.showLive()
		return
	}
	if r.train != nil && r.trainingLive(e.ID) {
		r.showTraining()
		return
	}
	r.liveBox.Hide()
	r.resume.Hidden = !(e.Kind == "automl" && (e.Status == "cancelled" || e.Status == "interrupted"))
	r.resume.Refresh()
	id := e.ID
	r.shell.background(func(ctx context.Context) {
		rows, err := r.experimentRows(ctx, e)
		m, hasModel, merr := r.shell.studio.ExperimentModel(ctx, id)
		post(func() {
			if r.selected != id {
				return
			}
			if err = firstErr(err, merr); err != nil {
				r.shell.showError(fmt.Sprintf("Could not read experiment %d", id), err)
				return
			}
			r.setRows(rows)
			r.best, r.bestByX = bestByTrial(rows, r.greater), "trial"
			r.bestChart.Update()
			r.modelRef = m.Ref
			r.open.Hidden = !hasModel || !r.shell.canOpenModels()
			r.open.Refresh()
			r.selectFirstRow()
		})
	})
}

// experimentRows is an AutoML search's leaderboard, or a custom training's
// one run as a row.
func (r *runsScreen) experimentRows(ctx context.Context, e app.ExperimentInfo) ([]app.LeaderboardRow, error) {
	if e.Kind == "automl" {
		return r.shell.studio.Leaderboard(ctx, e.ID)
	}
	runs, err := r.shell.studio.Runs(ctx, e.ID, 0)
	if err != nil {
		return nil, err
	}
	rows := make([]app.LeaderboardRow, len(runs))
	for i, run := range runs {
		score := math.NaN()
		if run.Score != nil {
			score = *run.Score
		}
		rows[i] = app.LeaderboardRow{Rank: i + 1, RunID: run.ID, Trial: i, Algorithm: run.Algorithm, Params: run.Params,
			Score: score, ScoreStd: math.NaN(), FitSeconds: run.FitSeconds, PredictMicros: math.NaN(),
			CPUSeconds: run.CPUSeconds, Status: run.Status, Note: run.Error}
		if run.Score != nil {
			rows[i].Note = "held-out score"
		}
	}
	return rows, nil
}

func (r *runsScreen) setRows(rows []app.LeaderboardRow) {
	r.rows = rows
	r.board.Refresh()
}

func (r *runsScreen) selectFirstRow() {
	r.rowSel = -1
	r.board.UnselectAll()
	if len(r.rows) > 0 {
		r.board.Select(widget.TableCellID{Row: 0, Col: 0})
	} else {
		r.curves, r.curveRun = nil, 0
		r.curveChart.Update()
	}
}

// bestByTrial is the best score after each trial, in the order they ran.
func bestByTrial(rows []app.LeaderboardRow, greater bool) [][2]float64 {
	byTrial := append([]app.LeaderboardRow(nil), rows...)
	sort.Slice(byTrial, func(i, j int) bool { return byTrial[i].Trial < byTrial[j].Trial })
	var out [][2]float64
	best := math.NaN()
	for _, row := range byTrial {
		if row.Trial < 0 || math.IsNaN(row.Score) {
			continue
		}
		if math.IsNaN(best) || (greater && row.Score > best) || (!greater && row.Score < best) {
			best = row.Score
		}
		out = append(out, [2]float64{float64(row.Trial + 1), best})
	}
	return out
}

func (r *runsScreen) boardText(row, col int) string {
	x := r.rows[row]
	num := func(v float64, digits int) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "—"
		}
		return strconv.FormatFloat(v, 'f', digits, 64)
	}
	switch col {
	case 0:
		if x.Rank == 0 {
			return "—"
		}
		return strconv.Itoa(x.Rank)
	case 1:
		return x.Algorithm
	case 2:
		return num(x.Score, 4)
	case 3:
		return num(x.ScoreStd, 4)
	case 4:
		return num(x.FitSeconds, 2) + " s"
	case 5:
		return num(x.PredictMicros, 1)
	case 6:
		return num(x.CPUSeconds, 1)
	case 7:
		return x.Status
	default:
		note := x.Note
		if x.Trial < 0 && note == "" {
			note = "final model"
		}
		return note
	}
}

func (r *runsScreen) loadCurves(runID int64) {
	if runID == r.curveRun && !r.isLive() {
		return
	}
	r.curveRun = runID
	r.shell.background(func(ctx context.Context) {
		curves, err := r.shell.studio.LearningCurves(ctx, runID)
		post(func() {
			if r.curveRun != runID {
				return
			}
			if err != nil {
				r.shell.showError("Could not read the learning curves", err)
				return
			}
			r.curves = curves
			r.curveChart.Update()
		})
	})
}

func (r *runsScreen) drawBest(p charts.Palette, w, h int) image.Image {
	s := charts.Series{Name: "best " + r.metric}
	for _, pt := range r.best {
		s.X = append(s.X, pt[0])
		s.Y = append(s.Y, pt[1])
	}
	// The best so far holds until now (live) or past the last trial, so
	// that even one point draws as a line.
	if n := len(s.X); n > 0 {
		end := s.X[n-1] + 1
		if r.isLive() {
			end = max(time.Since(r.live.started).Seconds(), s.X[n-1])
		}
		s.X, s.Y = append(s.X, end), append(s.Y, s.Y[n-1])
	}
	x := "trial"
	if r.bestByX == "seconds" {
		x = "seconds"
	}
	return charts.Render(charts.Spec{Title: "Best " + r.metric + " so far", XLabel: x, YLabel: r.metric,
		Series: []charts.Series{s}, Kind: "step"}, p, w, h)
}

func (r *runsScreen) drawCurves(p charts.Palette, w, h int) image.Image {
	var series []charts.Series
	for _, c := range r.curves {
		series = append(series, charts.Series{Name: strings.ReplaceAll(c.Name, "_", " "), X: c.Steps, Y: c.Value})
	}
	title := "Learning curves"
	if r.rowSel >= 0 && r.rowSel < len(r.rows) {
		title += " · " + r.rows[r.rowSel].Algorithm
	}
	if len(series) == 0 && r.curveRun != 0 {
		title += " (none recorded for this run)"
	}
	return charts.Render(charts.Spec{Title: title, XLabel: "step", YLabel: "loss", Series: series}, p, w, h)
}

// startAutoML runs a search as a job and follows it on this screen.
func (s *Shell) startAutoML(opts app.AutoMLOptions) {
	r := s.runs
	if s.task.busy() || (r.live != nil && !r.liveDone()) {
		s.showError("Another job is running", fmt.Errorf("wait for it to finish or cancel it, then start the search again"))
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	live := &liveSearch{opts: opts, started: time.Now(), cancel: cancel, expID: opts.Resume}
	r.live = live
	label := "AutoML on " + opts.Data
	if opts.Resume != 0 {
		label = fmt.Sprintf("Resuming AutoML experiment %d", opts.Resume)
	}
	s.task.start(label, cancel)
	taskProgress := s.task.throttled(label)
	r.selected = 0
	r.rows, r.best, r.bestByX, r.curves, r.curveRun, r.picked = nil, nil, "seconds", nil, 0, 0
	r.metric = opts.Metric
	r.title.SetText(label + " · starting…")
	r.board.Refresh()
	r.bestChart.Update()
	r.curveChart.Update()
	r.resume.Hide()
	r.open.Hide()
	r.showBestChart(true)
	r.showLive()
	s.showNamed("Runs")

	stop := make(chan struct{})
	s.background(func(context.Context) {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				r.refresh.signal() // elapsed time moves on between trials
			}
		}
	})
	s.background(func(context.Context) {
		defer cancel()
		res, err := s.studio.AutoML(ctx, opts, func(p app.Progress) {
			taskProgress(p)
			live.mu.Lock()
			if p.Fraction >= 0 {
				live.fraction = p.Fraction
			}
			live.message = p.Message
			live.mu.Unlock()
			r.refresh.signal()
		}, func(ev app.AutoMLEvent) {
			live.mu.Lock()
			live.expID, live.event, live.hasEvent = ev.ExperimentID, ev, true
			if len(ev.Leaderboard) > 0 && !math.IsNaN(ev.Leaderboard[0].Score) {
				live.best = append(live.best, [2]float64{ev.Elapsed.Seconds(), ev.Leaderboard[0].Score})
			}
			live.mu.Unlock()
			r.relist.signal() // the experiment's best score and run count changed
			r.refresh.signal()
		})
		close(stop)
		live.mu.Lock()
		live.done = true
		if res.ExperimentID != 0 {
			live.expID = res.ExperimentID
		}
		live.mu.Unlock()
		post(func() {
			s.task.finish()
			r.searchDone(live, res, err)
		})
	})
}

func (r *runsScreen) liveExp() int64 {
	r.live.mu.Lock()
	defer r.live.mu.Unlock()
	return r.live.expID
}

func (r *runsScreen) liveDone() bool {
	r.live.mu.Lock()
	defer r.live.mu.Unlock()
	return r.live.done
}

func (r *runsScreen) isLive() bool { return r.live != nil && !r.liveDone() }

// following says whether a custom training is being followed.
func (r *runsScreen) following() bool {
	if r.train == nil {
		return false
	}
	r.train.mu.Lock()
	defer r.train.mu.Unlock()
	return !r.train.done
}

// trainingLive says whether the followed training is experiment id and still
// running.
func (r *runsScreen) trainingLive(id int64) bool {
	r.train.mu.Lock()
	defer r.train.mu.Unlock()
	return r.train.expID == id && !r.train.done
}

// showLive redraws the running search if it is the one shown; UI goroutine.
func (r *runsScreen) showLive() {
	l := r.live
	if l == nil {
		return
	}
	ev, has, best, fraction, msg, done, expID := l.snapshot()
	if done || (r.selected != 0 && r.selected != expID) {
		return
	}
	if expID != 0 && r.selected == 0 {
		r.selected = expID
	}
	r.liveBox.Show()
	r.cancel.Enable()
	r.bar.SetValue(math.Min(math.Max(fraction, 0), 1))
	elapsed := time.Since(l.started)
	budget := l.opts.Budget
	timing := "elapsed " + roundDuration(elapsed)
	if budget > 0 {
		timing += " of " + roundDuration(budget) + " · about " + roundDuration(max(budget-elapsed, 0)) + " left"
	}
	if has {
		timing += fmt.Sprintf(" · %d", ev.Done)
		if ev.Planned > 0 {
			timing += fmt.Sprintf(" of %d", ev.Planned)
		}
		timing += plural(max(ev.Done, ev.Planned), " trial", " trials")
	} else if msg != "" {
		timing += " · " + msg
	}
	r.timing.SetText(timing)
	r.bestChart.Update() // its line runs on to now
	if has {
		r.metric, r.greater = ev.Metric, ev.Greater
		title := fmt.Sprintf("#%d AutoML · %s → %s · %s", ev.ExperimentID, l.opts.Data, l.opts.Target, ev.Metric)
		r.title.SetText(title)
		r.setRows(ev.Leaderboard)
		r.best, r.bestByX = best, "seconds"
		r.followLiveCurves()
	}
}

// followLiveCurves shows the learning curves of the run the user picked, or
// else of the leader, which changes as the search goes (a trial's curves
// are complete once it is on the leaderboard).
func (r *runsScreen) followLiveCurves() {
	if len(r.rows) == 0 {
		return
	}
	want, at := r.rows[0].RunID, 0
	for i, row := range r.rows {
		if row.RunID == r.picked {
			want, at = row.RunID, i
		}
	}
	r.liveSelecting = true
	r.board.Select(widget.TableCellID{Row: at, Col: 0})
	r.liveSelecting = false
	r.rowSel = at
	if want != r.curveRun {
		r.loadCurves(want)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func roundDuration(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d s", int(d.Seconds()+0.5))
	}
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}

func (r *runsScreen) cancelLive() {
	if r.following() {
		r.train.cancel()
		r.cancel.Disable()
		r.timing.SetText(r.timing.Text + " — cancelling")
		return
	}
	if r.live != nil {
		r.live.cancel()
		r.cancel.Disable()
		r.timing.SetText(r.timing.Text + " — cancelling, keeping the finished trials")
	}
}

// searchDone shows how a search ended; UI goroutine.
func (r *runsScreen) searchDone(l *liveSearch, res app.AutoMLResult, err error) {
	r.liveBox.Hide()
	if r.shell.ctx.Err() != nil {
		return
	}
	id := res.ExperimentID
	if id == 0 {
		_, _, _, _, _, _, id = l.snapshot()
	}
	r.selected = 0
	r.reload(id)
	switch {
	case err != nil && errors.Is(err, context.Canceled):
		kept := 0
		for _, row := range res.Leaderboard {
			if row.Trial >= 0 {
				kept++
			}
		}
		dialog.ShowInformation("AutoML cancelled",
			fmt.Sprintf("The search stopped. Its %d finished trials are kept: Resume search continues it.", kept), r.shell.win)
	case err != nil:
		r.shell.showError("AutoML failed", err)
	default:
		msg := fmt.Sprintf("Registered %s: %s %s (%s).", res.Model.Ref, res.Metric, app.FormatNumber(res.Score), res.Validation)
		if len(res.Notes) > 0 {
			msg += "\n" + strings.Join(res.Notes, "\n")
		}
		label := widget.NewLabel(msg)
		label.Wrapping = fyne.TextWrapWord
		if r.shell.canOpenModels() {
			d := dialog.NewCustomConfirm("AutoML finished", "Open model", "Close", label, func(open bool) {
				if open {
					r.shell.openModel(res.Model.Ref)
				}
			}, r.shell.win)
			d.Resize(fyne.NewSize(520, 220))
			d.Show()
			return
		}
		d := dialog.NewCustom("AutoML finished", "Close", label, r.shell.win)
		d.Resize(fyne.NewSize(520, 220))
		d.Show()
	}
}

func (r *runsScreen) resumeSearch() {
	if r.selected == 0 {
		return
	}
	budget := time.Minute
	r.shell.startAutoML(app.AutoMLOptions{Resume: r.selected, Budget: budget})
}
