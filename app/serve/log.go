package serve

import (
	"context"
	"sort"
	"strconv"
	"sync"
	"time"

	"modelsmith/storage"
)

// entry is one answered request, waiting to be logged.
type entry struct {
	ep      *endpoint
	v       *version
	at      time.Time
	id      string
	n       int
	cells   []cell    // n rows × model inputs
	out     []float64 // n rows × outputs
	latency time.Duration
}

// predictionLog writes answered requests to the workspace from its own
// goroutine, in batches: one transaction per LogBatch rows or LogEvery,
// whichever comes first. A request only puts its entry on a channel; when
// the writer falls far behind the channel fills and requests wait, so that
// nothing accepted is ever dropped.
type predictionLog struct {
	store Store
	ch    chan entry
	done  chan error
	batch int
	every time.Duration
	logf  func(string, ...any)

	// gate orders add against close: adds share it, close takes it alone.
	gate sync.RWMutex
	shut bool

	mu    sync.Mutex // guards stats
	stats liveStats
}

// liveStats are the numbers the Deploy screen shows, kept by the writer
// from the entries it logs, so the request path pays nothing for them.
type liveStats struct {
	logged  int64
	pending int
	recent  []entry // ring, newest at at-1
	at      int
	lat     []latSample // ring of the last latencies
	latAt   int
}

type latSample struct {
	at time.Time
	ms float64
}

const (
	keepRecent  = 50
	keepLatency = 20000
	queueLength = 1 << 14
)

func newPredictionLog(store Store, batch int, every time.Duration, logf func(string, ...any)) *predictionLog {
	l := &predictionLog{store: store, ch: make(chan entry, queueLength), done: make(chan error, 1), batch: batch,
		every: every, logf: logf}
	go l.run()
	return l
}

// add queues an answered request. After close (only a request still
// running when Stop gave up waiting), it is dropped and reported.
func (l *predictionLog) add(e entry) {
	l.gate.RLock()
	defer l.gate.RUnlock()
	if l.shut {
		l.logf("serve: request %s answered after the server stopped; not logged", e.id)
		return
	}
	l.ch <- e
}

// close waits until every entry added before it has been written.
func (l *predictionLog) close() error {
	l.gate.Lock()
	if l.shut {
		l.gate.Unlock()
		return nil
	}
	l.shut = true
	close(l.ch)
	l.gate.Unlock()
	return <-l.done
}

func (l *predictionLog) run() {
	var pending []entry
	rows := 0
	var lastErr error
	t := time.NewTicker(l.every)
	defer t.Stop()
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if err := l.write(pending, rows); err != nil {
			lastErr = err
		}
		pending, rows = pending[:0], 0
	}
	for {
		select {
		case e, ok := <-l.ch:
			if !ok {
				flush()
				l.done <- lastErr
				return
			}
			pending = append(pending, e)
			rows += max(e.n, 1)
			if rows >= l.batch {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}

// write stores a batch, retrying while the workspace is busy (another
// process's long write): the rows are the only record of those predictions.
func (l *predictionLog) write(es []entry, rows int) error {
	ps := make([]storage.Prediction, 0, rows)
	var buf []byte
	for _, e := range es {
		cols := len(e.v.Pipe.Inputs)
		for i := range e.n {
			buf = buf[:0]
			for j := range cols {
				buf = append(buf, e.v.logKeys[j]...)
				buf = appendCell(buf, e.cells[i*cols+j])
			}
			if cols == 0 {
				buf = append(buf, '{')
			}
			buf = append(buf, '}')
			inputs := string(buf)
			buf = e.v.appendOutputs(buf[:0], e.out[i*e.v.k:(i+1)*e.v.k])
			ps = append(ps, storage.Prediction{DeploymentID: e.ep.depID, ModelID: e.v.ModelID, At: e.at,
				RequestID: e.id, Row: i, Inputs: inputs, Outputs: string(buf),
				LatencyMS: float64(e.latency.Microseconds()) / 1000})
		}
	}
	var err error
	for attempt := 0; attempt < 20; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = l.store.LogPredictions(ctx, ps)
		cancel()
		if err == nil {
			break
		}
		l.logf("serve: writing %d predictions (attempt %d): %v", len(ps), attempt+1, err)
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil {
		l.stats.logged += int64(len(ps))
	}
	for _, e := range es {
		l.stats.note(e)
	}
	return err
}

func appendCell(b []byte, c cell) []byte {
	switch c.kind {
	case cellNumber:
		if isJSONNumber(c.text) {
			return append(b, c.text...)
		}
		return appendJSONString(b, c.text)
	case cellString, cellBool:
		return appendJSONString(b, c.text)
	}
	return append(b, "null"...)
}

// isJSONNumber reports whether s is a number as JSON writes it.
func isJSONNumber(s string) bool {
	d := decoder{b: []byte(s)}
	if len(s) == 0 {
		return false
	}
	_, err := d.number()
	return err == nil && d.pos == len(s)
}

func (st *liveStats) note(e entry) {
	if len(st.recent) < keepRecent {
		st.recent = append(st.recent, e)
	} else {
		st.recent[st.at%keepRecent] = e
	}
	st.at++
	s := latSample{at: e.at, ms: float64(e.latency.Microseconds()) / 1000}
	if len(st.lat) < keepLatency {
		st.lat = append(st.lat, s)
	} else {
		st.lat[st.latAt%keepLatency] = s
	}
	st.latAt++
}

// recentRequest formats an entry for the live view (only when asked).
func recentRequest(e entry) RecentRequest {
	r := RecentRequest{At: e.at, ID: e.id, Model: e.ep.spec.Name, Version: e.v.Version, Rows: e.n,
		LatencyMS: float64(e.latency.Microseconds()) / 1000}
	if e.n > 0 {
		cols := len(e.v.Pipe.Inputs)
		r.Output = string(e.v.appendOutputs(nil, e.out[:e.v.k]))
		in := make([]byte, 0, 64)
		for j := range cols {
			in = append(in, e.v.logKeys[j]...)
			in = appendCell(in, e.cells[j])
		}
		if cols > 0 {
			r.Input = string(append(in, '}'))
		}
	}
	return r
}

// RecentRequest is one logged request, for the live view.
type RecentRequest struct {
	At        time.Time `json:"at"`
	ID        string    `json:"id"`
	Model     string    `json:"model"`
	Version   int       `json:"version"`
	Rows      int       `json:"rows"`
	LatencyMS float64   `json:"latency_ms"`
	Input     string    `json:"input,omitempty"`  // the first row, JSON
	Output    string    `json:"output,omitempty"` // its prediction, JSON
}

// Stats are a running server's live numbers.
type Stats struct {
	Addr      string          `json:"addr"`
	Uptime    time.Duration   `json:"uptime"`
	Requests  int64           `json:"requests"` // answered predictions requests
	Errors    int64           `json:"errors"`   // requests answered with an error
	Logged    int64           `json:"logged"`   // rows written to the prediction log
	Rate      float64         `json:"rate"`     // requests per second over the last Window
	P50MS     float64         `json:"p50_ms"`
	P95MS     float64         `json:"p95_ms"`
	P99MS     float64         `json:"p99_ms"`
	Window    time.Duration   `json:"window"`
	Recent    []RecentRequest `json:"recent"` // newest first
	Serving   []string        `json:"serving"`
	NeedToken bool            `json:"need_token"`
}

// Stats returns the live numbers over the last window (5 s if zero).
func (s *Server) Stats(window time.Duration) Stats {
	if window <= 0 {
		window = 5 * time.Second
	}
	st := Stats{Addr: s.Addr(), Uptime: time.Since(s.started), Errors: s.errors.Load(), Window: window,
		NeedToken: len(s.tokens.Load().hashes) > 0 || !s.loopback}
	for _, name := range s.names {
		v := s.endpoints[name].cur.Load()
		st.Serving = append(st.Serving, name+" = "+v.Name+"@"+strconv.Itoa(v.Version))
	}
	l := s.log
	l.mu.Lock()
	st.Logged = l.stats.logged
	st.Requests = int64(l.stats.latAt)
	since := time.Now().Add(-window)
	var lat []float64
	for _, x := range l.stats.lat {
		if x.at.After(since) {
			lat = append(lat, x.ms)
		}
	}
	if n := len(l.stats.recent); n > 0 {
		for i := range n {
			st.Recent = append(st.Recent, recentRequest(l.stats.recent[((l.stats.at-1-i)%n+n)%n]))
		}
	}
	l.mu.Unlock()
	if up := time.Since(s.started); up < window {
		window = max(up, time.Second)
	}
	st.Rate = float64(len(lat)) / window.Seconds()
	if len(lat) > 0 {
		sort.Float64s(lat)
		q := func(p float64) float64 { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
		st.P50MS, st.P95MS, st.P99MS = q(0.50), q(0.95), q(0.99)
	}
	return st
}
