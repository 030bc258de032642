package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"modelsmith/app/jobs"
	"modelsmith/app/serve"
	"modelsmith/storage"
)

// ServeOptions say what a server serves and where.
type ServeOptions struct {
	// Addr is host:port; "" is 127.0.0.1:8080, port 0 a free port.
	Addr string
	// Models are model references, each "M", "M@3" or "M@alias", served as
	// M, or "NAME=REF" served as NAME. A server on M@alias follows the alias
	// when it moves, without dropping a request.
	Models         []string
	MaxBodyBytes   int64         // 0: 8 MiB
	RequestTimeout time.Duration // 0: 30 s
	PollEvery      time.Duration // 0: 1 s, for tokens and aliases
	// Logf receives background events (alias switches, log write retries).
	Logf func(format string, args ...any)
}

// Server is a running inference server: Addr, URL, Stats, Stop, Wait.
type Server = serve.Server

// ServerStats are a server's live numbers.
type ServerStats = serve.Stats

// Serve starts an inference server on the workspace's models and returns
// once it listens. It stops when ctx is done or Stop is called; either way
// every accepted prediction is logged first.
func (s *Studio) Serve(ctx context.Context, opts ServeOptions) (*Server, error) {
	var specs []serve.ModelSpec
	for _, m := range opts.Models {
		name, ref, ok := strings.Cut(m, "=")
		if !ok {
			ref = m
			name, _, _ = strings.Cut(m, "@")
		}
		if _, _, _, err := ParseModelRef(ref); err != nil {
			return nil, err
		}
		if name == "" || strings.ContainsAny(name, "/?#@ ") {
			return nil, usageErrorf("%q: the served name must be non-empty, without / ? # @ or spaces", m)
		}
		specs = append(specs, serve.ModelSpec{Name: name, Ref: ref})
	}
	if len(specs) == 0 {
		return nil, usageErrorf("no model to serve: name one or more with --model M[@version|@alias]")
	}
	srv, err := serve.Start(ctx, studioStore{s}, serve.Options{Addr: opts.Addr, Models: specs,
		MaxBodyBytes: opts.MaxBodyBytes, RequestTimeout: opts.RequestTimeout, PollEvery: opts.PollEvery, Logf: opts.Logf})
	if errors.Is(err, serve.ErrNeedsToken) {
		return nil, usageError{err}
	}
	return srv, err
}

// studioStore is the workspace as the server sees it.
type studioStore struct{ s *Studio }

func (st studioStore) Load(ctx context.Context, ref string) (serve.Loaded, error) {
	p, m, err := st.s.loadModel(ctx, ref, true)
	if err != nil {
		return serve.Loaded{}, err
	}
	return serve.Loaded{Pipe: p, ModelID: m.ID, Name: m.Name, Version: m.Version}, nil
}

func (st studioStore) Resolve(ctx context.Context, ref string) (int64, error) {
	var id int64
	err := st.s.ws.View(ctx, func(tx *storage.Tx) error {
		name, version, err := modelVersion(tx, ref)
		if err != nil {
			return err
		}
		id, err = tx.ModelID(name, version)
		return err
	})
	return id, err
}

func (st studioStore) TokenHashes(ctx context.Context) ([][32]byte, error) {
	var out [][32]byte
	err := st.s.ws.View(ctx, func(tx *storage.Tx) error {
		list, err := tx.Tokens(false)
		for _, t := range list {
			var h [32]byte
			if b, derr := hex.DecodeString(t.Hash); derr == nil && len(b) == 32 {
				copy(h[:], b)
				out = append(out, h)
			}
		}
		return err
	})
	return out, err
}

func (st studioStore) StartDeployment(ctx context.Context, d *storage.Deployment) error {
	return st.s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.InsertDeployment(d); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "deploy", ObjectType: "model", ObjectName: d.ModelRef,
			Detail: detailJSON(map[string]any{"deployment": d.ID, "name": d.Name, "address": d.Address})})
	})
}

func (st studioStore) SetDeploymentModel(ctx context.Context, id, modelID int64) error {
	return st.s.ws.Update(ctx, func(tx *storage.Tx) error { return tx.SetDeploymentModel(id, modelID) })
}

func (st studioStore) FinishDeployment(ctx context.Context, id int64, status, errText string) error {
	return st.s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.FinishDeployment(id, status, errText, time.Time{}); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "undeploy", ObjectType: "deployment",
			ObjectName: strconv.FormatInt(id, 10), Detail: detailJSON(map[string]any{"status": status, "error": errText})})
	})
}

func (st studioStore) LogPredictions(ctx context.Context, rows []storage.Prediction) error {
	return st.s.ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertPredictions(rows) })
}

// TokenInfo describes an API token; the token itself is shown only once,
// when it is created.
type TokenInfo struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// tokenPrefix marks Modelsmith tokens, so that one pasted somewhere is
// recognisable.
const tokenPrefix = "ms_"

// CreateToken makes a new bearer token for the workspace's servers and
// returns it; only its SHA-256 is stored. Once a token exists, every request
// to every server of this workspace needs a valid one.
func (s *Studio) CreateToken(ctx context.Context, name string) (TokenInfo, string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return TokenInfo{}, "", fmt.Errorf("create token: %w", err)
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	sum := sha256.Sum256([]byte(secret))
	t := storage.Token{Name: name, Hash: hex.EncodeToString(sum[:]), Prefix: secret[:len(tokenPrefix)+6]}
	err := s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.InsertToken(&t); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "token-create", ObjectType: "token",
			ObjectName: strconv.FormatInt(t.ID, 10), Detail: detailJSON(map[string]any{"name": name, "prefix": t.Prefix})})
	})
	if err != nil {
		return TokenInfo{}, "", err
	}
	return tokenFrom(t), secret, nil
}

func tokenFrom(t storage.Token) TokenInfo {
	info := TokenInfo{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt}
	if !t.RevokedAt.IsZero() {
		r := t.RevokedAt
		info.RevokedAt = &r
	}
	return info
}

// Tokens lists the API tokens; revoked ones too if withRevoked.
func (s *Studio) Tokens(ctx context.Context, withRevoked bool) ([]TokenInfo, error) {
	var out []TokenInfo
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		list, err := tx.Tokens(withRevoked)
		for _, t := range list {
			out = append(out, tokenFrom(t))
		}
		return err
	})
	return out, err
}

// RevokeToken revokes a token by id; running servers refuse it within a second.
func (s *Studio) RevokeToken(ctx context.Context, id int64) error {
	return s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.RevokeToken(id, time.Time{}); errors.Is(err, storage.ErrNotFound) {
			return usageErrorf("no valid token with id %d (see token list)", id)
		} else if err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "token-revoke", ObjectType: "token",
			ObjectName: strconv.FormatInt(id, 10)})
	})
}

// DeploymentInfo describes one served model of one server.
type DeploymentInfo struct {
	ID          int64          `json:"id"`
	Name        string         `json:"name"`
	ModelRef    string         `json:"model_ref"`
	Serving     string         `json:"serving,omitempty"` // the version served last, name@version
	Address     string         `json:"address"`
	Status      string         `json:"status"`
	PID         int            `json:"pid"`
	Settings    map[string]any `json:"settings,omitempty"`
	Error       string         `json:"error,omitempty"`
	Predictions int64          `json:"predictions"`
	StartedAt   time.Time      `json:"started_at"`
	StoppedAt   *time.Time     `json:"stopped_at,omitempty"`
}

// Deployments lists deployments, newest first (only running ones if
// runningOnly). A deployment whose server process has died is marked
// interrupted.
func (s *Studio) Deployments(ctx context.Context, runningOnly bool) ([]DeploymentInfo, error) {
	var dead []int64
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		list, err := tx.Deployments(true, 0)
		for _, d := range list {
			if !(jobs.Owner{PID: d.OwnerPID, Start: d.OwnerStart, Host: d.OwnerHost}).Alive() {
				dead = append(dead, d.ID)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(dead) > 0 {
		err = s.ws.Update(ctx, func(tx *storage.Tx) error {
			for _, id := range dead {
				if err := tx.FinishDeployment(id, "interrupted", "the server process ended without stopping", time.Time{}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []DeploymentInfo
	err = s.ws.View(ctx, func(tx *storage.Tx) error {
		list, err := tx.Deployments(runningOnly, 0)
		if err != nil {
			return err
		}
		models, err := tx.Models()
		if err != nil {
			return err
		}
		refs := map[int64]string{}
		for _, m := range models {
			refs[m.ID] = m.Name + "@" + strconv.Itoa(m.Version)
		}
		for _, d := range list {
			info := DeploymentInfo{ID: d.ID, Name: d.Name, ModelRef: d.ModelRef, Serving: refs[d.ModelID], Address: d.Address,
				Status: d.Status, PID: d.OwnerPID, Error: d.Error, StartedAt: d.StartedAt}
			_ = jsonUnmarshal(d.Settings, &info.Settings)
			if !d.StoppedAt.IsZero() {
				t := d.StoppedAt
				info.StoppedAt = &t
			}
			if info.Predictions, err = tx.CountPredictions(d.ID); err != nil {
				return err
			}
			out = append(out, info)
		}
		return nil
	})
	return out, err
}

// PredictionInfo is one logged prediction.
type PredictionInfo = storage.Prediction

// Predictions lists the newest logged predictions of a deployment (all when
// id is 0).
func (s *Studio) Predictions(ctx context.Context, deploymentID int64, limit int) ([]PredictionInfo, error) {
	var out []PredictionInfo
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		var err error
		out, err = tx.Predictions(deploymentID, limit)
		return err
	})
	return out, err
}
