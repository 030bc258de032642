package views

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
)

// tryBudget is the time budget of Home's one-click "Try AutoML".
const tryBudget = 30 * time.Second

// automlForm starts an AutoML search: metric, time budget, families, folds.
type automlForm struct {
	t    *trainScreen
	view fyne.CanvasObject

	metric   *widget.Select
	budget   *widget.SelectEntry
	trials   *widget.Entry
	families *widget.CheckGroup
	folds    *widget.Select
	seed     *widget.Entry
	name     *widget.Entry
	status   *widget.Label
	start    *widget.Button
}

var budgetChoices = []string{"30s", "1m", "2m", "5m", "15m", "1h"}
var foldChoices = []string{"auto", "3", "5", "10"}

func newAutoMLForm(t *trainScreen) *automlForm {
	f := &automlForm{t: t}
	f.metric = widget.NewSelect(nil, func(string) { f.validate() })
	f.budget = widget.NewSelectEntry(budgetChoices)
	f.budget.SetText("1m")
	f.budget.Validator = func(s string) error {
		if d, err := time.ParseDuration(strings.TrimSpace(s)); err != nil || d <= 0 {
			return fmt.Errorf("a duration such as 90s, 5m or 1h")
		}
		return nil
	}
	f.budget.OnChanged = func(string) { f.validate() }
	f.trials = widget.NewEntry()
	f.trials.SetPlaceHolder("as many as the budget allows")
	f.trials.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return nil
		}
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err != nil || n < 1 {
			return fmt.Errorf("a whole number ≥ 1, or empty")
		}
		return nil
	}
	f.trials.OnChanged = func(string) { f.validate() }
	f.families = widget.NewCheckGroup(app.AutoMLFamilies(), func([]string) { f.validate() })
	f.families.Horizontal = true
	f.families.SetSelected(app.AutoMLFamilies())
	f.folds = widget.NewSelect(foldChoices, nil)
	f.folds.SetSelected("auto")
	f.seed = newSeedEntry(f.validate)
	f.name = widget.NewEntry()
	f.status = widget.NewLabel("")
	f.status.Wrapping = fyne.TextWrapWord
	f.start = widget.NewButtonWithIcon("Start AutoML", theme.MediaPlayIcon(), f.run)
	f.start.Importance = widget.HighImportance

	form := widget.NewForm(
		&widget.FormItem{Text: "Metric", Widget: f.metric, HintText: "what the search optimises; the first is the task's usual one"},
		&widget.FormItem{Text: "Time budget", Widget: f.budget, HintText: "the whole search, reading the data and registering the best included"},
		&widget.FormItem{Text: "Trials", Widget: f.trials, HintText: "at most this many candidates (a fixed count makes the search repeatable)"},
		&widget.FormItem{Text: "Algorithms", Widget: f.families},
		&widget.FormItem{Text: "CV folds", Widget: f.folds, HintText: "auto: k-fold on small data, a holdout on large"},
		&widget.FormItem{Text: "Seed", Widget: f.seed},
		&widget.FormItem{Text: "Model name", Widget: f.name, HintText: "the best model is registered under it"},
	)
	f.view = container.NewBorder(nil, container.NewBorder(nil, nil, nil, f.start, f.status), nil, nil, container.NewVScroll(form))
	return f
}

// taskChanged offers the task's metrics, its default first.
func (f *automlForm) taskChanged() {
	metrics := app.TaskMetrics(f.t.task.Selected)
	f.metric.SetOptions(metrics)
	if len(metrics) > 0 && !slices.Contains(metrics, f.metric.Selected) {
		f.metric.SetSelected(metrics[0])
	}
	if f.t.detail != nil {
		f.name.SetPlaceHolder(f.t.detail.Name + "-automl")
	}
	f.validate()
}

func (f *automlForm) validate() {
	if f.start == nil {
		return
	}
	msg := f.t.ready()
	switch {
	case msg != "":
	case f.metric.Selected == "":
		msg = "Choose a metric."
	case f.budget.Validate() != nil:
		msg = "Time budget: " + f.budget.Validate().Error() + "."
	case f.trials.Validate() != nil:
		msg = "Trials: " + f.trials.Validate().Error() + "."
	case len(f.families.Selected) == 0:
		msg = "Choose at least one algorithm."
	case f.seed.Validate() != nil:
		msg = "Seed: " + f.seed.Validate().Error() + "."
	}
	if msg != "" {
		f.status.SetText(msg)
		f.status.Importance = widget.DangerImportance
		f.start.Disable()
	} else {
		f.status.SetText(fmt.Sprintf("Searches %d algorithms for %s to predict %s (%s), optimising %s.",
			len(f.families.Selected), f.t.detail.Ref, f.t.target.Selected, f.t.task.Selected, f.metric.Selected))
		f.status.Importance = widget.MediumImportance
		f.start.Enable()
	}
	f.status.Refresh()
}

func (f *automlForm) options() app.AutoMLOptions {
	budget, _ := time.ParseDuration(strings.TrimSpace(f.budget.Text))
	trials, _ := strconv.Atoi(strings.TrimSpace(f.trials.Text))
	seed := seedValue(f.seed)
	folds, _ := strconv.Atoi(f.folds.Selected) // "auto" is 0
	return app.AutoMLOptions{Data: f.t.detail.Ref, Target: f.t.target.Selected, Task: f.t.task.Selected,
		Metric: f.metric.Selected, Budget: budget, Trials: trials, Seed: seed,
		Families: append([]string(nil), f.families.Selected...), Folds: folds, Name: strings.TrimSpace(f.name.Text)}
}

func (f *automlForm) run() {
	f.validate()
	if f.start.Disabled() {
		return
	}
	f.t.shell.startAutoML(f.options())
}

// tryAutoML is Home's one click: the sample (added back if deleted), its
// likely target, its detected task, a short budget; then the Runs screen.
func (s *Shell) tryAutoML(sample string) {
	s.openSample(sample, func(ref string) {
		s.background(func(ctx context.Context) {
			detail, err := s.studio.Dataset(ctx, ref)
			post(func() {
				if err != nil {
					s.showError("Could not open "+ref, err)
					return
				}
				target := app.GuessTarget(detail.Schema)
				task := ""
				for _, c := range detail.Schema {
					if c.Name == target {
						task = app.GuessTask(c)
					}
				}
				s.startAutoML(app.AutoMLOptions{Data: ref, Target: target, Task: task, Budget: tryBudget, Seed: 1})
			})
		})
	})
}
