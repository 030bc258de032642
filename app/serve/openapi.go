package serve

import (
	"encoding/json"
	"net/http"
)

// openAPI serves an OpenAPI 3.0 document of this server, its models' inputs
// spelled out as request examples.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) {
	errResp := map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{
		"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	errs := map[string]any{"400": errResp, "401": errResp, "404": errResp, "413": errResp}
	with := func(ok map[string]any) map[string]any {
		out := map[string]any{"200": ok}
		for k, v := range errs {
			out[k] = v
		}
		return out
	}
	jsonOK := func(schema string) map[string]any {
		return map[string]any{"description": "ok", "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/" + schema}}}}
	}
	nameParam := map[string]any{"name": "name", "in": "path", "required": true, "schema": map[string]any{"type": "string", "enum": s.names}}
	versionParam := map[string]any{"name": "version", "in": "path", "required": true, "schema": map[string]any{"type": "string"}}
	examples := map[string]any{}
	for _, name := range s.names {
		v := s.endpoints[name].cur.Load()
		var inputs []map[string]any
		for _, in := range v.Pipe.Inputs {
			dt, val := "BYTES", any("")
			if in.Type == "numeric" {
				dt, val = "FP64", 0
			} else if len(in.Levels) > 0 {
				val = in.Levels[0]
			}
			inputs = append(inputs, map[string]any{"name": in.Name, "datatype": dt, "shape": []int{1}, "data": []any{val}})
		}
		examples[name] = map[string]any{"summary": name, "value": map[string]any{"inputs": inputs}}
	}
	infer := map[string]any{
		"summary":    "Score a batch (KServe Open Inference Protocol v2)",
		"parameters": []any{nameParam},
		"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/InferRequest"}, "examples": examples}}},
		"responses": with(jsonOK("InferResponse")),
	}
	inferVersion := map[string]any{}
	for k, v := range infer {
		inferVersion[k] = v
	}
	inferVersion["parameters"] = []any{nameParam, versionParam}
	simple := func(summary string, params ...any) map[string]any {
		return map[string]any{"get": map[string]any{"summary": summary, "parameters": params,
			"responses": with(map[string]any{"description": "ok", "content": map[string]any{"application/json": map[string]any{}}})}}
	}
	predictBody := map[string]any{"required": true, "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"oneOf": []any{
			map[string]any{"type": "object"}, map[string]any{"type": "array", "items": map[string]any{"type": "object"}}}}},
		"text/csv": map[string]any{"schema": map[string]any{"type": "string"}}}}
	predictResp := map[string]any{"description": "ok", "content": map[string]any{
		"application/json": map[string]any{"schema": map[string]any{"type": "object"}},
		"text/csv":         map[string]any{"schema": map[string]any{"type": "string"}}}}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Modelsmith inference server", "version": "1",
			"description": "KServe Open Inference Protocol v2 (REST) and a plain /predict. Numeric inputs take FP64, FP32, INT64 or INT32, shape [N] or [N, 1]; categorical and text inputs BYTES; null is a missing value."},
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"schemas": map[string]any{
				"Error": map[string]any{"type": "object", "properties": map[string]any{"error": map[string]any{"type": "string"}}},
				"Tensor": map[string]any{"type": "object", "required": []string{"name", "datatype", "shape", "data"},
					"properties": map[string]any{"name": map[string]any{"type": "string"},
						"datatype": map[string]any{"type": "string", "enum": []string{"FP64", "FP32", "INT64", "INT32", "BYTES"}},
						"shape":    map[string]any{"type": "array", "items": map[string]any{"type": "integer"}},
						"data":     map[string]any{"type": "array", "items": map[string]any{}}}},
				"InferRequest": map[string]any{"type": "object", "required": []string{"inputs"}, "properties": map[string]any{
					"id":     map[string]any{"type": "string"},
					"inputs": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/Tensor"}},
					"outputs": map[string]any{"type": "array", "items": map[string]any{"type": "object",
						"properties": map[string]any{"name": map[string]any{"type": "string", "enum": []string{"label", "probabilities", "variable"}}}}}}},
				"InferResponse": map[string]any{"type": "object", "properties": map[string]any{
					"model_name": map[string]any{"type": "string"}, "model_version": map[string]any{"type": "string"},
					"id":      map[string]any{"type": "string"},
					"outputs": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/Tensor"}}}},
			},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths": map[string]any{
			"/v2":                                        simple("Server metadata"),
			"/v2/health/live":                            simple("Liveness"),
			"/v2/health/ready":                           simple("Readiness"),
			"/v2/models/{name}":                          simple("Model metadata: inputs, outputs, version", nameParam),
			"/v2/models/{name}/versions/{version}":       simple("Model metadata of a version", nameParam, versionParam),
			"/v2/models/{name}/ready":                    simple("Model readiness", nameParam),
			"/v2/models/{name}/infer":                    map[string]any{"post": infer},
			"/v2/models/{name}/versions/{version}/infer": map[string]any{"post": inferVersion},
			"/predict": map[string]any{"post": map[string]any{"summary": "Score JSON records or CSV rows (the only model, or ?model=NAME)",
				"parameters":  []any{map[string]any{"name": "model", "in": "query", "schema": map[string]any{"type": "string"}}},
				"requestBody": predictBody, "responses": with(predictResp)}},
			"/metrics": map[string]any{"get": map[string]any{"summary": "Prometheus metrics",
				"responses": map[string]any{"200": map[string]any{"description": "ok", "content": map[string]any{"text/plain": map[string]any{}}}}}},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		s.fail(w, "", http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, b)
}
