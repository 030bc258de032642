// Package onnx exports a fitted Pipeline (ml/model) to ONNX: one graph that
// takes the pipeline's raw input columns, applies the fitted preprocessing
// and the predictor with standard ai.onnx (opset 21) and ai.onnx.ml (opset
// 5) operators, and gives the same answers as Pipeline.Predict (checked in
// tests by onnxruntime-node; onnxruntime 1.20 or newer runs the files).
//
// The graph's contract:
//
//   - One input per Pipeline.Inputs column, named as the column, shape
//     [N, 1]: tensor(double) for numeric columns and for datetimes (as Unix
//     seconds, UTC), tensor(string) for categorical and text columns. A
//     missing number is NaN (±Inf counts as missing too, as in the app); a
//     missing category or text is "" or one of data.DefaultNATokens in any
//     case and with any surrounding white space ("NA", " na ", "null",
//     "?"...), as in the app.
//   - Classification: "label" [N], the predicted class (the highest
//     probability, the first class on a tie), as int64 when every class is a
//     whole number (a numeric target) and as string otherwise; and
//     "probabilities" [N, classes] float, in Pipeline.Classes order (the
//     order of predict's proba_ columns). No ZipMap.
//   - Regression: "variable" [N, 1] float.
//
// How each part maps: imputation, indicators, scaling and datetime parts
// (year, month, day of week by civil-from-days arithmetic) are elementwise
// ops; a categorical column is one LabelEncoder to a code and a Gather of
// the fitted rows of its ordinal, one-hot or target encoding; text is
// StringNormalizer, StringSplit, TfIdfVectorizer, idf and L2 norm; gbdt and
// forest are one TreeEnsemble each (set membership for categorical splits,
// learnt missing directions); linear models and the MLP are MatMul plus
// activations; k-NN computes all [N, training rows] distances and takes
// TopK (memory grows with batch × training rows: feed large batches in
// pieces); naive Bayes is its log-joint sum and a softmax; an ensemble is
// the weighted sum of its members' sub-graphs.
//
// Everything is computed in double precision and only the outputs are
// rounded to float; tree thresholds are compared as the app compares them
// (the input rounded to float32).
//
// A part that cannot be exported exactly is an error naming it and why
// (TF-IDF bigrams, a multinomial Bayes log probability of -Inf, an unknown
// family); nothing is approximated. onnxruntime refuses text that is not
// valid UTF-8, which the app accepts.
//
// The encoding is written with protowire from the field numbers of
// onnx/onnx.proto. It imports ml/model, ml/prep and ml/learn/...; never
// storage, app, views or Fyne.
package onnx

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"modelsmith/ml/data"
	"modelsmith/ml/learn"
	"modelsmith/ml/learn/bayes"
	"modelsmith/ml/learn/forest"
	"modelsmith/ml/learn/gbdt"
	"modelsmith/ml/learn/knn"
	"modelsmith/ml/learn/linear"
	"modelsmith/ml/learn/nn"
	"modelsmith/ml/model"
)

const (
	mlDomain = "ai.onnx.ml"
	// irVersion 10 goes with ai.onnx opset 21 and ai.onnx.ml opset 5
	// (TreeEnsemble with set membership); onnxruntime ≥ 1.20 runs them.
	irVersion   = 10
	onnxOpset   = 21
	mlOpset     = 5
	producer    = "modelsmith"
	producerVer = "1"
)

// Output names.
const (
	OutLabel         = "label"
	OutProbabilities = "probabilities"
	OutVariable      = "variable"
)

// Export serialises p as an ONNX ModelProto.
func Export(p *model.Pipeline) ([]byte, error) {
	if p == nil {
		return nil, errors.New("onnx: export: no pipeline")
	}
	b := &builder{}
	b.g.Name = "modelsmith"
	if t := p.Target; t != "" {
		b.g.Name = "modelsmith: " + t
	}
	inputs, err := declareInputs(b, p)
	if err != nil {
		return nil, err
	}
	var out string
	if p.IsEnsemble() {
		out, err = exportEnsemble(b, p, inputs)
	} else {
		out, err = exportMember(b, p, inputs)
	}
	if err != nil {
		return nil, err
	}
	if err := exportOutputs(b, p, out); err != nil {
		return nil, err
	}
	m := &modelProto{
		IRVersion:       irVersion,
		Opsets:          []opset{{"", onnxOpset}, {mlDomain, mlOpset}},
		Producer:        producer,
		ProducerVersion: producerVer,
		Doc:             "Exported by Modelsmith: " + p.Task + " of " + strconv.Quote(p.Target),
		Graph:           &b.g,
	}
	for _, k := range slices.Sorted(maps.Keys(p.Meta)) {
		m.Metadata = append(m.Metadata, [2]string{k, p.Meta[k]})
	}
	return m.marshal(), nil
}

// exportMember adds one plain pipeline's prep and predictor and returns its
// output [N, Outputs()] double.
func exportMember(b *builder, p *model.Pipeline, inputs map[string]string) (string, error) {
	x, err := exportPrep(b, p, inputs)
	if err != nil {
		return "", err
	}
	return exportPredictor(b, p.Predictor, x, p.Prep.NumFeatures())
}

// exportEnsemble adds every member's sub-graph on the shared inputs and sums
// their outputs times their weights, in member order as the app does.
func exportEnsemble(b *builder, p *model.Pipeline, inputs map[string]string) (string, error) {
	var sum string
	for i, m := range p.Members {
		if m.Pipeline == nil || m.Pipeline.IsEnsemble() {
			return "", fmt.Errorf("onnx: export: ensemble member %d is missing or an ensemble itself", i+1)
		}
		if m.Pipeline.Task != p.Task || m.Pipeline.Outputs() != p.Outputs() {
			return "", fmt.Errorf("onnx: export: ensemble member %d has task %s with %d outputs, the ensemble %s with %d", i+1, m.Pipeline.Task, m.Pipeline.Outputs(), p.Task, p.Outputs())
		}
		if math.IsNaN(m.Weight) || math.IsInf(m.Weight, 0) || m.Weight < 0 {
			return "", fmt.Errorf("onnx: export: ensemble member %d has weight %v", i+1, m.Weight)
		}
		out, err := exportMember(b, m.Pipeline, inputs)
		if err != nil {
			return "", memberError{i + 1, err}
		}
		out = b.mul(out, b.scalar(m.Weight))
		if sum == "" {
			sum = out
		} else {
			sum = b.add(sum, out)
		}
	}
	return sum, nil
}

// memberError names the ensemble member an export error is about.
type memberError struct {
	member int
	err    error
}

func (e memberError) Error() string {
	return fmt.Sprintf("onnx: export: ensemble member %d: %s", e.member, strings.TrimPrefix(e.err.Error(), "onnx: export: "))
}

func (e memberError) Unwrap() error { return e.err }

// declareInputs adds one graph input per pipeline input column and returns
// their names by column.
func declareInputs(b *builder, p *model.Pipeline) (map[string]string, error) {
	names := map[string]string{}
	for _, in := range p.Inputs {
		if _, dup := names[in.Name]; dup {
			return nil, fmt.Errorf("onnx: export: input column %q appears twice", in.Name)
		}
		vi := valueInfo{Name: in.Name, Dims: []int64{-1, 1}, Param: "N"}
		switch in.Type {
		case data.Numeric.String():
			vi.Type = tDouble
		case data.Datetime.String():
			vi.Type = tDouble
			vi.Doc = "Unix seconds, UTC"
		case data.Categorical.String(), data.Text.String():
			vi.Type = tString
		default:
			return nil, fmt.Errorf("onnx: export: input column %q of type %q: only numeric, datetime, categorical and text columns can be exported", in.Name, in.Type)
		}
		b.g.Inputs = append(b.g.Inputs, vi)
		names[in.Name] = in.Name
	}
	return names, nil
}

// exportPredictor adds the predictor's graph on the features x [N, F] and
// returns its output [N, Outputs()] double: probabilities, or the value.
func exportPredictor(b *builder, pred learn.Predictor, x string, features int) (string, error) {
	switch m := pred.(type) {
	case *gbdt.Model:
		return exportGBDT(b, m, x, features)
	case *forest.Model:
		return exportForest(b, m, x, features)
	case *linear.Model:
		return exportLinear(b, m.Export(), x, features)
	case *knn.Model:
		return exportKNN(b, m.Export(), x, features)
	case *bayes.Model:
		return exportBayes(b, m.Export(), x, features)
	case *nn.Model:
		return exportNN(b, m.Export(), x, features)
	}
	return "", fmt.Errorf("onnx: export: predictor family %q: no ONNX exporter for it", pred.Family())
}

// exportOutputs names the graph outputs from the predictor's output out.
func exportOutputs(b *builder, p *model.Pipeline, out string) error {
	k := p.Outputs()
	switch p.Task {
	case model.Regression:
		if k != 1 {
			return fmt.Errorf("onnx: export: regression predictor with %d outputs", k)
		}
		b.identity(b.cast(out, tFloat), OutVariable)
		b.g.Outputs = append(b.g.Outputs, valueInfo{Name: OutVariable, Type: tFloat, Dims: []int64{-1, 1}, Param: "N"})
		return nil
	case model.Binary, model.Multiclass:
	default:
		return fmt.Errorf("onnx: export: unknown task %q", p.Task)
	}
	if len(p.Classes) != k {
		return fmt.Errorf("onnx: export: %d classes but the predictor gives %d probabilities", len(p.Classes), k)
	}
	// The label is the argmax of the double probabilities, as the app picks
	// it, before they are rounded to float.
	idx := b.op("ArgMax", []string{out}, intAttr("axis", 1), intAttr("keepdims", 0), intAttr("select_last_index", 0))
	var table string
	labelType := tString
	if ints, ok := wholeNumbers(p.Classes); ok {
		labelType = tInt64
		table = b.int64s(ints, int64(len(ints)))
	} else {
		table = b.strings(p.Classes, int64(len(p.Classes)))
	}
	b.identity(b.op("Gather", []string{table, idx}, intAttr("axis", 0)), OutLabel)
	b.identity(b.cast(out, tFloat), OutProbabilities)
	b.g.Outputs = append(b.g.Outputs,
		valueInfo{Name: OutLabel, Type: labelType, Dims: []int64{-1}, Param: "N"},
		valueInfo{Name: OutProbabilities, Type: tFloat, Dims: []int64{-1, int64(k)}, Param: "N"})
	return nil
}

// wholeNumbers parses classes that are all whole numbers written plainly.
func wholeNumbers(classes []string) ([]int64, bool) {
	out := make([]int64, len(classes))
	for i, c := range classes {
		v, err := strconv.ParseInt(c, 10, 64)
		if err != nil || strconv.FormatInt(v, 10) != c {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}
