package app

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The native export file ("bundle"): a model version with everything the
// registry knows about it, so that another workspace can register it as is.
//
//	magic     8 bytes "MSBUNDLE"
//	version   uint32 little-endian (bundleVersion)
//	hlen      uint32 little-endian, then hlen bytes of header JSON (bundleHeader)
//	alen      uint64 little-endian, then alen bytes: the model artifact
//	          (ml/model's native codec, itself versioned and checksummed)
//	sha256    32 bytes: SHA-256 of everything before it
//
// The header carries the artifact's own SHA-256 too, so a bundle whose parts
// were swapped is refused as well as one whose bytes were damaged.
const (
	bundleMagic   = "MSBUNDLE"
	bundleVersion = 1
	// maxBundleHeader bounds the header JSON: a signature and card are a few
	// kilobytes; a larger header is damage, not a model.
	maxBundleHeader = 16 << 20
)

// ErrBadBundle is wrapped by errors about a file that is not a valid
// Modelsmith model export.
var ErrBadBundle = errors.New("not a valid Modelsmith model file")

type bundleHeader struct {
	Name           string          `json:"name"`
	Version        int             `json:"version"`
	Algorithm      string          `json:"algorithm"`
	Task           string          `json:"task"`
	ArtifactSHA256 string          `json:"artifact_sha256"`
	Signature      json.RawMessage `json:"signature"`
	Metrics        json.RawMessage `json:"metrics,omitempty"`
	Card           json.RawMessage `json:"card,omitempty"`
	ExportedAt     time.Time       `json:"exported_at"`
	ExportedBy     string          `json:"exported_by"` // the build that wrote it
}

type bundle struct {
	header   bundleHeader
	artifact []byte
}

func encodeBundle(b bundle) ([]byte, error) {
	h, err := json.Marshal(b.header)
	if err != nil {
		return nil, fmt.Errorf("encode model file header: %w", err)
	}
	out := make([]byte, 0, len(bundleMagic)+16+len(h)+len(b.artifact)+sha256.Size)
	out = append(out, bundleMagic...)
	out = binary.LittleEndian.AppendUint32(out, bundleVersion)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(h)))
	out = append(out, h...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(b.artifact)))
	out = append(out, b.artifact...)
	sum := sha256.Sum256(out)
	return append(out, sum[:]...), nil
}

// decodeBundle checks a bundle's envelope, checksums and header. It never
// panics; every error wraps ErrBadBundle and says what is wrong. It does not
// decode the artifact itself.
func decodeBundle(b []byte) (bundle, error) {
	var out bundle
	bad := func(format string, args ...any) (bundle, error) {
		return bundle{}, fmt.Errorf("%w: "+format, append([]any{ErrBadBundle}, args...)...)
	}
	if len(b) < len(bundleMagic) || string(b[:len(bundleMagic)]) != bundleMagic {
		return bad("it does not start with %q", bundleMagic)
	}
	if len(b) < len(bundleMagic)+8+8+sha256.Size {
		return bad("truncated (%d bytes)", len(b))
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return bad("checksum mismatch: the file is damaged or truncated")
	}
	if v := binary.LittleEndian.Uint32(b[len(bundleMagic):]); v != bundleVersion {
		if v > bundleVersion {
			return bad("format version %d is newer than this Modelsmith reads (%d); update Modelsmith", v, bundleVersion)
		}
		return bad("unknown format version %d", v)
	}
	rest := body[len(bundleMagic)+4:]
	hlen := uint64(binary.LittleEndian.Uint32(rest))
	rest = rest[4:]
	if hlen > maxBundleHeader || hlen+8 > uint64(len(rest)) {
		return bad("header length %d does not fit the file", hlen)
	}
	if err := json.Unmarshal(rest[:hlen], &out.header); err != nil {
		return bad("header: %v", err)
	}
	rest = rest[hlen:]
	alen := binary.LittleEndian.Uint64(rest)
	rest = rest[8:]
	if alen != uint64(len(rest)) {
		return bad("model length %d, but %d bytes follow", alen, len(rest))
	}
	out.artifact = rest
	h := out.header
	switch {
	case h.Name == "" || checkName("model", h.Name) != nil:
		return bad("model name %q is not valid", h.Name)
	case h.Version < 1:
		return bad("model version %d", h.Version)
	case h.Algorithm == "":
		return bad("no algorithm")
	case h.Task != "binary" && h.Task != "multiclass" && h.Task != "regression":
		return bad("unknown task %q", h.Task)
	case !json.Valid(h.Signature):
		return bad("no signature")
	}
	if s := sha256.Sum256(out.artifact); hex.EncodeToString(s[:]) != h.ArtifactSHA256 {
		return bad("the model inside does not match the header's SHA-256")
	}
	return out, nil
}
