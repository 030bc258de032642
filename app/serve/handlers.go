package serve

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2", s.serverMeta)
	mux.HandleFunc("GET /v2/health/live", s.live)
	mux.HandleFunc("GET /v2/health/ready", s.ready)
	mux.HandleFunc("GET /v2/models/{name}", s.modelMeta)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}", s.modelMeta)
	mux.HandleFunc("GET /v2/models/{name}/ready", s.modelReady)
	mux.HandleFunc("GET /v2/models/{name}/versions/{version}/ready", s.modelReady)
	mux.HandleFunc("POST /v2/models/{name}/infer", s.infer)
	mux.HandleFunc("POST /v2/models/{name}/versions/{version}/infer", s.infer)
	mux.HandleFunc("POST /predict", s.predict)
	mux.HandleFunc("POST /v2/models/{name}/predict", s.predict)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /openapi.json", s.openAPI)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, "", http.StatusNotFound, fmt.Sprintf("no such endpoint: %s %s (see /openapi.json)", r.Method, r.URL.Path))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="modelsmith"`)
			s.fail(w, "", http.StatusUnauthorized, "a valid bearer token is required (Authorization: Bearer <token>)")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// fail writes an OIP error ({"error": msg}) and counts it.
func (s *Server) fail(w http.ResponseWriter, modelName string, code int, msg string) {
	s.errors.Add(1)
	s.metrics.errors.WithLabelValues(modelName, strconv.Itoa(code)).Inc()
	b := append([]byte(`{"error":`), appendJSONString(nil, msg)...)
	b = append(b, "}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

var jsonContentType = []string{"application/json"}

func writeJSON(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (s *Server) serverMeta(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, []byte(`{"name":"modelsmith","version":"1","extensions":["predict"]}`))
}

func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, []byte(`{"live":true}`))
}

// ready: every model was loaded before the server started listening.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, []byte(`{"ready":true}`))
}

// endpoint finds the served model a request names, or answers 404.
func (s *Server) endpoint(w http.ResponseWriter, r *http.Request) (*endpoint, *version) {
	name := r.PathValue("name")
	ep := s.endpoints[name]
	if ep == nil {
		s.fail(w, "", http.StatusNotFound, fmt.Sprintf("model %q is not served here (served: %s)", name, strings.Join(s.names, ", ")))
		return nil, nil
	}
	v := ep.cur.Load()
	if want := r.PathValue("version"); want != "" && want != strconv.Itoa(v.Version) {
		s.fail(w, name, http.StatusNotFound, fmt.Sprintf("model %q serves version %d, not %q", name, v.Version, want))
		return nil, nil
	}
	return ep, v
}

func (s *Server) modelMeta(w http.ResponseWriter, r *http.Request) {
	ep, v := s.endpoint(w, r)
	if ep == nil {
		return
	}
	m := v.metadata(ep.spec.Name)
	b, _ := jsonMarshal(m)
	writeJSON(w, b)
}

func (s *Server) modelReady(w http.ResponseWriter, r *http.Request) {
	ep, _ := s.endpoint(w, r)
	if ep == nil {
		return
	}
	writeJSON(w, append(append([]byte(`{"name":`), appendJSONString(nil, ep.spec.Name)...), `,"ready":true}`...))
}

// readBody reads a request body of at most MaxBodyBytes; on failure it has
// answered (413 or 400) and returns nil.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, modelName string) []byte {
	limit := s.opts.MaxBodyBytes
	if r.ContentLength > limit {
		s.fail(w, modelName, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body of %d bytes is over the limit of %d", r.ContentLength, limit))
		return nil
	}
	// The body is read into a buffer of its own, never reused: the decoded
	// cells alias it until the prediction log has written them.
	size := r.ContentLength
	if size < 0 {
		size = 512
	}
	buf := make([]byte, 0, size+1)
	body := http.MaxBytesReader(w, r.Body, limit)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.fail(w, modelName, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is over the limit of %d bytes", limit))
			} else {
				s.fail(w, modelName, http.StatusBadRequest, "reading the request body: "+err.Error())
			}
			return nil
		}
	}
}

// infer is POST /v2/models/{name}[/versions/{v}]/infer.
func (s *Server) infer(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ep, v, body := s.request(w, r)
	if body == nil {
		return
	}
	name := ep.spec.Name
	wk := v.pool.Get().(*worker)
	defer v.pool.Put(wk)
	if err := decodeInferRequest(body, &wk.req); err != nil {
		s.fail(w, name, http.StatusBadRequest, err.Error())
		return
	}
	n, err := v.bind(wk)
	if err != nil {
		s.fail(w, name, http.StatusBadRequest, err.Error())
		return
	}
	want, err := v.wantOutputs(wk.req.outputs)
	if err != nil {
		s.fail(w, name, http.StatusBadRequest, err.Error())
		return
	}
	cols := len(v.Pipe.Inputs)
	cells := make([]cell, n*cols)
	for j, t := range wk.col {
		data := wk.req.inputs[t].data
		for i := range n {
			cells[i*cols+j] = data[i]
		}
	}
	out, err := s.score(r, v, wk, cells, n)
	if err != nil {
		s.fail(w, name, statusOf(err), err.Error())
		return
	}
	id := s.requestID(r, wk.req.id)
	b := v.appendInferResponse(wk.resp[:0], name, id, out, n, want)
	wk.resp = b
	// Assigned, not Set: Set allocates a new []string on every request;
	// net/http only reads it.
	w.Header()["Content-Type"] = jsonContentType
	_, _ = w.Write(b)
	s.answered(entry{ep: ep, v: v, at: start, id: id, n: n, cells: cells, out: out})
}

// request finds the model a prediction request names and reads its body; on
// a nil body the error has been answered.
func (s *Server) request(w http.ResponseWriter, r *http.Request) (*endpoint, *version, []byte) {
	ep, v := s.endpoint(w, r)
	if ep == nil {
		return nil, nil, nil
	}
	return ep, v, s.readBody(w, r, ep.spec.Name)
}

// answered counts an answered prediction request, times it from e.at, and
// queues it for the prediction log.
func (s *Server) answered(e entry) {
	e.latency = time.Since(e.at)
	e.ep.ok.Inc()
	e.ep.obs.Observe(e.latency.Seconds())
	s.log.add(e)
}

// errTimeout is a batch that took longer than the request timeout.
var errTimeout = errors.New("scoring the batch took longer than the request timeout")

func statusOf(err error) int {
	if errors.Is(err, errTimeout) {
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// score predicts n rows of cells (row-major, one per model input).
func (s *Server) score(r *http.Request, v *version, wk *worker, cells []cell, n int) ([]float64, error) {
	cols := len(v.Pipe.Inputs)
	out := make([]float64, n*v.k)
	var deadline time.Time
	for i := range n {
		if i&1023 == 1023 {
			if deadline.IsZero() {
				deadline = time.Now().Add(s.opts.RequestTimeout)
			}
			if r.Context().Err() != nil || time.Now().After(deadline) {
				return nil, errTimeout
			}
		}
		row := cells[i*cols : (i+1)*cols]
		for j, c := range row {
			wk.values[j] = c.text // null is "", which the model reads as missing
		}
		if err := wk.rp.Predict(wk.values, out[i*v.k:(i+1)*v.k]); err != nil {
			msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "model: "), "prep: ")
			if n > 1 {
				msg = fmt.Sprintf("row %d: %s", i, msg)
			}
			return nil, errors.New(msg)
		}
	}
	return out, nil
}

// bind matches a decoded request's inputs to the model's, checking names,
// datatypes, shapes and cells; it returns the batch size.
func (v *version) bind(wk *worker) (int, error) {
	req := &wk.req
	for j := range wk.col {
		wk.col[j] = -1
	}
	n := -1
	for ti := range req.inputs {
		t := &req.inputs[ti]
		j, ok := v.index[t.name]
		if !ok {
			return 0, fmt.Errorf("unknown input %q (the model's inputs: %s)", t.name, v.names)
		}
		if wk.col[j] >= 0 {
			return 0, fmt.Errorf("input %q is given twice", t.name)
		}
		wk.col[j] = ti
		isInt := false
		switch t.datatype {
		case "FP64", "FP32":
		case "INT64", "INT32":
			isInt = true
		case "BYTES":
		default:
			return 0, fmt.Errorf("input %q: datatype %q is not supported (FP64, FP32, INT64, INT32 or BYTES)", t.name, t.datatype)
		}
		if t.datatype == "BYTES" && !v.text[j] {
			return 0, fmt.Errorf("input %q is numeric: its datatype must be FP64, FP32, INT64 or INT32, not BYTES", t.name)
		}
		if t.datatype != "BYTES" && !v.numeric[j] {
			return 0, fmt.Errorf("input %q is %s: its datatype must be BYTES, not %s", t.name, v.Pipe.Inputs[j].Type, t.datatype)
		}
		if len(t.shape) != 1 && (len(t.shape) != 2 || t.shape[1] != 1) {
			return 0, fmt.Errorf("input %q: shape %v must be [N] or [N, 1]", t.name, t.shape)
		}
		rows := t.shape[0]
		if rows != int64(len(t.data)) {
			return 0, fmt.Errorf("input %q: shape %v says %d values, data has %d", t.name, t.shape, rows, len(t.data))
		}
		if n >= 0 && int(rows) != n {
			return 0, fmt.Errorf("input %q has %d rows, the inputs before it %d", t.name, rows, n)
		}
		n = int(rows)
		for i, c := range t.data {
			switch {
			case c.kind == cellNull:
			case t.datatype == "BYTES" && c.kind != cellString:
				return 0, fmt.Errorf("input %q: value %d is not a string (datatype BYTES)", t.name, i)
			case t.datatype != "BYTES" && c.kind != cellNumber:
				return 0, fmt.Errorf("input %q: value %d is not a number (datatype %s)", t.name, i, t.datatype)
			case isInt && strings.ContainsAny(c.text, ".eE"):
				return 0, fmt.Errorf("input %q: value %d (%s) is not a whole number (datatype %s)", t.name, i, c.text, t.datatype)
			}
		}
	}
	var missing []string
	for j, t := range wk.col {
		if t < 0 {
			missing = append(missing, v.Pipe.Inputs[j].Name)
		}
	}
	if len(missing) > 0 {
		return 0, fmt.Errorf("missing input %s (send every input; null marks a missing value)", quoteList(missing))
	}
	if n < 0 {
		n = 0
	}
	return n, nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

// wantOutputs checks the requested output names; none means all.
func (v *version) wantOutputs(req []string) (uint8, error) {
	names := v.outputNames()
	if len(req) == 0 {
		return 1<<len(names) - 1, nil
	}
	var mask uint8
	for _, o := range req {
		found := false
		for i, n := range names {
			if n == o {
				mask |= 1 << i
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("unknown output %q (the model's outputs: %s)", o, strings.Join(names, ", "))
		}
	}
	return mask, nil
}

// appendResponseHead opens a JSON answer with the model's name and version
// and the request id: {"model_name":…,"model_version":"…","id":… (the OIP
// response and /predict's JSON answer both start so).
func (v *version) appendResponseHead(b []byte, name, id string) []byte {
	b = append(b, `{"model_name":`...)
	b = appendJSONString(b, name)
	b = append(b, `,"model_version":"`...)
	b = strconv.AppendInt(b, int64(v.Version), 10)
	b = append(b, `","id":`...)
	return appendJSONString(b, id)
}

// appendInferResponse writes the OIP response for n rows of out.
func (v *version) appendInferResponse(b []byte, name, id string, out []float64, n int, want uint8) []byte {
	b = v.appendResponseHead(b, name, id)
	b = append(b, `,"outputs":[`...)
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	k := v.k
	if len(v.classes) == 0 {
		sep()
		b = append(b, `{"name":"variable","datatype":"FP64","shape":[`...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, `,1],"data":[`...)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendFloat(b, out[i])
		}
		b = append(b, "]}"...)
	} else {
		if want&1 != 0 {
			sep()
			b = append(b, `{"name":"label","datatype":"BYTES","shape":[`...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, `],"data":[`...)
			for i := range n {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, v.classes[argmax(out[i*k:(i+1)*k])]...)
			}
			b = append(b, "]}"...)
		}
		if want&2 != 0 {
			sep()
			b = append(b, `{"name":"probabilities","datatype":"FP64","shape":[`...)
			b = strconv.AppendInt(b, int64(n), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(k), 10)
			b = append(b, `],"data":[`...)
			for i, p := range out[:n*k] {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendFloat(b, p)
			}
			b = append(b, "]}"...)
		}
	}
	return append(b, "]}\n"...)
}

// appendFloat writes a JSON number; JSON has no NaN or infinity, so those
// (which a model should not produce) become null.
func appendFloat(b []byte, f float64) []byte {
	if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
		return append(b, "null"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}
