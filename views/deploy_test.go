package views

import (
	"bytes"
	"context"
	"image"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"modelsmith/app"
)

func TestDeployScreenServesTriesAndStops(t *testing.T) {
	s, w := newTestShell(t)
	if s.screenNamed("Deploy") == nil {
		t.Fatal("no Deploy screen in the navigation")
	}
	if _, err := s.studio.Train(context.Background(), app.TrainOptions{Data: "iris", Target: "species", Algorithm: "linear",
		Name: "flowers", Seed: 1, Holdout: 0.2, Params: map[string]string{}}, nil); err != nil {
		t.Fatal(err)
	}
	var d *deployScreen
	onUI(func() {
		d = newDeployScreen(s)
		w.SetContent(d.view)
		d.onShow()
	})
	eventually(t, "the model list", func() bool { return d.model.Selected == "flowers" && len(d.fields) == 4 })
	// The form starts from typical values of the training data: the mean of a number.
	eventually(t, "typical values in the form", func() bool { return strings.Contains(d.python.Text, `"petal_width_cm": 1.199`) })
	onUI(func() {
		for _, want := range []string{"sepal_length_cm", "/v2/models/flowers/infer", `"datatype":"FP64"`} {
			if !strings.Contains(d.curl.Text, want) || !strings.Contains(d.golang.Text, "flowers") {
				t.Errorf("curl snippet lacks %s:\n%s", want, d.curl.Text)
			}
		}
		d.addr.SetText("127.0.0.1:0")
		test.Tap(d.startStop)
	})
	eventually(t, "the server to start", func() bool { return d.srv != nil && !d.tryButton.Disabled() })
	onUI(func() {
		if !strings.HasPrefix(d.endpoint.Text, "http://127.0.0.1:") || strings.Contains(d.endpoint.Text, ":0/") {
			t.Errorf("endpoint %q", d.endpoint.Text)
		}
		d.fields[2].SetText("1.4")
		d.fields[3].SetText("0.2")
		test.Tap(d.tryButton)
	})
	eventually(t, "the try-it answer", func() bool { return strings.HasPrefix(d.result.Text, "200 OK") })
	onUI(func() {
		if !strings.Contains(d.result.Text, `"label"`) {
			t.Errorf("answer: %s", d.result.Text)
		}
	})
	eventually(t, "live numbers", func() bool { return len(d.history) > 0 && strings.Contains(d.recent.Text, "1 requests") })
	onUI(func() { test.Tap(d.startStop) })
	eventually(t, "the server to stop", func() bool { return d.srv == nil && strings.HasPrefix(d.status.Text, "Stopped: 1 requests") })
	deps, err := s.studio.Deployments(context.Background(), false)
	if err != nil || len(deps) != 1 || deps[0].Status != "stopped" || deps[0].Predictions != 1 {
		t.Errorf("deployments: %+v, %v", deps, err)
	}
}

func TestSnippetsQuoteAndAuth(t *testing.T) {
	in := []sigInput{{Name: "age", Type: "numeric"}, {Name: "name", Type: "categorical", Levels: []string{"O'Brien"}}}
	curl, py, golang := snippets("http://h/v2/models/m/infer", in, []string{"", "O'Brien"}, true)
	if !strings.Contains(curl, `'\''`) || !strings.Contains(curl, "Bearer $MODELSMITH_TOKEN") || !strings.Contains(curl, `"data":[null]`) {
		t.Errorf("curl:\n%s", curl)
	}
	if !strings.Contains(py, `"age": None`) || !strings.Contains(py, `numeric = {"age"}`) {
		t.Errorf("python:\n%s", py)
	}
	if !strings.Contains(golang, `os.Getenv("MODELSMITH_TOKEN")`) {
		t.Errorf("go:\n%s", golang)
	}
}

// TestDeployScreenshots saves the Deploy screen while it serves and answers
// requests, light and dark, for a person to look at: set
// MODELSMITH_SCREENSHOTS to a folder.
func TestDeployScreenshots(t *testing.T) {
	dir := os.Getenv("MODELSMITH_SCREENSHOTS")
	if dir == "" {
		t.Skip("set MODELSMITH_SCREENSHOTS=DIR to save screenshots of the Deploy screen")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s, w := newTestShell(t)
	if _, err := s.studio.Train(context.Background(), app.TrainOptions{Data: "adult", Target: "income", Algorithm: "gbdt",
		Name: "income", Seed: 1, Holdout: 0.2, Params: map[string]string{}}, nil); err != nil {
		t.Fatal(err)
	}
	var d *deployScreen
	onUI(func() {
		d = newDeployScreen(s)
		w.SetContent(d.view)
		w.Resize(fyne.NewSize(1100, 820))
		d.onShow()
	})
	eventually(t, "the model list", func() bool { return d.model.Selected == "income" && len(d.fields) > 0 })
	onUI(func() {
		d.addr.SetText("127.0.0.1:0")
		test.Tap(d.startStop)
	})
	eventually(t, "the server", func() bool { return d.srv != nil })
	var url string
	onUI(func() { url = d.endpoint.Text })
	body := inferBody(d.inputs, func() []string {
		var v []string
		onUI(func() {
			for _, f := range d.fields {
				v = append(v, f.Text)
			}
		})
		return v
	}())
	deadline := time.Now().Add(6 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		resp, err := http.Post(url, "application/json", bytes.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		time.Sleep(time.Duration(1+i%5) * time.Millisecond)
	}
	onUI(func() { test.Tap(d.tryButton) })
	eventually(t, "the try-it answer", func() bool { return strings.HasPrefix(d.result.Text, "200") })
	for _, variant := range []string{"light", "dark"} {
		th := theme.LightTheme()
		if variant == "dark" {
			th = theme.DarkTheme()
		}
		onUI(func() { fyne.CurrentApp().Settings().SetTheme(th) })
		time.Sleep(1200 * time.Millisecond)
		var img image.Image
		onUI(func() { img = w.Canvas().Capture() })
		writeShot(t, filepath.Join(dir, "deploy_serving_"+variant+".png"), img)
	}
	onUI(func() { test.Tap(d.startStop) })
	eventually(t, "the server to stop", func() bool { return d.srv == nil })
}
