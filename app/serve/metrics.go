package serve

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are a server's Prometheus collectors, in a registry of its own so
// that several servers in one process (tests, the desktop app) do not clash.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelsmith_inference_requests_total",
		Help: "Prediction requests answered, by served model and HTTP status.",
	}, []string{"model", "code"})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "modelsmith_inference_errors_total",
		Help: "Requests answered with an error, by served model (empty when unknown) and HTTP status.",
	}, []string{"model", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "modelsmith_inference_duration_seconds",
		Help: "Time from reading a prediction request to writing its answer, by served model.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
			2.5, 5, 10},
	}, []string{"model"})
	m.reg.MustRegister(m.requests, m.errors, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
