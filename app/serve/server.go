// Package serve is Modelsmith's inference server: the KServe Open Inference
// Protocol v2 over REST (health, model metadata, infer), a plain /predict for
// JSON records and CSV, bearer tokens, Prometheus /metrics, an OpenAPI
// document, and an asynchronous, batched log of every prediction.
//
// It reaches the workspace only through the Store its caller (app.Studio)
// gives it, and must not import app, views or Fyne.
//
// # Caveats
//
// Tokens are workspace-wide and checked against the hashes the server polls
// from the Store (every Options.PollEvery): a token created or revoked while
// a server runs takes effect within that time, as does moving an alias.
package serve

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"modelsmith/app/jobs"
	"modelsmith/ml/model"
	"modelsmith/storage"
)

// Loaded is a model version ready to serve.
type Loaded struct {
	Pipe    *model.Pipeline
	ModelID int64
	Name    string // registry name
	Version int
}

// Store is what the server needs from the workspace.
type Store interface {
	// Load resolves a model reference (M, M@3, M@alias) and decodes it.
	Load(ctx context.Context, ref string) (Loaded, error)
	// Resolve returns the id of the model version ref names now.
	Resolve(ctx context.Context, ref string) (int64, error)
	// TokenHashes are the SHA-256 hashes of the valid tokens.
	TokenHashes(ctx context.Context) ([][32]byte, error)
	StartDeployment(ctx context.Context, d *storage.Deployment) error
	SetDeploymentModel(ctx context.Context, id, modelID int64) error
	FinishDeployment(ctx context.Context, id int64, status, errText string) error
	// LogPredictions appends rows to the prediction log in one transaction.
	LogPredictions(ctx context.Context, rows []storage.Prediction) error
}

// ModelSpec is one model to serve: clients call it Name; Ref says which
// version (following an alias as it moves).
type ModelSpec struct {
	Name string
	Ref  string
}

// Options configure a server. Zero values take the defaults.
type Options struct {
	Addr           string // default 127.0.0.1:8080; port 0 picks a free one
	Models         []ModelSpec
	MaxBodyBytes   int64         // default 8 MiB; larger bodies get 413
	RequestTimeout time.Duration // default 30 s, for reading a body and for scoring a batch
	PollEvery      time.Duration // default 1 s: tokens and aliases
	LogBatch       int           // default 256 rows per transaction: short writes that leave the cores to requests
	LogEvery       time.Duration // default 50 ms between log writes: small, even bursts of writing
	// Logf reports what happens in the background (alias switches, log
	// write failures); nil discards.
	Logf func(format string, args ...any)
}

// ErrNeedsToken is returned by Start for a non-loopback address in a
// workspace without tokens.
var ErrNeedsToken = errors.New("serving on a non-loopback address needs a token: create one with 'modelsmith token create'")

// Server is a running inference server.
type Server struct {
	opts      Options
	store     Store
	http      *http.Server
	ln        net.Listener
	loopback  bool
	endpoints map[string]*endpoint
	names     []string
	tokens    atomic.Pointer[tokenSet]
	metrics   *metrics
	log       *predictionLog
	idPrefix  string
	nextID    atomic.Uint64
	errors    atomic.Int64
	served    chan error
	stopPoll  chan struct{}
	polled    sync.WaitGroup
	stopOnce  sync.Once
	stopErr   error
	started   time.Time
}

type tokenSet struct {
	hashes map[[32]byte]struct{}
}

// endpoint is one served name; its version can be swapped under it.
type endpoint struct {
	spec  ModelSpec
	depID int64
	cur   atomic.Pointer[version]
	// obs and ok are the per-model metrics of a successful request, looked
	// up once rather than per request.
	obs prometheus.Observer
	ok  prometheus.Counter
}

// Start loads the models, records a deployment for each, binds the address
// and serves until Stop or ctx is done (which stops it gracefully).
func Start(ctx context.Context, store Store, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.RequestTimeout <= 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = time.Second
	}
	if opts.LogBatch <= 0 {
		opts.LogBatch = 256
	}
	if opts.LogEvery <= 0 {
		opts.LogEvery = 50 * time.Millisecond
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	if len(opts.Models) == 0 {
		return nil, errors.New("serve: no model to serve")
	}
	s := &Server{opts: opts, store: store, endpoints: map[string]*endpoint{}, served: make(chan error, 1),
		stopPoll: make(chan struct{}), started: time.Now()}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	s.idPrefix = hex.EncodeToString(rnd[:]) + "-"
	s.metrics = newMetrics()

	var loaded []*version
	for _, spec := range opts.Models {
		if _, dup := s.endpoints[spec.Name]; dup {
			return nil, fmt.Errorf("serve: two models named %q: give one another name (--model NAME=MODEL)", spec.Name)
		}
		l, err := store.Load(ctx, spec.Ref)
		if err != nil {
			return nil, fmt.Errorf("serve %s: %w", spec.Ref, err)
		}
		v, err := newVersion(l)
		if err != nil {
			return nil, fmt.Errorf("serve %s: %w", spec.Ref, err)
		}
		ep := &endpoint{spec: spec}
		ep.cur.Store(v)
		ep.obs = s.metrics.latency.WithLabelValues(spec.Name)
		ep.ok = s.metrics.requests.WithLabelValues(spec.Name, "200")
		s.endpoints[spec.Name] = ep
		s.names = append(s.names, spec.Name)
		loaded = append(loaded, v)
	}
	if err := s.refreshTokens(ctx); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("serve: listen on %s: %w", opts.Addr, err)
	}
	s.ln = ln
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok {
		s.loopback = tcp.IP.IsLoopback()
	}
	if !s.loopback && len(s.tokens.Load().hashes) == 0 {
		ln.Close()
		return nil, fmt.Errorf("serve on %s: %w", opts.Addr, ErrNeedsToken)
	}

	settings, _ := json.Marshal(map[string]any{"max_body_bytes": opts.MaxBodyBytes,
		"request_timeout": opts.RequestTimeout.String(), "tokens_required": len(s.tokens.Load().hashes) > 0 || !s.loopback})
	self := jobs.Self()
	for i, name := range s.names {
		ep := s.endpoints[name]
		d := storage.Deployment{Name: name, ModelRef: ep.spec.Ref, ModelID: loaded[i].ModelID, Address: s.Addr(),
			OwnerPID: self.PID, OwnerStart: self.Start, OwnerHost: self.Host, Settings: string(settings)}
		if err := store.StartDeployment(ctx, &d); err != nil {
			ln.Close()
			s.finishDeployments("failed", err.Error())
			return nil, fmt.Errorf("serve: record deployment of %s: %w", name, err)
		}
		ep.depID = d.ID
	}
	s.log = newPredictionLog(store, opts.LogBatch, opts.LogEvery, opts.Logf)

	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       opts.RequestTimeout,
		WriteTimeout:      opts.RequestTimeout + 10*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	go func() { s.served <- s.http.Serve(ln) }()
	s.polled.Add(1)
	go s.poll()
	context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.Stop(sctx)
	})
	return s, nil
}

// Addr is the address the server listens on (host:port).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr() }

// Handler is the server's HTTP handler (token check included), for
// embedding it in another server and for benchmarks.
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Names are the names the models are served under.
func (s *Server) Names() []string { return append([]string(nil), s.names...) }

// Wait returns once the server has stopped serving: nil after Stop, else
// the reason.
func (s *Server) Wait() error {
	err := <-s.served
	s.served <- err
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Stop stops gracefully: the listener closes, requests in flight finish
// (until ctx is done), every accepted prediction is written to the log, and
// the deployments are marked stopped.
func (s *Server) Stop(ctx context.Context) error {
	s.stopOnce.Do(func() {
		err := s.http.Shutdown(ctx)
		if err != nil {
			// Out of time: cut the connections still open. A handler still
			// running finds the log closed and says so.
			_ = s.http.Close()
		}
		close(s.stopPoll)
		s.polled.Wait()
		if lerr := s.log.close(); lerr != nil {
			err = errors.Join(err, lerr)
		}
		status, text := "stopped", ""
		if err != nil {
			status, text = "failed", err.Error()
		}
		s.finishDeployments(status, text)
		s.stopErr = err
	})
	return s.stopErr
}

func (s *Server) finishDeployments(status, text string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, ep := range s.endpoints {
		if ep.depID != 0 {
			if err := s.store.FinishDeployment(ctx, ep.depID, status, text); err != nil {
				s.opts.Logf("serve: record the end of deployment %d: %v", ep.depID, err)
			}
		}
	}
}

func (s *Server) refreshTokens(ctx context.Context) error {
	hashes, err := s.store.TokenHashes(ctx)
	if err != nil {
		return fmt.Errorf("serve: read tokens: %w", err)
	}
	set := &tokenSet{hashes: make(map[[32]byte]struct{}, len(hashes))}
	for _, h := range hashes {
		set.hashes[h] = struct{}{}
	}
	s.tokens.Store(set)
	return nil
}

// poll follows tokens and aliases.
func (s *Server) poll() {
	defer s.polled.Done()
	t := time.NewTicker(s.opts.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopPoll:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := s.refreshTokens(ctx); err != nil {
			s.opts.Logf("%v", err)
		}
		for _, name := range s.names {
			ep := s.endpoints[name]
			if err := s.follow(ctx, ep); err != nil {
				s.opts.Logf("serve %s: %v", name, err)
			}
		}
		cancel()
	}
}

// follow swaps in the version an endpoint's reference names now, if it
// changed. Requests in flight finish on the version they started with.
func (s *Server) follow(ctx context.Context, ep *endpoint) error {
	id, err := s.store.Resolve(ctx, ep.spec.Ref)
	if err != nil || id == ep.cur.Load().ModelID {
		return err
	}
	l, err := s.store.Load(ctx, ep.spec.Ref)
	if err != nil {
		return err
	}
	v, err := newVersion(l)
	if err != nil {
		return err
	}
	old := ep.cur.Swap(v)
	s.opts.Logf("serve %s: now %s@%d (was %s@%d)", ep.spec.Name, l.Name, l.Version, old.Name, old.Version)
	return s.store.SetDeploymentModel(ctx, ep.depID, l.ModelID)
}

// authorized applies the token rule: on loopback with no token, none is
// needed; otherwise a valid bearer token is.
func (s *Server) authorized(r *http.Request) bool {
	set := s.tokens.Load()
	if len(set.hashes) == 0 && s.loopback {
		return true
	}
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return false
	}
	_, ok = set.hashes[sha256.Sum256([]byte(strings.TrimSpace(tok)))]
	return ok
}

func (s *Server) requestID(r *http.Request, fromBody string) string {
	if fromBody != "" {
		return fromBody
	}
	if h := r.Header.Get("X-Request-Id"); h != "" {
		return h
	}
	return s.idPrefix + strconv.FormatUint(s.nextID.Add(1), 10)
}
