package views

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"modelsmith/app"
	"modelsmith/views/charts"
)

// deployScreen starts and stops an inference server on one model, shows its
// endpoint, the workspace's tokens, code snippets for the model's real
// inputs, a try-it form and live charts of request rate and latency.
type deployScreen struct {
	s    *Shell
	view fyne.CanvasObject

	model     *widget.Select
	addr      *widget.Entry
	startStop *widget.Button
	status    *widget.Label
	endpoint  *widget.Label

	tokens     *fyne.Container
	tokenEntry *widget.Entry // the token the try-it form sends
	left       *container.Scroll

	snippets *container.AppTabs
	curl     *widget.Entry
	python   *widget.Entry
	golang   *widget.Entry

	form      *fyne.Container
	fields    []*widget.Entry
	tryButton *widget.Button
	result    *widget.Label

	rateChart, latChart *charts.Chart
	recent              *widget.Label

	// UI goroutine only.
	models  []app.ModelInfo
	inputs  []sigInput
	srv     *app.Server
	stop    chan struct{} // closed to stop srv
	history []statPoint
}

type sigInput struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Levels []string `json:"levels"`
}

type statPoint struct {
	t              float64 // seconds since start
	rate, p50, p99 float64
}

func newDeployScreen(s *Shell) *deployScreen {
	d := &deployScreen{s: s}
	d.model = widget.NewSelect(nil, func(string) { d.modelChanged() })
	d.model.PlaceHolder = "Choose a model"
	d.addr = widget.NewEntry()
	d.addr.SetText("127.0.0.1:8080")
	d.startStop = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), d.toggle)
	d.startStop.Importance = widget.HighImportance
	d.status = widget.NewLabel("Stopped.")
	d.endpoint = widget.NewLabel("")
	d.endpoint.TextStyle = fyne.TextStyle{Monospace: true}
	copyEndpoint := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		d.s.win.Clipboard().SetContent(d.endpoint.Text)
	})
	top := container.NewVBox(
		container.NewBorder(nil, nil, widget.NewLabel("Model"), nil, d.model),
		container.NewBorder(nil, nil, widget.NewLabel("Address"), d.startStop, d.addr),
		d.status,
		container.NewBorder(nil, nil, nil, copyEndpoint, d.endpoint),
	)

	d.tokens = container.NewVBox()
	d.tokenEntry = widget.NewPasswordEntry()
	d.tokenEntry.SetPlaceHolder("Token for Try it, once one exists")
	newToken := widget.NewButtonWithIcon("Create token", theme.ContentAddIcon(), d.createToken)
	tokensRule := widget.NewLabel("Once a token exists, every request needs one. Only hashes are stored.")
	tokensRule.Wrapping = fyne.TextWrapWord
	tokensCard := widget.NewCard("Tokens", "", container.NewVBox(tokensRule, d.tokens, newToken, d.tokenEntry))

	mono := func() *widget.Entry {
		e := widget.NewMultiLineEntry()
		e.TextStyle = fyne.TextStyle{Monospace: true}
		e.Wrapping = fyne.TextWrapOff
		e.SetMinRowsVisible(8)
		return e
	}
	d.curl, d.python, d.golang = mono(), mono(), mono()
	copyOf := func(e *widget.Entry) fyne.CanvasObject {
		return container.NewBorder(nil, container.NewHBox(widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
			d.s.win.Clipboard().SetContent(e.Text)
		})), nil, nil, e)
	}
	d.snippets = container.NewAppTabs(
		container.NewTabItem("curl", copyOf(d.curl)),
		container.NewTabItem("Python", copyOf(d.python)),
		container.NewTabItem("Go", copyOf(d.golang)),
	)

	d.form = container.NewGridWithColumns(2)
	d.tryButton = widget.NewButtonWithIcon("Predict", theme.MediaPlayIcon(), d.try)
	d.tryButton.Disable()
	d.result = widget.NewLabel("Start the server, fill in a row and press Predict.")
	d.result.Wrapping = fyne.TextWrapWord
	tryCard := widget.NewCard("Try it", "", container.NewVBox(d.form, d.tryButton, d.result))

	d.rateChart = charts.NewChart(fyne.NewSize(250, 190), d.drawRate)
	d.latChart = charts.NewChart(fyne.NewSize(250, 190), d.drawLatency)
	d.recent = widget.NewLabel("")
	d.recent.TextStyle = fyne.TextStyle{Monospace: true}
	d.recent.Truncation = fyne.TextTruncateEllipsis
	live := widget.NewCard("Live", "", container.NewVBox(container.NewGridWithColumns(2, d.rateChart, d.latChart), d.recent))

	left := container.NewVBox(top, tokensCard, widget.NewCard("Code", "", d.snippets))
	right := container.NewVBox(live, tryCard)
	// Each side scrolls vertically and fits its pane's width: long lines wrap
	// (texts), are cut with an ellipsis (recent requests) or scroll inside
	// their own box (snippets), so nothing is clipped at the split.
	d.left = container.NewVScroll(left)
	split := container.NewHSplit(d.left, container.NewVScroll(right))
	split.Offset = 0.45
	d.view = split
	return d
}

func (d *deployScreen) onShow() { d.reload() }

// selectRef preselects a model ("name" or "name@version").
func (d *deployScreen) selectRef(ref string) {
	d.reload()
	d.model.SetSelected(ref)
}

// reload lists the models (with their aliases) and the tokens.
func (d *deployScreen) reload() {
	d.s.background(func(ctx context.Context) {
		models, err := d.s.studio.Models(ctx)
		if err != nil {
			post(func() { d.s.showError("Could not list the models", err) })
			return
		}
		aliases, _ := d.s.studio.ModelAliases(ctx, "")
		tokens, terr := d.s.studio.Tokens(ctx, false)
		post(func() {
			d.models = models
			var opts []string
			seen := map[string]bool{}
			for i := len(models) - 1; i >= 0; i-- { // newest first
				m := models[i]
				if !seen[m.Name] {
					seen[m.Name] = true
					opts = append(opts, m.Name)
				}
			}
			sort.Strings(opts)
			for _, a := range aliases {
				opts = append(opts, a.Model+"@"+a.Alias)
			}
			for _, m := range models {
				opts = append(opts, m.Ref)
			}
			d.model.Options = opts
			d.model.Refresh()
			if len(opts) == 0 && d.srv == nil {
				d.status.SetText("No models yet: train one on the Train screen, then serve it here.")
			}
			if d.model.Selected == "" && len(opts) > 0 {
				d.model.SetSelected(opts[0])
			}
			if terr == nil {
				d.showTokens(tokens)
			}
		})
	})
}

func (d *deployScreen) showTokens(tokens []app.TokenInfo) {
	d.tokens.Objects = nil
	if len(tokens) == 0 {
		d.tokens.Add(widget.NewLabel("No tokens: on loopback, requests need none."))
	}
	for _, t := range tokens {
		id := t.ID
		label := fmt.Sprintf("%d  %s…  %s  %s", t.ID, t.Prefix, t.Name, t.CreatedAt.Local().Format(time.DateTime))
		revoke := widget.NewButtonWithIcon("Revoke", theme.DeleteIcon(), func() {
			d.s.background(func(ctx context.Context) {
				err := d.s.studio.RevokeToken(ctx, id)
				post(func() {
					if err != nil {
						d.s.showError("Could not revoke the token", err)
					}
					d.reload()
				})
			})
		})
		d.tokens.Add(container.NewBorder(nil, nil, nil, revoke, widget.NewLabel(label)))
	}
	// The list's height changed: lay the whole column out again, or the
	// cards below keep their old places and overlap it.
	d.left.Refresh()
}

func (d *deployScreen) createToken() {
	name := widget.NewEntry()
	name.SetPlaceHolder("a name, e.g. the client that will use it")
	dialog.ShowForm("Create a token", "Create", "Cancel", []*widget.FormItem{widget.NewFormItem("Name", name)}, func(ok bool) {
		if !ok {
			return
		}
		label := name.Text
		d.s.background(func(ctx context.Context) {
			_, secret, err := d.s.studio.CreateToken(ctx, label)
			post(func() {
				if err != nil {
					d.s.showError("Could not create a token", err)
					return
				}
				d.tokenEntry.SetText(secret)
				shown := widget.NewEntry()
				shown.SetText(secret)
				copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { d.s.win.Clipboard().SetContent(secret) })
				dialog.ShowCustom("Your new token", "Done", container.NewVBox(
					widget.NewLabel("Copy it now: it is shown only once. From now on every request needs a token."),
					container.NewBorder(nil, nil, nil, copyBtn, shown)), d.s.win)
				d.reload()
				d.refreshSnippets()
			})
		})
	}, d.s.win)
}

// modelChanged rebuilds the try-it form and the snippets for the chosen
// model's inputs.
func (d *deployScreen) modelChanged() {
	ref := d.model.Selected
	name, _, _ := strings.Cut(ref, "@")
	var sig struct {
		Inputs []sigInput `json:"inputs"`
	}
	dataset := ""
	for _, m := range d.models {
		if m.Name == name {
			_ = json.Unmarshal(m.Signature, &sig) // the last (newest) version's inputs
			dataset = m.DatasetRef
		}
	}
	d.inputs = sig.Inputs
	d.form.Objects = nil
	d.fields = nil
	for _, in := range d.inputs {
		e := widget.NewEntry()
		switch {
		case in.Type == "numeric":
			e.SetText("0")
		case len(in.Levels) > 0:
			e.SetText(in.Levels[0])
		}
		e.OnChanged = func(string) { d.refreshSnippets() }
		d.fields = append(d.fields, e)
		d.form.Add(widget.NewLabel(in.Name + " (" + in.Type + ")"))
		d.form.Add(e)
	}
	d.form.Refresh()
	d.refreshSnippets()
	if dataset != "" {
		d.fillTypical(ref, dataset)
	}
}

// typicalNumber writes a mean as a person would type it: whole above 1000,
// else with four significant digits.
func typicalNumber(v float64) string {
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// fillTypical replaces the form's starting values by typical ones from the
// model's training data (a numeric column's mean, a category's commonest
// level), in the background; fields the user has already edited are kept.
func (d *deployScreen) fillTypical(ref, dataset string) {
	start := make([]string, len(d.fields))
	for i, f := range d.fields {
		start[i] = f.Text
	}
	d.s.background(func(ctx context.Context) {
		detail, err := d.s.studio.Dataset(ctx, dataset)
		if err != nil {
			return // the dataset may be gone; the starting values stay
		}
		typical := map[string]string{}
		for _, c := range detail.Schema {
			switch p := c.Profile; {
			case c.Type == "numeric" && p.Mean != nil:
				typical[c.Name] = typicalNumber(*p.Mean)
			case len(p.Top) > 0:
				typical[c.Name] = p.Top[0].Value
			}
		}
		post(func() {
			if d.model.Selected != ref || len(d.fields) != len(start) {
				return
			}
			for i, in := range d.inputs {
				if v, ok := typical[in.Name]; ok && d.fields[i].Text == start[i] {
					d.fields[i].SetText(v)
				}
			}
		})
	})
}

func (d *deployScreen) servedName() string {
	name, _, _ := strings.Cut(d.model.Selected, "@")
	return name
}

func (d *deployScreen) baseURL() string {
	if d.srv != nil {
		return d.srv.URL()
	}
	return "http://" + d.addr.Text
}

func (d *deployScreen) refreshSnippets() {
	values := make([]string, len(d.fields))
	for i, f := range d.fields {
		values[i] = f.Text
	}
	c, p, g := snippets(d.baseURL()+"/v2/models/"+d.servedName()+"/infer", d.inputs, values, d.tokenEntry.Text != "")
	d.curl.SetText(c)
	d.python.SetText(p)
	d.golang.SetText(g)
}

// exampleValue is a cell as JSON: a number for numeric inputs that parse
// (null when empty), else a string.
func exampleValue(in sigInput, text string) any {
	if in.Type == "numeric" {
		if strings.TrimSpace(text) == "" {
			return nil
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil {
			return f
		}
	}
	return text
}

// inferBody is an OIP request with one row.
func inferBody(inputs []sigInput, values []string) []byte {
	type tensor struct {
		Name     string `json:"name"`
		Datatype string `json:"datatype"`
		Shape    []int  `json:"shape"`
		Data     []any  `json:"data"`
	}
	var ts []tensor
	for i, in := range inputs {
		dt := "BYTES"
		if in.Type == "numeric" {
			dt = "FP64"
		}
		v := ""
		if i < len(values) {
			v = values[i]
		}
		ts = append(ts, tensor{Name: in.Name, Datatype: dt, Shape: []int{1}, Data: []any{exampleValue(in, v)}})
	}
	b, _ := json.Marshal(map[string]any{"inputs": ts})
	return b
}

// snippets are curl, Python requests and Go net/http calls of url with one
// row of the model's real inputs.
func snippets(url string, inputs []sigInput, values []string, auth bool) (curl, python, golang string) {
	body := string(inferBody(inputs, values))
	authCurl, authPy, authGo := "", "", ""
	if auth {
		authCurl = " \\\n  -H \"Authorization: Bearer $MODELSMITH_TOKEN\""
		authPy = ", \"Authorization\": \"Bearer \" + os.environ[\"MODELSMITH_TOKEN\"]"
		authGo = "\n\treq.Header.Set(\"Authorization\", \"Bearer \"+os.Getenv(\"MODELSMITH_TOKEN\"))"
	}
	curl = fmt.Sprintf("curl -s -X POST %s \\\n  -H 'Content-Type: application/json'%s \\\n  -d '%s'\n",
		url, authCurl, strings.ReplaceAll(body, "'", `'\''`))

	var row []string
	for i, in := range inputs {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		b, _ := json.Marshal(exampleValue(in, v))
		pv := string(b)
		if pv == "null" {
			pv = "None"
		}
		row = append(row, fmt.Sprintf("    %q: %s,", in.Name, pv))
	}
	var dtypes []string
	for _, in := range inputs {
		if in.Type == "numeric" {
			dtypes = append(dtypes, fmt.Sprintf("%q", in.Name))
		}
	}
	python = fmt.Sprintf(`import os
import requests

row = {
%s
}
numeric = {%s}
request = {"inputs": [
    {"name": k, "datatype": "FP64" if k in numeric else "BYTES", "shape": [1], "data": [v]}
    for k, v in row.items()
]}
r = requests.post(%q, json=request,
                  headers={"Content-Type": "application/json"%s})
r.raise_for_status()
print(r.json()["outputs"])
`, strings.Join(row, "\n"), strings.Join(dtypes, ", "), url, authPy)

	golang = fmt.Sprintf("package main\n\nimport (\n\t\"fmt\"\n\t\"io\"\n\t\"net/http\"\n\t\"os\"\n\t\"strings\"\n)\n\n"+
		"func main() {\n\tbody := `%s`\n\treq, err := http.NewRequest(\"POST\", %q, strings.NewReader(body))\n"+
		"\tif err != nil {\n\t\tpanic(err)\n\t}\n\treq.Header.Set(\"Content-Type\", \"application/json\")%s\n"+
		"\tresp, err := http.DefaultClient.Do(req)\n\tif err != nil {\n\t\tfmt.Fprintln(os.Stderr, err)\n\t\tos.Exit(1)\n\t}\n"+
		"\tdefer resp.Body.Close()\n\tout, _ := io.ReadAll(resp.Body)\n\tfmt.Println(resp.Status, string(out))\n}\n",
		body, url, authGo)
	return curl, python, golang
}

// toggle starts or stops the server.
func (d *deployScreen) toggle() {
	if d.srv != nil {
		close(d.stop)
		d.startStop.Disable()
		d.status.SetText("Stopping: finishing requests in flight and writing the prediction log…")
		return
	}
	ref := d.model.Selected
	if ref == "" {
		d.s.showError("No model chosen", fmt.Errorf("train or import a model first, then choose it here"))
		return
	}
	opts := app.ServeOptions{Addr: strings.TrimSpace(d.addr.Text), Models: []string{d.servedName() + "=" + ref}}
	d.startStop.Disable()
	d.status.SetText("Starting…")
	stop := make(chan struct{})
	d.s.background(func(ctx context.Context) {
		srv, err := d.s.studio.Serve(ctx, opts)
		post(func() {
			d.startStop.Enable()
			if err != nil {
				d.status.SetText("Stopped.")
				d.s.showError("Could not start the server", err)
				return
			}
			d.srv, d.stop, d.history = srv, stop, nil
			d.startStop.SetText("Stop")
			d.startStop.SetIcon(theme.MediaStopIcon())
			d.status.SetText("Serving " + strings.Join(srv.Stats(0).Serving, ", ") + ". Stop drains and logs every request.")
			d.endpoint.SetText(srv.URL() + "/v2/models/" + d.servedName() + "/infer")
			d.tryButton.Enable()
			d.refreshSnippets()
		})
		if err != nil {
			return
		}
		start := time.Now()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-stop:
				break loop
			case <-tick.C:
				st := srv.Stats(5 * time.Second)
				t := time.Since(start).Seconds()
				post(func() { d.showStats(t, st) })
			}
		}
		serr := srv.Stop(context.WithoutCancel(ctx))
		st := srv.Stats(0)
		post(func() {
			d.srv = nil
			d.startStop.Enable()
			d.startStop.SetText("Start")
			d.startStop.SetIcon(theme.MediaPlayIcon())
			d.tryButton.Disable()
			msg := fmt.Sprintf("Stopped: %d requests answered, %d rows logged, %d errors.", st.Requests, st.Logged, st.Errors)
			if serr != nil {
				msg += " " + serr.Error()
			}
			d.status.SetText(msg)
		})
	})
}

// keepHistory is how many seconds the live charts show.
const keepHistory = 120

func (d *deployScreen) showStats(t float64, st app.ServerStats) {
	d.history = append(d.history, statPoint{t: t, rate: st.Rate, p50: st.P50MS, p99: st.P99MS})
	if len(d.history) > keepHistory {
		d.history = d.history[len(d.history)-keepHistory:]
	}
	d.rateChart.Update()
	d.latChart.Update()
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests, %d errors, %d rows logged\n%.0f req/s, p50 %.2f ms, p99 %.2f ms (last 5 s)\n",
		st.Requests, st.Errors, st.Logged, st.Rate, st.P50MS, st.P99MS)
	for i, r := range st.Recent {
		if i == 8 {
			break
		}
		out := r.Output
		if len(out) > 44 {
			out = out[:43] + "…"
		}
		fmt.Fprintf(&b, "%s %6.2f ms  %s\n", r.At.Local().Format("15:04:05"), r.LatencyMS, out)
	}
	d.recent.SetText(b.String())
}

func (d *deployScreen) series(f func(statPoint) float64) (xs, ys []float64) {
	for _, p := range d.history {
		xs = append(xs, p.t)
		ys = append(ys, f(p))
	}
	return xs, ys
}

func (d *deployScreen) drawRate(p charts.Palette, w, h int) image.Image {
	x, y := d.series(func(s statPoint) float64 { return s.rate })
	return charts.Render(charts.Spec{Title: "Requests per second", XLabel: "seconds", YLabel: "req/s",
		Series: []charts.Series{{Name: "rate", X: x, Y: y}}}, p, w, h)
}

func (d *deployScreen) drawLatency(p charts.Palette, w, h int) image.Image {
	x, p50 := d.series(func(s statPoint) float64 { return s.p50 })
	_, p99 := d.series(func(s statPoint) float64 { return s.p99 })
	return charts.Render(charts.Spec{Title: "Latency", XLabel: "seconds", YLabel: "ms",
		Series: []charts.Series{{Name: "p50", X: x, Y: p50}, {Name: "p99", X: x, Y: p99}}}, p, w, h)
}

// try sends the form's row to the running server over HTTP, as any client
// would.
func (d *deployScreen) try() {
	if d.srv == nil {
		return
	}
	values := make([]string, len(d.fields))
	for i, f := range d.fields {
		values[i] = f.Text
	}
	url := d.srv.URL() + "/v2/models/" + d.servedName() + "/infer"
	body := inferBody(d.inputs, values)
	token := d.tokenEntry.Text
	d.result.SetText("…")
	d.s.background(func(ctx context.Context) {
		text := tryRequest(ctx, url, token, body)
		post(func() { d.result.SetText(text) })
	})
}

func tryRequest(ctx context.Context, url, token string, body []byte) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") == nil {
		out = pretty.Bytes()
	}
	return resp.Status + "\n" + string(out)
}
