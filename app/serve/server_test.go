package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modelsmith/app"
	"modelsmith/app/serve"
)

func openStudio(t *testing.T) *app.Studio {
	t.Helper()
	s, err := app.Open(context.Background(), app.Options{Path: filepath.Join(t.TempDir(), "w.modelsmith")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func train(t *testing.T, s *app.Studio, dataset, target, algo, name string, params ...string) app.ModelInfo {
	t.Helper()
	p := map[string]string{}
	for _, kv := range params {
		k, v, _ := strings.Cut(kv, "=")
		p[k] = v
	}
	res, err := s.Train(context.Background(), app.TrainOptions{Data: dataset, Target: target, Algorithm: algo, Name: name,
		Seed: 1, Holdout: 0.2, Params: p}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Model
}

func start(t *testing.T, s *app.Studio, models ...string) *app.Server {
	t.Helper()
	srv, err := s.Serve(context.Background(), app.ServeOptions{Addr: "127.0.0.1:0", Models: models,
		MaxBodyBytes: 64 << 10, PollEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	return srv
}

type reply struct {
	code int
	body string
	json map[string]any
}

func call(t *testing.T, method, url, token, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, body: string(b)}
	_ = json.Unmarshal(b, &r.json)
	return r
}

const irisRow = `{"id":"r-1","inputs":[
	{"name":"sepal_length_cm","datatype":"FP64","shape":[2],"data":[5.1,6.7]},
	{"name":"sepal_width_cm","datatype":"FP32","shape":[2,1],"data":[[3.5],[3.0]]},
	{"name":"petal_length_cm","datatype":"INT64","shape":[2],"data":[1,5]},
	{"name":"petal_width_cm","datatype":"FP64","shape":[2],"data":[0.2,null]}]}`

func TestOpenInferenceProtocol(t *testing.T) {
	s := openStudio(t)
	train(t, s, "iris", "species", "gbdt", "iris")
	train(t, s, "california_housing", "median_house_value", "linear", "house")
	srv := start(t, s, "iris", "h=house@1")
	u := srv.URL()

	for _, path := range []string{"/v2/health/live", "/v2/health/ready", "/v2/models/iris/ready", "/v2/models/h/versions/1", "/v2"} {
		if r := call(t, "GET", u+path, "", "", ""); r.code != 200 {
			t.Errorf("GET %s: %d %s", path, r.code, r.body)
		}
	}
	meta := call(t, "GET", u+"/v2/models/iris", "", "", "")
	if meta.code != 200 || len(meta.json["inputs"].([]any)) != 4 || meta.json["versions"].([]any)[0] != "1" {
		t.Errorf("metadata: %s", meta.body)
	}

	r := call(t, "POST", u+"/v2/models/iris/infer", "", "application/json", irisRow)
	if r.code != 200 {
		t.Fatalf("infer: %d %s", r.code, r.body)
	}
	outs := r.json["outputs"].([]any)
	label := outs[0].(map[string]any)
	proba := outs[1].(map[string]any)
	if r.json["id"] != "r-1" || label["name"] != "label" || fmt.Sprint(label["data"]) != "[setosa virginica]" ||
		fmt.Sprint(proba["shape"]) != "[2 3]" || len(proba["data"].([]any)) != 6 {
		t.Errorf("infer response: %s", r.body)
	}
	// The same rows through /predict as JSON records and as CSV agree.
	p := call(t, "POST", u+"/predict?model=iris", "", "application/json",
		`[{"sepal_length_cm":5.1,"sepal_width_cm":3.5,"petal_length_cm":1,"petal_width_cm":0.2,"species":"ignored"}]`)
	if p.code != 200 || !strings.Contains(p.body, `"label":"setosa"`) {
		t.Errorf("predict JSON: %d %s", p.code, p.body)
	}
	c := call(t, "POST", u+"/v2/models/iris/predict", "", "text/csv",
		"petal_width_cm,sepal_length_cm,sepal_width_cm,petal_length_cm\n0.2,5.1,3.5,1\n,6.7,3.0,5\n")
	if c.code != 200 || !strings.HasPrefix(c.body, "prediction,proba_setosa") || !strings.Contains(c.body, "\nvirginica,") {
		t.Errorf("predict CSV: %d %s", c.code, c.body)
	}
	h := call(t, "POST", u+"/v2/models/h/infer", "", "", `{"inputs":[
		{"name":"longitude","datatype":"FP64","shape":[1],"data":[-122.2]},
		{"name":"latitude","datatype":"FP64","shape":[1],"data":[37.8]},
		{"name":"housing_median_age","datatype":"FP64","shape":[1],"data":[41]},
		{"name":"total_rooms","datatype":"FP64","shape":[1],"data":[880]},
		{"name":"total_bedrooms","datatype":"FP64","shape":[1],"data":[129]},
		{"name":"population","datatype":"FP64","shape":[1],"data":[322]},
		{"name":"households","datatype":"FP64","shape":[1],"data":[126]},
		{"name":"median_income","datatype":"FP64","shape":[1],"data":[8.3]},
		{"name":"ocean_proximity","datatype":"BYTES","shape":[1],"data":["NEAR BAY"]}],
		"outputs":[{"name":"variable"}]}`)
	if h.code != 200 || !strings.Contains(h.body, `"name":"variable","datatype":"FP64","shape":[1,1]`) {
		t.Errorf("regression infer: %d %s", h.code, h.body)
	}
	if r := call(t, "GET", u+"/openapi.json", "", "", ""); r.code != 200 || r.json["openapi"] != "3.0.3" {
		t.Errorf("openapi: %d", r.code)
	}

	bad := []struct {
		name, path, body string
		code             int
		want             string
	}{
		{"malformed JSON", "/v2/models/iris/infer", `{"inputs":[`, 400, "malformed JSON at byte"},
		{"not an object", "/v2/models/iris/infer", `[1]`, 400, "expected an object"},
		{"missing input", "/v2/models/iris/infer", strings.Replace(irisRow, `"petal_width_cm"`, `"petal_width"`, 1), 400, `unknown input "petal_width"`},
		{"input left out", "/v2/models/iris/infer", `{"inputs":[{"name":"sepal_length_cm","datatype":"FP64","shape":[1],"data":[1]}]}`, 400, `missing input "sepal_width_cm"`},
		{"wrong datatype", "/v2/models/iris/infer", strings.Replace(irisRow, `"INT64"`, `"BYTES"`, 1), 400, `input "petal_length_cm" is numeric`},
		{"string in FP64", "/v2/models/iris/infer", strings.Replace(irisRow, `[5.1,6.7]`, `["5.1",6.7]`, 1), 400, `input "sepal_length_cm": value 0 is not a number`},
		{"fraction in INT64", "/v2/models/iris/infer", strings.Replace(irisRow, `[1,5]`, `[1.5,5]`, 1), 400, `input "petal_length_cm": value 0 (1.5) is not a whole number`},
		{"wrong shape", "/v2/models/iris/infer", strings.Replace(irisRow, `"shape":[2,1]`, `"shape":[1,2]`, 1), 400, `input "sepal_width_cm": shape [1 2]`},
		{"shape and data disagree", "/v2/models/iris/infer", strings.Replace(irisRow, `"shape":[2],"data":[1,5]`, `"shape":[3],"data":[1,5]`, 1), 400, `input "petal_length_cm": shape [3] says 3 values`},
		{"unknown output", "/v2/models/iris/infer", strings.Replace(irisRow, `"id":"r-1",`, `"outputs":[{"name":"score"}],`, 1), 400, `unknown output "score"`},
		{"unknown datatype", "/v2/models/iris/infer", strings.Replace(irisRow, `"FP32"`, `"FP16"`, 1), 400, `input "sepal_width_cm": datatype "FP16"`},
		{"unknown model", "/v2/models/nope/infer", irisRow, 404, `model "nope" is not served`},
		{"unknown version", "/v2/models/iris/versions/7/infer", irisRow, 404, `not "7"`},
		{"over the limit", "/v2/models/iris/infer", `{"inputs":[], "pad":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "over the limit"},
		{"predict missing column", "/predict?model=iris", `{"sepal_length_cm":1}`, 400, `missing input "sepal_width_cm"`},
		{"predict bad number", "/predict?model=iris", `{"sepal_length_cm":"abc","sepal_width_cm":1,"petal_length_cm":1,"petal_width_cm":1}`, 400, `"abc" is not a number`},
		{"predict needs a model", "/predict", `{}`, 400, "say which with ?model=NAME"},
	}
	before := countLogged(t, s)
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", u+tc.path, "", "application/json", tc.body)
			if r.code != tc.code || !strings.Contains(fmt.Sprint(r.json["error"]), tc.want) {
				t.Errorf("%d %s; want %d and an error saying %s", r.code, r.body, tc.code, tc.want)
			}
		})
	}
	if err := srv.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Four good requests of 2+1+2+1 rows, and none of the bad ones.
	if got := countLogged(t, s); got != 6 || before > 6 {
		t.Errorf("%d predictions logged, want 6", got)
	}
	deps, err := s.Deployments(context.Background(), false)
	if err != nil || len(deps) != 2 || deps[0].Status != "stopped" {
		t.Errorf("deployments after stop: %+v, %v", deps, err)
	}
	logged, _ := s.Predictions(context.Background(), 0, 0)
	for _, p := range logged {
		if !json.Valid([]byte(p.Inputs)) || !json.Valid([]byte(p.Outputs)) || p.RequestID == "" {
			t.Errorf("logged %+v", p)
		}
	}
	first := logged[len(logged)-1]
	if first.RequestID != "r-1" || first.Inputs != `{"sepal_length_cm":5.1,"sepal_width_cm":3.5,"petal_length_cm":1,"petal_width_cm":0.2}` ||
		!strings.HasPrefix(first.Outputs, `{"label":"setosa","probabilities":{"setosa":`) {
		t.Errorf("first logged row: %+v", first)
	}
}

func countLogged(t *testing.T, s *app.Studio) int {
	t.Helper()
	ps, err := s.Predictions(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return len(ps)
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t)
	train(t, s, "iris", "species", "linear", "iris")
	if _, err := s.Serve(ctx, app.ServeOptions{Addr: "0.0.0.0:0", Models: []string{"iris"}}); err == nil ||
		!strings.Contains(err.Error(), "needs a token") {
		t.Fatalf("non-loopback without a token: %v", err)
	}
	srv := start(t, s, "iris")
	u := srv.URL() + "/v2/models/iris/infer"
	if r := call(t, "POST", u, "", "", irisRow); r.code != 200 {
		t.Fatalf("loopback without tokens: %d %s", r.code, r.body)
	}
	info, tok, err := s.CreateToken(ctx, "ci")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return call(t, "POST", u, "", "", irisRow).code == 401 })
	if r := call(t, "POST", u, "ms_wrong", "", irisRow); r.code != 401 {
		t.Errorf("wrong token: %d", r.code)
	}
	if r := call(t, "GET", srv.URL()+"/metrics", "", "", ""); r.code != 401 {
		t.Errorf("metrics without a token: %d", r.code)
	}
	if r := call(t, "POST", u, tok, "", irisRow); r.code != 200 {
		t.Errorf("valid token: %d %s", r.code, r.body)
	}
	m := call(t, "GET", srv.URL()+"/metrics", tok, "", "")
	if !strings.Contains(m.body, `modelsmith_inference_requests_total{code="200",model="iris"}`) ||
		!strings.Contains(m.body, `modelsmith_inference_errors_total{code="401",model=""}`) ||
		!strings.Contains(m.body, `modelsmith_inference_duration_seconds_count{model="iris"}`) {
		t.Errorf("metrics:\n%s", m.body)
	}
	list, _ := s.Tokens(ctx, false)
	if len(list) != 1 || list[0].ID != info.ID || !strings.HasPrefix(tok, list[0].Prefix) {
		t.Errorf("tokens: %+v", list)
	}
	if err := s.RevokeToken(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	// No token left: loopback is open again.
	waitFor(t, func() bool { return call(t, "POST", u, "", "", irisRow).code == 200 })
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatal("condition not met within 5 s")
}

// Moving an alias switches the served version while clients keep sending:
// no request fails, and the later ones are answered by the new version.
func TestAliasSwitchUnderLoad(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t)
	train(t, s, "iris", "species", "linear", "iris")
	train(t, s, "iris", "species", "gbdt", "iris")
	if _, err := s.SetModelAlias(ctx, "iris@1", "prod"); err != nil {
		t.Fatal(err)
	}
	srv := start(t, s, "iris@prod")
	u := srv.URL() + "/v2/models/iris/infer"
	var sent, failed atomic.Int64
	seen := make([]sync.Map, 1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(u, "application/json", bytes.NewReader([]byte(irisRow)))
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				var body struct {
					Version string `json:"model_version"`
				}
				if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&body) != nil {
					failed.Add(1)
				}
				resp.Body.Close()
				seen[0].Store(body.Version, true)
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if _, err := s.SetModelAlias(ctx, "iris@2", "prod"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, ok := seen[0].Load("2"); return ok })
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Errorf("%d of %d requests failed across the switch", failed.Load(), sent.Load())
	}
	if _, ok := seen[0].Load("1"); !ok {
		t.Error("version 1 never answered")
	}
	if err := srv.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countLogged(t, s); int64(got) != 2*sent.Load() {
		t.Errorf("%d rows logged for %d two-row requests", got, sent.Load())
	}
	deps, _ := s.Deployments(ctx, false)
	if len(deps) != 1 || deps[0].Serving != "iris@2" {
		t.Errorf("deployment: %+v", deps)
	}
	st := srv.Stats(time.Minute)
	if st.Requests != sent.Load() || len(st.Recent) == 0 || st.P99MS <= 0 {
		t.Errorf("stats: requests %d (sent %d), %d recent, p99 %v", st.Requests, sent.Load(), len(st.Recent), st.P99MS)
	}
}

var _ = serve.HashToken

// BenchmarkInferOneRow is the handler's cost for one adult row (the load
// test's request), without the network: decode, score, answer, log.
func BenchmarkInferOneRow(b *testing.B) {
	s, err := app.Open(context.Background(), app.Options{Path: filepath.Join(b.TempDir(), "w.modelsmith")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Train(context.Background(), app.TrainOptions{Data: "adult", Target: "income", Algorithm: "gbdt", Name: "a",
		Seed: 1, Holdout: 0.1, Params: map[string]string{}}, nil); err != nil {
		b.Fatal(err)
	}
	srv, err := s.Serve(context.Background(), app.ServeOptions{Addr: "127.0.0.1:0", Models: []string{"a"}})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop(context.Background())
	h := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", "/v2/models/a/infer", strings.NewReader(adultRow))
		req.ContentLength = int64(len(adultRow))
		w := &discard{h: http.Header{}}
		h.ServeHTTP(w, req)
		if w.code != 0 && w.code != 200 {
			b.Fatalf("status %d", w.code)
		}
	}
}

type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

const adultRow = `{"inputs":[
{"name":"age","datatype":"INT64","shape":[1],"data":[39]},
{"name":"workclass","datatype":"BYTES","shape":[1],"data":["State-gov"]},
{"name":"fnlwgt","datatype":"INT64","shape":[1],"data":[77516]},
{"name":"education","datatype":"BYTES","shape":[1],"data":["Bachelors"]},
{"name":"education_num","datatype":"INT64","shape":[1],"data":[13]},
{"name":"marital_status","datatype":"BYTES","shape":[1],"data":["Never-married"]},
{"name":"occupation","datatype":"BYTES","shape":[1],"data":["Adm-clerical"]},
{"name":"relationship","datatype":"BYTES","shape":[1],"data":["Not-in-family"]},
{"name":"race","datatype":"BYTES","shape":[1],"data":["White"]},
{"name":"sex","datatype":"BYTES","shape":[1],"data":["Male"]},
{"name":"capital_gain","datatype":"INT64","shape":[1],"data":[2174]},
{"name":"capital_loss","datatype":"INT64","shape":[1],"data":[0]},
{"name":"hours_per_week","datatype":"INT64","shape":[1],"data":[40]},
{"name":"native_country","datatype":"BYTES","shape":[1],"data":["United-States"]}]}`

// Serving a batch gives exactly what batch prediction gives, through both
// the OIP decoder and /predict's CSV, on test rows with missing values and
// categorical inputs.
func TestServedMatchesBatchPredict(t *testing.T) {
	for _, tc := range []struct{ dataset, target, algo, params string }{
		{"adult", "income", "gbdt", "n_estimators=20"}, // few trees: this runs under -race too
		{"california_housing", "median_house_value", "linear", "alpha=1"},
	} {
		t.Run(tc.dataset, func(t *testing.T) {
			ctx := context.Background()
			s := openStudio(t)
			m := train(t, s, tc.dataset, tc.target, tc.algo, "m", tc.params)
			file := filepath.Join("..", "..", "..", "shared", "datasets", tc.dataset, "test.csv")
			want, err := s.Predict(ctx, m.Ref, file, nil)
			if err != nil {
				t.Skipf("test split: %v", err)
			}
			n := min(want.Input.Rows(), 500)
			var inputs []string
			var csvBody strings.Builder
			var sig struct {
				Inputs []struct{ Name, Type string } `json:"inputs"`
			}
			if err := json.Unmarshal(m.Signature, &sig); err != nil {
				t.Fatal(err)
			}
			for j, in := range sig.Inputs {
				col := want.Input.Column(in.Name)
				dt := "BYTES"
				if in.Type == "numeric" {
					dt = "FP64"
				}
				var cells []string
				for i := range n {
					v := col.Format(i)
					switch {
					case v == "":
						cells = append(cells, "null")
					case dt == "FP64":
						cells = append(cells, v)
					default:
						b, _ := json.Marshal(v)
						cells = append(cells, string(b))
					}
				}
				inputs = append(inputs, fmt.Sprintf(`{"name":%q,"datatype":%q,"shape":[%d,1],"data":[%s]}`, in.Name, dt, n, strings.Join(cells, ",")))
				if j > 0 {
					csvBody.WriteByte(',')
				}
				csvBody.WriteString(in.Name)
			}
			csvBody.WriteByte('\n')
			for i := range n {
				for j, in := range sig.Inputs {
					if j > 0 {
						csvBody.WriteByte(',')
					}
					csvBody.WriteString(want.Input.Column(in.Name).Format(i))
				}
				csvBody.WriteByte('\n')
			}
			srv := start(t, s, "m")
			r := call(t, "POST", srv.URL()+"/v2/models/m/infer", "", "", `{"inputs":[`+strings.Join(inputs, ",")+`]}`)
			if r.code != 200 {
				t.Fatalf("infer: %d %.300s", r.code, r.body)
			}
			outs := r.json["outputs"].([]any)
			got := outs[len(outs)-1].(map[string]any)["data"].([]any)
			if len(got) != n*want.Outputs {
				t.Fatalf("%d values for %d rows × %d outputs", len(got), n, want.Outputs)
			}
			for i, v := range got {
				if v.(float64) != want.Out[i] {
					t.Fatalf("value %d: served %v, batch predict %v", i, v, want.Out[i])
				}
			}
			c := call(t, "POST", srv.URL()+"/predict", "", "text/csv", csvBody.String())
			lines := strings.Split(strings.TrimSpace(c.body), "\n")
			if c.code != 200 || len(lines) != n+1 {
				t.Fatalf("predict CSV: %d, %d lines", c.code, len(lines))
			}
			for i := range n {
				if first, _, _ := strings.Cut(lines[i+1], ","); first != want.Label(i) {
					t.Fatalf("row %d: /predict says %s, batch predict %s", i, first, want.Label(i))
				}
			}
		})
	}
}
