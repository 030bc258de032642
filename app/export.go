package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"modelsmith/ml/model"
	"modelsmith/ml/onnx"
	"modelsmith/storage"
)

// ExportFormats are the formats ExportModel writes.
var ExportFormats = []string{"native", "onnx"}

// ExportModel encodes a model version ("name", "name@3" or "name@alias") in
// format and returns the bytes and the version exported. "native" is one
// versioned, checksummed file with the pipeline, its signature, metrics and
// model card, which ImportModel reads back in any workspace; "onnx" is the
// whole pipeline as an ONNX graph (ml/onnx), or an error naming the part that
// cannot be exported.
func (s *Studio) ExportModel(ctx context.Context, ref, format string) ([]byte, ModelInfo, error) {
	if format != "native" && format != "onnx" {
		return nil, ModelInfo{}, usageErrorf("export format %q is not known (formats: %s)", format, strings.Join(ExportFormats, ", "))
	}
	pipe, m, err := s.loadModel(ctx, ref, true) // decoding checks the artifact before it leaves
	if err != nil {
		return nil, ModelInfo{}, err
	}
	info := modelFrom(m)
	if format == "onnx" {
		b, err := onnx.Export(pipe)
		if err != nil {
			return nil, info, fmt.Errorf("export %s to ONNX: %w", info.Ref, err)
		}
		return b, info, s.auditExport(ctx, info.Ref, format, len(b))
	}
	h := bundleHeader{Name: m.Name, Version: m.Version, Algorithm: m.Algorithm, Task: m.Task,
		ArtifactSHA256: m.ArtifactSHA256, Signature: json.RawMessage(m.Signature),
		ExportedAt: time.Now().UTC(), ExportedBy: codeVersion()}
	if m.Metrics != "" {
		h.Metrics = json.RawMessage(m.Metrics)
	}
	if m.Card != "" {
		h.Card = json.RawMessage(m.Card)
	}
	b, err := encodeBundle(bundle{header: h, artifact: m.Artifact})
	if err != nil {
		return nil, info, fmt.Errorf("export %s: %w", info.Ref, err)
	}
	return b, info, s.auditExport(ctx, info.Ref, format, len(b))
}

func (s *Studio) auditExport(ctx context.Context, ref, format string, size int) error {
	return s.ws.Update(ctx, func(tx *storage.Tx) error {
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "export", ObjectType: "model", ObjectName: ref,
			Detail: detailJSON(map[string]any{"format": format, "bytes": size})})
	})
}

// ExportModelFile writes ExportModel's bytes to path, through a temporary file
// renamed into place, so that a failed export leaves no partial file.
func (s *Studio) ExportModelFile(ctx context.Context, ref, format, path string) (ModelInfo, error) {
	b, info, err := s.ExportModel(ctx, ref, format)
	if err != nil {
		return info, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return info, fmt.Errorf("export %s to %s: %w", info.Ref, path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return info, fmt.Errorf("export %s to %s: %w", info.Ref, path, err)
	}
	// CreateTemp makes the file private; an export is an ordinary file.
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return info, fmt.Errorf("export %s to %s: %w", info.Ref, path, err)
	}
	if err := tmp.Close(); err != nil {
		return info, fmt.Errorf("export %s to %s: %w", info.Ref, path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return info, fmt.Errorf("export %s to %s: %w", info.Ref, path, err)
	}
	return info, nil
}

// ImportModel registers the model of a native export file as a new version
// of name (the exported name when name is ""). A damaged file, or one whose
// model this build cannot decode, is refused with the reason and nothing is
// registered.
func (s *Studio) ImportModel(ctx context.Context, path, name string) (ModelInfo, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ModelInfo{}, fmt.Errorf("import model: %w", err)
	}
	b, err := decodeBundle(raw)
	if err != nil {
		if !bytes.HasPrefix(raw, []byte(bundleMagic)) {
			return ModelInfo{}, fmt.Errorf("import model %s: %w (import-model reads the files 'export --format native' writes)", path, err)
		}
		return ModelInfo{}, fmt.Errorf("import model %s: %w", path, err)
	}
	if _, err := model.Decode(b.artifact, family); err != nil {
		return ModelInfo{}, fmt.Errorf("import model %s: %w", path, err)
	}
	if name == "" {
		name = b.header.Name
	}
	if err := checkName("model", name); err != nil {
		return ModelInfo{}, err
	}
	m := storage.Model{Name: name, Algorithm: b.header.Algorithm, Task: b.header.Task, Artifact: b.artifact,
		ArtifactSHA256: b.header.ArtifactSHA256, Signature: string(b.header.Signature),
		Metrics: string(b.header.Metrics), Card: string(b.header.Card)}
	if m.Metrics == "null" {
		m.Metrics = ""
	}
	if m.Card == "null" {
		m.Card = ""
	}
	origin := b.header.Name + "@" + strconv.Itoa(b.header.Version)
	err = s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.InsertModel(&m); err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "import", ObjectType: "model",
			ObjectName: m.Name + "@" + strconv.Itoa(m.Version),
			Detail:     detailJSON(map[string]any{"file": path, "exported_as": origin, "exported_at": b.header.ExportedAt})})
	})
	if err != nil {
		return ModelInfo{}, fmt.Errorf("import model %s: %w", path, err)
	}
	return modelFrom(m), nil
}

// aliasPattern is what an alias may look like: not a number, so that
// name@3 is always a version.
var aliasPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

// ParseModelRef splits "name", "name@3" or "name@alias". version is 0 and
// alias "" for the latest version.
func ParseModelRef(ref string) (name string, version int, alias string, err error) {
	name, v, ok := strings.Cut(ref, "@")
	if err := checkName("model", name); err != nil {
		return "", 0, "", err
	}
	if !ok {
		return name, 0, "", nil
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 1 {
			return "", 0, "", usageErrorf("%q: the version after @ must be a positive whole number", ref)
		}
		return name, n, "", nil
	}
	if !aliasPattern.MatchString(v) {
		return "", 0, "", usageErrorf("%q: after @ comes a version number or an alias (letters, digits, _ . -, not starting with a digit)", ref)
	}
	return name, 0, v, nil
}

// modelVersion resolves a model reference to its name and version (0 for
// the latest), following an alias.
func modelVersion(tx *storage.Tx, ref string) (string, int, error) {
	name, version, alias, err := ParseModelRef(ref)
	if err != nil || alias == "" {
		return name, version, err
	}
	a, err := tx.ModelAlias(name, alias)
	if errors.Is(err, storage.ErrNotFound) {
		return "", 0, fmt.Errorf("model %s has no alias %q (see model aliases)", name, alias)
	}
	return name, a.Version, err
}

// AliasInfo is one model alias.
type AliasInfo struct {
	Model     string    `json:"model"`
	Alias     string    `json:"alias"`
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SetModelAlias points alias at the version ref names ("churn@3", or
// "churn" for the latest), creating or moving it. Servers that serve
// name@alias switch to the new version within a second.
func (s *Studio) SetModelAlias(ctx context.Context, ref, alias string) (AliasInfo, error) {
	if !aliasPattern.MatchString(alias) {
		return AliasInfo{}, usageErrorf("alias %q: use letters, digits, _ . - and do not start with a digit", alias)
	}
	var out AliasInfo
	err := s.ws.Update(ctx, func(tx *storage.Tx) error {
		name, version, err := modelVersion(tx, ref)
		if err != nil {
			return err
		}
		m, err := tx.Model(name, version)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no model %q in this workspace (see the model list)", ref)
		}
		if err != nil {
			return err
		}
		if err := tx.SetModelAlias(m.Name, alias, m.Version, time.Time{}); err != nil {
			return err
		}
		out = AliasInfo{Model: m.Name, Alias: alias, Version: m.Version, UpdatedAt: time.Now().UTC()}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "alias", ObjectType: "model",
			ObjectName: m.Name + "@" + alias, Detail: detailJSON(map[string]any{"version": m.Version})})
	})
	return out, err
}

// RemoveModelAlias deletes name@alias.
func (s *Studio) RemoveModelAlias(ctx context.Context, name, alias string) error {
	return s.ws.Update(ctx, func(tx *storage.Tx) error {
		if err := tx.DeleteModelAlias(name, alias); errors.Is(err, storage.ErrNotFound) {
			return usageErrorf("model %s has no alias %q", name, alias)
		} else if err != nil {
			return err
		}
		return tx.Audit(storage.AuditEntry{Actor: actor(), Action: "unalias", ObjectType: "model", ObjectName: name + "@" + alias})
	})
}

// ModelAliases lists the aliases of a model, or of every model when name is "".
func (s *Studio) ModelAliases(ctx context.Context, name string) ([]AliasInfo, error) {
	var out []AliasInfo
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		list, err := tx.ModelAliases(name)
		for _, a := range list {
			out = append(out, AliasInfo{Model: a.Model, Alias: a.Alias, Version: a.Version, UpdatedAt: a.UpdatedAt})
		}
		return err
	})
	return out, err
}
