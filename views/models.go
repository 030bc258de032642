package views

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"path/filepath"
	"slices"
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

// modelsScreen lists the registered models and shows one: how well it does
// on the rows it did not train on (metrics and charts), what it relies on
// (importance), where it comes from (its card), and what can be done with it.
type modelsScreen struct {
	shell *Shell
	view  fyne.CanvasObject

	list   *widget.List
	count  *widget.Label
	empty  *widget.Label
	models []app.ModelInfo

	// The right side: nothing selected, or the selected model.
	detail      *fyne.Container
	placeholder fyne.CanvasObject
	hint        *widget.Label
	body        fyne.CanvasObject

	title    *widget.Label
	subtitle *widget.Label
	stage    *widget.Select
	rename   *widget.Button
	predict  *widget.Button
	remove   *widget.Button
	alias    *widget.Button
	export   *widget.Button

	tabs       *container.AppTabs
	perf       *container.Scroll
	status     *widget.Label
	busy       *widget.ProgressBarInfinite
	metrics    *fyne.Container
	chartGrid  *fyne.Container
	importance *charts.Chart
	impNote    *widget.Label
	card       *fyne.Container

	confusion, roc, pr, calibration, fit, residuals *charts.Chart

	// UI goroutine only.
	current  *app.ModelInfo
	report   *app.ModelReport
	reports  map[int64]*app.ModelReport // by model id: a report does not change
	aliases  []app.AliasInfo            // of every model, as last loaded
	pending  string                     // a ref to select once the list has loaded
	lists    newest                     // reload's requests: only the newest answer is shown
	cancel   context.CancelFunc         // of the report being computed
	reportOf int64                      // the model whose report is being computed
}

func newModelsScreen(s *Shell) *modelsScreen {
	m := &modelsScreen{shell: s, reports: map[int64]*app.ModelReport{}}

	m.count = widget.NewLabelWithStyle("Models", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	m.empty = widget.NewLabel("No models yet.\nTrain one on the Train screen;\nit appears here when it is done.")
	m.empty.Hide()
	m.list = widget.NewList(
		func() int { return len(m.models) },
		func() fyne.CanvasObject {
			name := widget.NewLabelWithStyle("name@1", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			name.Truncation = fyne.TextTruncateEllipsis
			info := widget.NewLabel("algorithm · task · score")
			info.Truncation = fyne.TextTruncateEllipsis
			info.SizeName = theme.SizeNameCaptionText
			return container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), name, info)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(m.models) {
				return
			}
			mi := m.models[id]
			box := o.(*fyne.Container)
			title := mi.Ref
			if mi.Stage != "" && mi.Stage != "none" {
				title += "  ·  " + mi.Stage
			}
			box.Objects[0].(*widget.Label).SetText(title)
			box.Objects[1].(*widget.Label).SetText(modelSummary(mi))
		},
	)
	m.list.OnSelected = func(id widget.ListItemID) {
		if id < len(m.models) {
			m.show(m.models[id])
		}
	}
	left := container.NewBorder(container.NewVBox(m.count, m.empty), nil, nil, nil, m.list)

	m.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	m.title.SizeName = theme.SizeNameSubHeadingText
	m.subtitle = widget.NewLabel("")
	m.subtitle.Truncation = fyne.TextTruncateEllipsis
	m.stage = widget.NewSelect(app.ModelStages(), m.setStage)
	m.rename = widget.NewButtonWithIcon("Rename…", theme.DocumentCreateIcon(), m.askRename)
	m.predict = widget.NewButtonWithIcon("Predict on a file…", theme.MediaPlayIcon(), m.askPredict)
	m.predict.Importance = widget.HighImportance
	m.remove = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), m.askDelete)
	m.alias = widget.NewButtonWithIcon("Alias…", theme.MailForwardIcon(), m.askAlias)
	m.export = widget.NewButtonWithIcon("Export…", theme.DownloadIcon(), m.askExport)
	actions := container.NewHBox(m.predict, m.export, m.alias, m.rename, m.remove)

	m.status = widget.NewLabel("")
	m.status.Wrapping = fyne.TextWrapWord
	m.busy = widget.NewProgressBarInfinite()
	m.busy.Stop()
	m.busy.Hide()
	m.metrics = container.NewGridWrap(fyne.NewSize(190, 64))

	m.confusion = m.newChart(m.drawConfusion)
	m.roc = m.newChart(m.drawROC)
	m.pr = m.newChart(m.drawPR)
	m.calibration = m.newChart(m.drawCalibration)
	m.fit = m.newChart(m.drawFit)
	m.residuals = m.newChart(m.drawResiduals)
	m.chartGrid = container.NewGridWithColumns(2)
	m.perf = container.NewVScroll(container.NewVBox(m.status, m.busy, m.metrics, m.chartGrid))

	m.importance = charts.NewChart(fyne.NewSize(420, 300), m.drawImportance)
	m.impNote = widget.NewLabel("")
	m.impNote.Wrapping = fyne.TextWrapWord
	importance := container.NewBorder(m.impNote, nil, nil, nil, m.importance)

	m.card = container.New(layout.NewFormLayout())
	m.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon("Performance", theme.InfoIcon(), m.perf),
		container.NewTabItemWithIcon("Importance", theme.ListIcon(), importance),
		container.NewTabItemWithIcon("Model card", theme.DocumentIcon(), container.NewVScroll(m.card)),
	)
	names := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), m.title, m.subtitle)
	stage := container.NewVBox(container.NewHBox(widget.NewLabel("Stage"), m.stage))
	head := container.NewVBox(container.NewBorder(nil, nil, nil, stage, names), actions, widget.NewSeparator())
	m.body = container.NewBorder(head, nil, nil, nil, m.tabs)
	m.hint = widget.NewLabel("Choose a model on the left to see how well it does.")
	m.placeholder = container.NewCenter(m.hint)
	m.detail = container.NewStack(m.placeholder)

	split := container.NewHSplit(left, m.detail)
	split.Offset = 0.24
	m.view = split
	return m
}

func (m *modelsScreen) newChart(draw func(p charts.Palette, w, h int) image.Image) *charts.Chart {
	return charts.NewChart(fyne.NewSize(340, 280), draw)
}

// onShow reloads the list: models appear from training and AutoML, and from
// other processes sharing the workspace.
func (m *modelsScreen) onShow() { m.reload("") }

// selectRef shows model ref ("name@version") once the list has it.
func (m *modelsScreen) selectRef(ref string) {
	m.pending = ref
	m.reload(ref)
}

// reload fetches the model list, then selects ref ("" keeps the selection).
func (m *modelsScreen) reload(ref string) {
	current := m.lists.start()
	m.shell.background(func(ctx context.Context) {
		list, err := m.shell.studio.Models(ctx)
		var aliases []app.AliasInfo
		if err == nil {
			aliases, err = m.shell.studio.ModelAliases(ctx, "")
		}
		post(func() {
			if !current() {
				return // a newer reload's answer is coming: this one may be stale (m.pending keeps ref)
			}
			if err != nil {
				m.shell.showError("Could not list the models", err)
				return
			}
			m.aliases = aliases
			m.setModels(list, ref)
		})
	})
}

func (m *modelsScreen) setModels(list []app.ModelInfo, ref string) {
	// Newest first: the model just trained is the one wanted.
	sort.SliceStable(list, func(a, b int) bool { return list[a].CreatedAt.After(list[b].CreatedAt) })
	m.models = list
	m.count.SetText(fmt.Sprintf("Models (%d)", len(list)))
	if len(list) == 0 {
		m.empty.Show()
		m.hint.SetText("A model's scores, charts and card appear here.")
	} else {
		m.empty.Hide()
		m.hint.SetText("Choose a model on the left to see how well it does.")
	}
	m.list.Refresh()
	if ref == "" && m.pending != "" {
		ref = m.pending
	}
	if ref == "" && m.current != nil {
		ref = m.current.Ref
	}
	for i, mi := range list {
		if mi.Ref == ref || (mi.Name == ref && !strings.Contains(ref, "@")) {
			m.pending = ""
			if m.current == nil || m.current.ID != mi.ID {
				// The list selects by row, and a new model moves the rows
				// down: row i may be selected already, for another model,
				// and Select(i) would then not show this one.
				m.list.UnselectAll()
			}
			m.list.Select(i)
			if m.current != nil && m.current.ID == mi.ID {
				m.show(mi) // selected already: refresh what may have changed (stage, name)
			}
			return
		}
	}
	if ref != "" && m.current != nil && m.current.Ref == ref {
		// The shown model is gone.
		m.list.UnselectAll()
		m.clear()
	}
}

func (m *modelsScreen) clear() {
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
	m.current, m.report = nil, nil
	m.detail.Objects = []fyne.CanvasObject{m.placeholder}
	m.detail.Refresh()
}

// show displays model mi: its card at once, its report when computed.
func (m *modelsScreen) show(mi app.ModelInfo) {
	same := m.current != nil && m.current.ID == mi.ID
	m.current = &mi
	m.detail.Objects = []fyne.CanvasObject{m.body}
	m.detail.Refresh()
	m.title.SetText(mi.Ref)
	sub := fmt.Sprintf("%s · %s · trained on %s · %s", mi.Algorithm, mi.Task, orDash(mi.DatasetRef),
		mi.CreatedAt.Local().Format(time.DateTime))
	if names := m.aliasesOf(mi); len(names) > 0 {
		sub += " · alias " + strings.Join(names, ", ")
	}
	m.subtitle.SetText(sub)
	m.stage.OnChanged = nil
	m.stage.SetSelected(mi.Stage)
	m.stage.OnChanged = m.setStage
	m.fillCard(mi)
	if same && (m.report != nil || m.cancel != nil) {
		return
	}
	if rep, ok := m.reports[mi.ID]; ok {
		m.showReport(rep)
		return
	}
	m.report = nil
	metric, _ := mi.Card["metric"].(string)
	m.showMetrics(mi.Metrics, metric, mi.Task)
	m.chartGrid.Objects = nil
	m.perf.Refresh()
	m.impNote.SetText("")
	m.importance.Update()
	m.computeReport(mi)
}

func (m *modelsScreen) computeReport(mi app.ModelInfo) {
	if m.cancel != nil {
		m.cancel()
	}
	ctx, cancel := context.WithCancel(m.shell.ctx)
	m.cancel, m.reportOf = cancel, mi.ID
	m.status.SetText("Evaluating " + mi.Ref + " on the rows it did not train on…")
	m.busy.Show()
	m.busy.Start()
	// The latest progress message, shown at most ten times a second.
	var mu sync.Mutex
	var latest string
	show := newCoalescer(100*time.Millisecond, func() {
		mu.Lock()
		msg := latest
		mu.Unlock()
		if m.reportOf == mi.ID && m.cancel != nil {
			m.status.SetText("Evaluating " + mi.Ref + ": " + msg + "…")
		}
	})
	progress := func(p app.Progress) {
		mu.Lock()
		latest = p.Message
		mu.Unlock()
		show.signal()
	}
	m.shell.background(func(context.Context) {
		defer cancel()
		rep, err := m.shell.studio.ModelReport(ctx, mi.Ref, progress)
		post(func() {
			if m.reportOf != mi.ID || ctx.Err() != nil && err != nil {
				return // another model was chosen meanwhile
			}
			m.cancel = nil
			m.busy.Stop()
			m.busy.Hide()
			if err != nil {
				m.status.SetText("Could not evaluate this model: " + err.Error())
				return
			}
			m.reports[mi.ID] = &rep
			if m.current != nil && m.current.ID == mi.ID {
				m.showReport(&rep)
			}
		})
	})
}

func (m *modelsScreen) showReport(rep *app.ModelReport) {
	m.report = rep
	m.busy.Stop()
	m.busy.Hide()
	m.status.SetText("Scores and charts on " + rep.Data + ".")
	m.showMetrics(rep.Metrics, rep.Metric, rep.Task)
	var shown []fyne.CanvasObject
	if rep.Confusion != nil {
		shown = append(shown, m.confusion)
	}
	if rep.ROC != nil || rep.OneVsRest != nil {
		shown = append(shown, m.roc)
	}
	if rep.PR != nil || rep.OneVsRest != nil {
		shown = append(shown, m.pr)
	}
	if rep.Calibration != nil {
		shown = append(shown, m.calibration)
	}
	if rep.Actual != nil {
		shown = append(shown, m.fit, m.residuals)
	}
	m.chartGrid.Objects = shown
	m.perf.Content.Refresh()
	m.perf.Refresh() // the content's height changed: lay it out again
	for _, c := range []*charts.Chart{m.confusion, m.roc, m.pr, m.calibration, m.fit, m.residuals, m.importance} {
		c.Update()
	}
	if len(rep.Importance) > 0 {
		m.impNote.SetText("How much the " + app.MetricLabel(rep.Metric, rep.Task) + " score drops when a column's values are " +
			"shuffled (" + rep.ImportanceSource + "). Longer bars: the model relies on that column more.")
	} else {
		m.impNote.SetText("No importance for this model.")
	}
}

// showMetrics lays out one tile per metric, the model's main metric first.
func (m *modelsScreen) showMetrics(scores map[string]float64, main, task string) {
	names := app.SortedMetricNames(scores)
	slices.SortStableFunc(names, func(a, b string) int {
		switch {
		case a == main:
			return -1
		case b == main:
			return 1
		}
		return 0
	})
	tiles := make([]fyne.CanvasObject, 0, len(names))
	for _, name := range names {
		value := widget.NewLabelWithStyle(fmt.Sprintf("%.4f", scores[name]), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		value.SizeName = theme.SizeNameSubHeadingText
		label := widget.NewLabel(app.MetricLabel(name, task))
		label.SizeName = theme.SizeNameCaptionText
		label.Truncation = fyne.TextTruncateEllipsis
		if name == main {
			value.Importance = widget.HighImportance
		}
		tiles = append(tiles, container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), label, value))
	}
	m.metrics.Objects = tiles
	m.metrics.Refresh()
	m.perf.Refresh()
}

// fillCard lists the model card: lineage, parameters, costs, and whatever
// else the training recorded.
func (m *modelsScreen) fillCard(mi app.ModelInfo) {
	card := mi.Card
	var rows []fyne.CanvasObject
	add := func(key, value string) {
		k := widget.NewLabelWithStyle(key, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
		// One line per value (maps: one line per entry), never wrapped: a
		// wrapped label in a form layout overlaps the next row.
		v := widget.NewLabel(value)
		v.Truncation = fyne.TextTruncateEllipsis
		v.Selectable = true
		rows = append(rows, k, v)
	}
	used := map[string]bool{}
	str := func(key string) string {
		used[key] = true
		v, ok := card[key]
		if !ok || v == nil {
			return "—"
		}
		return cardValue(v)
	}
	add("Model", mi.Ref)
	add("Stage", mi.Stage)
	add("Algorithm", mi.Algorithm)
	add("Task", mi.Task)
	if ref := cardString(card, "dataset"); ref != "" {
		used["dataset"] = true
		open := widget.NewButtonWithIcon(ref, theme.NavigateNextIcon(), func() { m.shell.openDataset(ref) })
		open.Importance = widget.LowImportance
		open.IconPlacement = widget.ButtonIconTrailingText
		rows = append(rows, widget.NewLabelWithStyle("Dataset", fyne.TextAlignTrailing, fyne.TextStyle{Bold: true}),
			container.NewHBox(open))
	} else {
		add("Dataset", str("dataset"))
	}
	add("Dataset SHA-256", str("dataset_sha256"))
	add("Target", str("target"))
	if classes, ok := card["classes"].([]any); ok && len(classes) > 0 {
		add("Classes", str("classes"))
	}
	used["classes"] = true
	add("Parameters", str("params"))
	add("Seed", str("seed"))
	if h, ok := card["holdout"].(float64); ok {
		used["holdout"] = true
		if h > 0 {
			add("Held out", fmt.Sprintf("%.0f%% of the rows, for scoring", 100*h))
		} else {
			add("Held out", "nothing: trained on every row")
		}
	}
	if rows, ok := card["rows"].(float64); ok {
		used["rows"] = true
		add("Rows", groupDigits(int64(rows)))
	}
	add("Trained", mi.CreatedAt.Local().Format(time.DateTime))
	if v, ok := card["fit_seconds"].(float64); ok {
		used["fit_seconds"] = true
		add("Training time", (time.Duration(v * float64(time.Second))).Round(time.Millisecond).String())
	}
	if v, ok := card["cpu_seconds"].(float64); ok {
		used["cpu_seconds"] = true
		add("CPU time", fmt.Sprintf("%.2f CPU-seconds", v))
	}
	if v, ok := card["peak_memory_bytes"].(float64); ok {
		used["peak_memory_bytes"] = true
		add("Peak memory", app.FormatBytes(int64(v)))
	}
	add("Artifact", fmt.Sprintf("%s, SHA-256 %s", app.FormatBytes(mi.Bytes), mi.SHA256))
	add("Metric", str("metric"))
	add("Code version", str("code_version"))
	var rest []string
	used["importance"] = true // the Importance tab shows it
	for k := range card {
		if !used[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(strings.ReplaceAll(k, "_", " "), cardValue(card[k]))
	}
	m.card.Objects = rows
	m.card.Refresh()
}

// cardValue writes a card entry for the card's form: a map one "key =
// value" line per key, a list of records one record per line (at most 20),
// other lists on one line.
func cardValue(v any) string {
	switch t := v.(type) {
	case map[string]any:
		return strings.Join(recordFields(t, " = "), "\n")
	case []any:
		if len(t) == 0 {
			return "—"
		}
		if _, records := t[0].(map[string]any); records {
			var lines []string
			for i, x := range t {
				if i == 20 {
					lines = append(lines, fmt.Sprintf("… and %d more", len(t)-20))
					break
				}
				lines = append(lines, inlineValue(x))
			}
			return strings.Join(lines, "\n")
		}
	}
	return inlineValue(v)
}

// inlineValue writes a value on one line: a record as "key value, …".
func inlineValue(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		return app.FormatNumber(t)
	case map[string]any:
		return strings.Join(recordFields(t, " "), ", ")
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = inlineValue(x)
		}
		s := strings.Join(parts, ", ")
		if r := []rune(s); len(r) > 200 {
			s = string(r[:200]) + "…"
		}
		return s
	case nil:
		return "—"
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// recordFields writes a record's fields as "key<sep>value", the keys in
// recordKeys' order with spaces for underscores, the values inline.
func recordFields(m map[string]any, sep string) []string {
	keys := recordKeys(m)
	fields := make([]string, len(keys))
	for i, k := range keys {
		fields[i] = strings.ReplaceAll(k, "_", " ") + sep + inlineValue(m[k])
	}
	return fields
}

// recordKeys orders a record's keys: the ones that say which it is first.
func recordKeys(m map[string]any) []string {
	first := []string{"rank", "trial", "algorithm", "weight", "score", "status"}
	var keys []string
	for _, k := range first {
		if _, ok := m[k]; ok {
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// The charts' draw functions run on the UI goroutine and read m.report.

func (m *modelsScreen) drawConfusion(p charts.Palette, w, h int) image.Image {
	rep := m.report
	if rep == nil || rep.Confusion == nil {
		return charts.Blank(p, w, h)
	}
	cells := make([][]float64, len(rep.Confusion))
	for i, r := range rep.Confusion {
		cells[i] = make([]float64, len(r))
		for j, v := range r {
			cells[i][j] = float64(v)
		}
	}
	return charts.HeatmapAxes("Confusion matrix", "predicted", "actual", rep.Classes, rep.Classes, cells, p, w, h)
}

func (m *modelsScreen) drawROC(p charts.Palette, w, h int) image.Image {
	rep := m.report
	if rep == nil {
		return charts.Blank(p, w, h)
	}
	title := "ROC curve"
	series := []charts.Series{curveSeries(positiveName(rep), rep.ROC)}
	if rep.OneVsRest != nil {
		title = "ROC, each class against the rest"
		series = series[:0]
		for _, c := range rep.OneVsRest {
			series = append(series, curveSeries(fmt.Sprintf("%s (%.3f)", c.Class, c.AUC), c.ROC))
		}
	}
	if v, ok := rep.Metrics["roc_auc"]; ok {
		title += fmt.Sprintf(" (AUC %.3f)", v)
	}
	zero, one := 0.0, 1.0
	return charts.Render(charts.Spec{Title: title, XLabel: "false positive rate", YLabel: "true positive rate",
		Diagonal: true, YMin: &zero, YMax: &one, XMin: &zero, XMax: &one, Series: series}, p, w, h)
}

func (m *modelsScreen) drawPR(p charts.Palette, w, h int) image.Image {
	rep := m.report
	if rep == nil {
		return charts.Blank(p, w, h)
	}
	title, xLabel := "Precision-recall", "recall ("+positiveName(rep)+")"
	series := []charts.Series{curveSeries(positiveName(rep), rep.PR)}
	if rep.OneVsRest != nil {
		title, xLabel = "Precision-recall, each class against the rest", "recall"
		series = series[:0]
		for _, c := range rep.OneVsRest {
			series = append(series, curveSeries(fmt.Sprintf("%s (%.3f)", c.Class, c.AP), c.PR))
		}
	}
	if v, ok := rep.Metrics["pr_auc"]; ok {
		title += fmt.Sprintf(" (AP %.3f)", v)
	}
	zero, one := 0.0, 1.0
	return charts.Render(charts.Spec{Title: title, XLabel: xLabel, YLabel: "precision",
		YMin: &zero, YMax: &one, XMin: &zero, XMax: &one, Series: series, LegendBottomLeft: true}, p, w, h)
}

func (m *modelsScreen) drawCalibration(p charts.Palette, w, h int) image.Image {
	rep := m.report
	if rep == nil {
		return charts.Blank(p, w, h)
	}
	zero, one := 0.0, 1.0
	pos := positiveName(rep)
	return charts.Render(charts.Spec{Title: "Calibration", XLabel: "predicted probability of " + pos,
		YLabel: "observed share of " + pos, Diagonal: true, Points: true, YMin: &zero, YMax: &one, XMin: &zero, XMax: &one,
		Series: []charts.Series{curveSeries("model", rep.Calibration)}}, p, w, h)
}

func (m *modelsScreen) drawFit(p charts.Palette, w, h int) image.Image {
	rep := m.report
	if rep == nil {
		return charts.Blank(p, w, h)
	}
	return charts.Render(charts.Spec{Title: "Predicted against actual", XLabel: "actual", YLabel: "predicted",
		Kind: "scatter", Diagonal: true, Series: []charts.Series{{X: rep.Actual, Y: rep.Predicted}}}, p, w, h)
}

func (m *modelsScreen) drawResiduals(p charts.Palette, w, h int) image.Image {
	rep := m.report
	if rep == nil {
		return charts.Blank(p, w, h)
	}
	return charts.Render(charts.Spec{Title: "Residuals", XLabel: "predicted", YLabel: "actual - predicted",
		Kind: "scatter", ZeroLine: true, Series: []charts.Series{{X: rep.Predicted, Y: rep.Residuals}}}, p, w, h)
}

func (m *modelsScreen) drawImportance(p charts.Palette, w, h int) image.Image {
	rep := m.report
	if rep == nil || len(rep.Importance) == 0 {
		return charts.Blank(p, w, h)
	}
	n := min(len(rep.Importance), 20)
	labels, values := make([]string, n), make([]float64, n)
	for i, imp := range rep.Importance[:n] {
		labels[i], values[i] = imp.Feature, imp.Mean
	}
	title := "Permutation importance"
	if len(rep.Importance) > n {
		title = fmt.Sprintf("Permutation importance (top %d of %d columns)", n, len(rep.Importance))
	}
	return charts.Bars(title, labels, values, p, w, h)
}

func curveSeries(name string, pts []app.CurvePoint) charts.Series {
	s := charts.Series{Name: name, X: make([]float64, len(pts)), Y: make([]float64, len(pts))}
	for i, pt := range pts {
		s.X[i], s.Y[i] = pt.X, pt.Y
	}
	return s
}

func positiveName(rep *app.ModelReport) string {
	if len(rep.Classes) == 2 {
		return rep.Classes[1]
	}
	return "positive"
}

// setStage is the stage picker's handler.
func (m *modelsScreen) setStage(stage string) {
	if m.current == nil || stage == m.current.Stage {
		return
	}
	ref := m.current.Ref
	m.shell.background(func(ctx context.Context) {
		_, err := m.shell.studio.SetModelStage(ctx, ref, stage)
		post(func() {
			if err != nil {
				m.shell.showError("Could not set the stage of "+ref, err)
			}
			m.reload(ref)
		})
	})
}

func (m *modelsScreen) askRename() {
	if m.current == nil {
		return
	}
	name := m.current.Name
	entry := widget.NewEntry()
	entry.SetText(name)
	entry.Validator = func(s string) error {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return fmt.Errorf("a name is needed")
		case strings.ContainsAny(s, "@/\\"):
			return fmt.Errorf("no @, / or \\ in a name")
		}
		return nil
	}
	items := []*widget.FormItem{widget.NewFormItem("New name", entry)}
	d := dialog.NewForm("Rename "+name, "Rename", "Cancel", items, func(ok bool) {
		if ok {
			m.renameTo(strings.TrimSpace(entry.Text))
		}
	}, m.shell.win)
	d.Resize(fyne.NewSize(420, 160))
	d.Show()
	m.shell.win.Canvas().Focus(entry)
}

// renameTo renames the shown model (all its versions) to newName.
func (m *modelsScreen) renameTo(newName string) {
	if m.current == nil {
		return
	}
	old, version := m.current.Name, m.current.Version
	m.shell.background(func(ctx context.Context) {
		err := m.shell.studio.RenameModel(ctx, old, newName)
		post(func() {
			if err != nil {
				m.shell.showError("Could not rename "+old, err)
				return
			}
			m.pending = fmt.Sprintf("%s@%d", newName, version)
			m.reload(m.pending)
		})
	})
}

func (m *modelsScreen) askDelete() {
	if m.current == nil {
		return
	}
	ref := m.current.Ref
	m.shell.background(func(ctx context.Context) {
		deps, err := m.shell.studio.ModelDependents(ctx, ref)
		post(func() {
			if err != nil {
				m.shell.showError("Could not delete "+ref, err)
				return
			}
			msg := "This removes " + ref + " and its artifact from the workspace. The run that trained it stays."
			if len(deps) > 0 {
				msg += "\n\nThese point at it and will stop working:\n  " + strings.Join(deps, "\n  ")
			}
			msg += "\n\nIt cannot be undone."
			text := widget.NewLabel(msg)
			text.Wrapping = fyne.TextWrapWord
			d := dialog.NewCustomConfirm("Delete "+ref+"?", "Delete", "Keep it", text, func(ok bool) {
				if ok {
					m.deleteModel(ref)
				}
			}, m.shell.win)
			d.SetConfirmImportance(widget.DangerImportance)
			d.Resize(fyne.NewSize(480, 240))
			d.Show()
		})
	})
}

func (m *modelsScreen) deleteModel(ref string) {
	m.shell.background(func(ctx context.Context) {
		info, err := m.shell.studio.DeleteModel(ctx, ref)
		post(func() {
			if err != nil {
				m.shell.showError("Could not delete "+ref, err)
				return
			}
			delete(m.reports, info.ID)
			if m.current != nil && m.current.ID == info.ID {
				m.list.UnselectAll()
				m.clear()
			}
			m.reload("")
		})
	})
}

// aliasesOf lists the aliases pointing at model version mi.
func (m *modelsScreen) aliasesOf(mi app.ModelInfo) []string {
	var out []string
	for _, a := range m.aliases {
		if a.Model == mi.Name && a.Version == mi.Version {
			out = append(out, a.Alias)
		}
	}
	return out
}

// askAlias lets the user point an alias (prod, canary…) at the shown
// version, or remove one of its aliases.
func (m *modelsScreen) askAlias() {
	if m.current == nil {
		return
	}
	mi := *m.current
	entry := widget.NewEntry()
	entry.SetPlaceHolder("prod")
	entry.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return fmt.Errorf("an alias is needed")
		}
		return nil
	}
	help := widget.NewLabel(fmt.Sprintf("%s@ALIAS then names this version wherever a model is named: "+
		"a server started on %s@ALIAS follows the alias when it moves.", mi.Name, mi.Name))
	help.Wrapping = fyne.TextWrapWord
	items := []*widget.FormItem{widget.NewFormItem("Alias", entry), widget.NewFormItem("", help)}
	for _, name := range m.aliasesOf(mi) {
		remove := widget.NewButtonWithIcon("Remove "+mi.Name+"@"+name, theme.ContentRemoveIcon(), nil)
		items = append(items, widget.NewFormItem("", remove))
		remove.OnTapped = func() {
			remove.Disable()
			m.removeAlias(mi, name)
		}
	}
	d := dialog.NewForm("Alias for "+mi.Ref, "Set", "Close", items, func(ok bool) {
		if ok {
			m.setAlias(mi.Ref, strings.TrimSpace(entry.Text))
		}
	}, m.shell.win)
	d.Resize(fyne.NewSize(480, 260))
	d.Show()
	m.shell.win.Canvas().Focus(entry)
}

func (m *modelsScreen) setAlias(ref, alias string) {
	m.shell.background(func(ctx context.Context) {
		_, err := m.shell.studio.SetModelAlias(ctx, ref, alias)
		post(func() {
			if err != nil {
				m.shell.showError("Could not set the alias", err)
				return
			}
			m.reload(ref)
		})
	})
}

func (m *modelsScreen) removeAlias(mi app.ModelInfo, alias string) {
	m.shell.background(func(ctx context.Context) {
		err := m.shell.studio.RemoveModelAlias(ctx, mi.Name, alias)
		post(func() {
			if err != nil {
				m.shell.showError("Could not remove the alias", err)
				return
			}
			m.reload(mi.Ref)
		})
	})
}

// askExport asks for the format (when there is a choice) and the file.
func (m *modelsScreen) askExport() {
	if m.current == nil {
		return
	}
	ref, name := m.current.Ref, m.current.Name+"-"+strconv.Itoa(m.current.Version)
	save := func(format string) {
		d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil {
				m.shell.showError("Could not choose where to save", err)
				return
			}
			if w == nil {
				return
			}
			path := w.URI().Path()
			w.Close()
			m.exportTo(ref, format, path)
		}, m.shell.win)
		d.SetFileName(name + exportExtension(format))
		d.Resize(fyne.NewSize(900, 600))
		d.Show()
	}
	if len(app.ExportFormats) == 1 {
		save(app.ExportFormats[0])
		return
	}
	labels := make([]string, len(app.ExportFormats))
	byLabel := map[string]string{}
	for i, f := range app.ExportFormats {
		labels[i] = exportLabel(f)
		byLabel[labels[i]] = f
	}
	pick := widget.NewRadioGroup(labels, nil)
	pick.SetSelected(labels[0])
	dialog.ShowForm("Export "+ref, "Choose file…", "Cancel", []*widget.FormItem{widget.NewFormItem("Format", pick)},
		func(ok bool) {
			if ok && pick.Selected != "" {
				save(byLabel[pick.Selected])
			}
		}, m.shell.win)
}

// exportLabel says what a format is for.
func exportLabel(format string) string {
	switch format {
	case "native":
		return "Modelsmith model (.msmodel), for another Modelsmith workspace"
	case "onnx":
		return "ONNX (.onnx), for onnxruntime and other ONNX tools"
	}
	return format
}

func exportExtension(format string) string {
	switch format {
	case "native":
		return ".msmodel"
	case "onnx":
		return ".onnx"
	}
	return "." + format
}

// exportTo writes model ref in format to path.
func (m *modelsScreen) exportTo(ref, format, path string) {
	m.shell.background(func(ctx context.Context) {
		info, err := m.shell.studio.ExportModelFile(ctx, ref, format, path)
		post(func() {
			if err != nil {
				m.shell.showError("Could not export "+ref, err)
				return
			}
			dialog.ShowInformation("Model exported", fmt.Sprintf("Wrote %s (%s format) to\n%s", info.Ref, format, path), m.shell.win)
		})
	})
}

// askPredict asks for the rows to score, then where to write them.
func (m *modelsScreen) askPredict() {
	if m.current == nil {
		return
	}
	ref := m.current.Ref
	open := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil {
			m.shell.showError("Could not open the file", err)
			return
		}
		if r == nil {
			return
		}
		in := r.URI().Path()
		r.Close()
		save := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil {
				m.shell.showError("Could not choose where to save", err)
				return
			}
			if w == nil {
				return
			}
			out := w.URI().Path()
			// The dialog creates the file; PredictToFile replaces it whole.
			w.Close()
			m.predictTo(ref, in, out)
		}, m.shell.win)
		base := strings.TrimSuffix(filepath.Base(in), ".gz")
		save.SetFileName(strings.TrimSuffix(base, filepath.Ext(base)) + "-predictions.csv")
		save.Resize(fyne.NewSize(900, 600))
		save.Show()
	}, m.shell.win)
	open.Resize(fyne.NewSize(900, 600))
	open.Show()
}

// predictTo scores the rows of file in with model ref and writes them with
// their predictions to out, with progress and Cancel in the task bar.
func (m *modelsScreen) predictTo(ref, in, out string) {
	if m.shell.task.busy() {
		m.shell.showError("Other work is running", fmt.Errorf("wait for it to finish or cancel it, then predict again"))
		return
	}
	ctx, cancel := context.WithCancel(m.shell.ctx)
	label := "Predicting " + filepath.Base(in) + " with " + ref
	m.shell.task.start(label, cancel)
	m.shell.background(func(context.Context) {
		defer cancel()
		res, err := m.shell.studio.PredictToFile(ctx, ref, in, out, m.shell.task.throttled(label))
		post(func() {
			m.shell.task.finish()
			if err != nil {
				if ctx.Err() == nil {
					m.shell.showError("Prediction failed", err)
				}
				return
			}
			msg := fmt.Sprintf("Wrote %s rows with their predictions to\n%s", groupDigits(int64(res.Input.Rows())), out)
			if len(res.Ignored) > 0 {
				msg += "\n\nColumns the model does not use: " + strings.Join(res.Ignored, ", ")
			}
			dialog.ShowInformation("Predictions saved", msg, m.shell.win)
		})
	})
}

func cardString(card map[string]any, key string) string {
	s, _ := card[key].(string)
	return s
}

// modelSummary is the second line of a model in the list.
func modelSummary(mi app.ModelInfo) string {
	s := mi.Algorithm + " · " + mi.Task
	metric, _ := mi.Card["metric"].(string)
	if v, ok := mi.Metrics[metric]; ok {
		s += fmt.Sprintf(" · %s %.4f", app.MetricLabel(metric, mi.Task), v)
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
