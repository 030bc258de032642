package serve

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"modelsmith/ml/model"
)

// version is one loaded model version with what serving it needs, built once.
type version struct {
	Loaded
	index   map[string]int // input name → position in Pipe.Inputs
	numeric []bool         // per input: accepts FP64/FP32/INT64/INT32
	text    []bool         // per input: accepts BYTES
	k       int            // outputs per row
	classes [][]byte       // JSON-quoted class labels
	logKeys [][]byte       // per input: `{"name":` then `,"name":`
	names   string         // the input names, for error messages
	pool    sync.Pool      // *worker
}

// worker is the per-goroutine state of a request: pooled, so that a request
// reuses the decoder's slices and the row predictor's buffers.
type worker struct {
	rp     *model.RowPredictor
	req    inferRequest
	col    []int // per model input: its index in req.inputs
	values []string
	resp   []byte
}

func newVersion(l Loaded) (*version, error) {
	p := l.Pipe
	v := &version{Loaded: l, index: map[string]int{}, k: p.Outputs()}
	var names []string
	for i, in := range p.Inputs {
		v.index[in.Name] = i
		names = append(names, in.Name)
		num := in.Type == "numeric" || in.Type == "datetime"
		txt := in.Type != "numeric"
		v.numeric = append(v.numeric, num)
		v.text = append(v.text, txt)
		sep := ","
		if i == 0 {
			sep = "{"
		}
		v.logKeys = append(v.logKeys, append(appendJSONString([]byte(sep), in.Name), ':'))
	}
	v.names = strings.Join(names, ", ")
	for _, c := range p.Classes {
		v.classes = append(v.classes, appendJSONString(nil, c))
	}
	// A pipeline that cannot score a row of missing values (every model
	// can) is refused here, not on the first request.
	if err := p.NewRowPredictor().Predict(make([]string, len(p.Inputs)), make([]float64, v.k)); err != nil {
		return nil, fmt.Errorf("model %s@%d cannot score single rows: %w", l.Name, l.Version, err)
	}
	v.pool.New = func() any {
		return &worker{rp: p.NewRowPredictor(), values: make([]string, len(p.Inputs)), col: make([]int, len(p.Inputs))}
	}
	return v, nil
}

type tensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type modelMeta struct {
	Name       string         `json:"name"`
	Versions   []string       `json:"versions"`
	Platform   string         `json:"platform"`
	Inputs     []tensorMeta   `json:"inputs"`
	Outputs    []tensorMeta   `json:"outputs"`
	Parameters map[string]any `json:"parameters"`
}

// metadata is the OIP model metadata of this version served as name.
func (v *version) metadata(name string) modelMeta {
	p := v.Pipe
	m := modelMeta{Name: name, Versions: []string{strconv.Itoa(v.Version)}, Platform: "modelsmith",
		Parameters: map[string]any{"model": v.Name + "@" + strconv.Itoa(v.Version), "task": p.Task, "target": p.Target}}
	if len(p.Classes) > 0 {
		m.Parameters["classes"] = p.Classes
	}
	var kinds []string
	for _, in := range p.Inputs {
		dt := "BYTES"
		if in.Type == "numeric" {
			dt = "FP64"
		}
		m.Inputs = append(m.Inputs, tensorMeta{Name: in.Name, Datatype: dt, Shape: []int64{-1, 1}})
		kinds = append(kinds, in.Type)
	}
	m.Parameters["input_types"] = kinds
	for _, o := range v.outputNames() {
		switch o {
		case "label":
			m.Outputs = append(m.Outputs, tensorMeta{Name: o, Datatype: "BYTES", Shape: []int64{-1}})
		case "probabilities":
			m.Outputs = append(m.Outputs, tensorMeta{Name: o, Datatype: "FP64", Shape: []int64{-1, int64(v.k)}})
		case "variable":
			m.Outputs = append(m.Outputs, tensorMeta{Name: o, Datatype: "FP64", Shape: []int64{-1, 1}})
		}
	}
	return m
}

func (v *version) outputNames() []string {
	if v.Pipe.Task == model.Regression {
		return []string{"variable"}
	}
	return []string{"label", "probabilities"}
}

// argmax is the index of the most probable class of one row.
func argmax(row []float64) int {
	best := 0
	for k, p := range row {
		if p > row[best] {
			best = k
		}
	}
	return best
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD,
// so that the result is always valid JSON.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < 0x80 {
			i++
			continue
		}
		if c < 0x80 {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
