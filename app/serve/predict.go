package serve

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// predict is POST /predict (the only model, or ?model=NAME) and
// POST /v2/models/{name}/predict: rows as JSON records (an array of objects,
// or one object) or as CSV with a header (Content-Type text/csv). Columns the
// model does not use are ignored; a missing one is an error naming it. The
// answer is JSON, or CSV when the request was CSV.
func (s *Server) predict(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if r.PathValue("name") == "" {
		name := r.URL.Query().Get("model")
		if name == "" {
			if len(s.names) != 1 {
				s.fail(w, "", http.StatusBadRequest, fmt.Sprintf("several models are served (%s): say which with ?model=NAME", strings.Join(s.names, ", ")))
				return
			}
			name = s.names[0]
		}
		r.SetPathValue("name", name)
	}
	ep, v, body := s.request(w, r)
	if body == nil {
		return
	}
	name := ep.spec.Name
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	isCSV := mt == "text/csv"
	var cells []cell
	var n int
	var err error
	if isCSV {
		cells, n, err = v.csvRows(body)
	} else {
		cells, n, err = v.jsonRecords(body)
	}
	if err != nil {
		s.fail(w, name, http.StatusBadRequest, err.Error())
		return
	}
	wk := v.pool.Get().(*worker)
	defer v.pool.Put(wk)
	out, err := s.score(r, v, wk, cells, n)
	if err != nil {
		s.fail(w, name, statusOf(err), err.Error())
		return
	}
	id := s.requestID(r, "")
	k := v.k
	var b []byte
	if isCSV && !strings.Contains(r.Header.Get("Accept"), "json") {
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		head := []string{"prediction"}
		for _, c := range v.Pipe.Classes {
			head = append(head, "proba_"+c)
		}
		_ = cw.Write(head)
		rec := make([]string, len(head))
		for i := range n {
			row := out[i*k : (i+1)*k]
			if len(v.classes) == 0 {
				rec[0] = strconv.FormatFloat(row[0], 'g', -1, 64)
			} else {
				rec[0] = v.Pipe.Classes[argmax(row)]
				for c, p := range row {
					rec[1+c] = strconv.FormatFloat(p, 'g', -1, 64)
				}
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		b = buf.Bytes()
		w.Header().Set("Content-Type", "text/csv")
	} else {
		b = v.appendResponseHead(b, name, id)
		b = append(b, `,"predictions":[`...)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.appendOutputs(b, out[i*k:(i+1)*k])
		}
		b = append(b, "]}\n"...)
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("X-Request-Id", id)
	_, _ = w.Write(b)
	s.answered(entry{ep: ep, v: v, at: start, id: id, n: n, cells: cells, out: out})
}

// appendOutputs writes one row's prediction as a JSON object:
// {"label": ..., "probabilities": {class: p, ...}} or {"variable": v}. It is
// also the form the prediction log stores.
func (v *version) appendOutputs(b []byte, row []float64) []byte {
	if len(v.classes) == 0 {
		b = append(b, `{"variable":`...)
		b = appendFloat(b, row[0])
		return append(b, '}')
	}
	b = append(b, `{"label":`...)
	b = append(b, v.classes[argmax(row)]...)
	b = append(b, `,"probabilities":{`...)
	for c, p := range row {
		if c > 0 {
			b = append(b, ',')
		}
		b = append(b, v.classes[c]...)
		b = append(b, ':')
		b = appendFloat(b, p)
	}
	return append(b, "}}"...)
}

// jsonRecords reads an array of objects (or one object) keyed by column.
func (v *version) jsonRecords(body []byte) ([]cell, int, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, 0, fmt.Errorf("malformed JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, 0, errors.New("malformed JSON: more than one value in the body")
	}
	var recs []any
	switch t := raw.(type) {
	case []any:
		recs = t
	case map[string]any:
		recs = []any{t}
	default:
		return nil, 0, errors.New("the body must be a JSON object or an array of objects, one per row")
	}
	cols := len(v.Pipe.Inputs)
	cells := make([]cell, len(recs)*cols)
	for i, rec := range recs {
		obj, ok := rec.(map[string]any)
		if !ok {
			return nil, 0, fmt.Errorf("row %d is not an object", i)
		}
		for j, in := range v.Pipe.Inputs {
			val, ok := obj[in.Name]
			if !ok {
				return nil, 0, fmt.Errorf("row %d: missing input %q (null marks a missing value)", i, in.Name)
			}
			c := &cells[i*cols+j]
			switch x := val.(type) {
			case nil:
				c.kind = cellNull
			case json.Number:
				c.text, c.kind = string(x), cellNumber
			case string:
				c.text, c.kind = x, cellString
			default:
				return nil, 0, fmt.Errorf("row %d: input %q must be a number, a string or null", i, in.Name)
			}
		}
	}
	return cells, len(recs), nil
}

// csvRows reads CSV with a header row.
func (v *version) csvRows(body []byte) ([]cell, int, error) {
	cr := csv.NewReader(bytes.NewReader(body))
	cr.ReuseRecord = false
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, 0, fmt.Errorf("malformed CSV: %v", err)
	}
	if len(recs) == 0 {
		return nil, 0, errors.New("the CSV has no header row")
	}
	head := map[string]int{}
	for i, h := range recs[0] {
		head[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	cols := len(v.Pipe.Inputs)
	at := make([]int, cols)
	var missing []string
	for j, in := range v.Pipe.Inputs {
		i, ok := head[in.Name]
		if !ok {
			missing = append(missing, in.Name)
		}
		at[j] = i
	}
	if len(missing) > 0 {
		return nil, 0, fmt.Errorf("the CSV lacks input column %s", quoteList(missing))
	}
	rows := recs[1:]
	cells := make([]cell, len(rows)*cols)
	for i, rec := range rows {
		for j := range cols {
			c := &cells[i*cols+j]
			c.text, c.kind = rec[at[j]], cellString
			if isJSONNumber(c.text) {
				c.kind = cellNumber // logged as a number
			}
		}
	}
	return cells, len(rows), nil
}
