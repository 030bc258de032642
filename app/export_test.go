package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// trainSmall trains a small seeded model on a sample dataset.
func trainSmall(t testing.TB, s *Studio, dataset, target, algo, name string) ModelInfo {
	t.Helper()
	res, err := s.Train(context.Background(), TrainOptions{Data: dataset, Target: target, Algorithm: algo, Name: name,
		Seed: 7, Holdout: 0.2, Params: map[string]string{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Model
}

func TestExportImportAcrossWorkspaces(t *testing.T) {
	ctx := context.Background()
	a := openStudio(t, Options{})
	b := openStudio(t, Options{Empty: true}) // never saw the model nor its data
	for _, tc := range []struct{ dataset, target, algo string }{
		{"iris", "species", "gbdt"},
		{"california_housing", "median_house_value", "linear"}, // regression, a categorical input
	} {
		t.Run(tc.dataset+"/"+tc.algo, func(t *testing.T) {
			info := trainSmall(t, a, tc.dataset, tc.target, tc.algo, tc.dataset+"-m")
			path := filepath.Join(t.TempDir(), "model.msmodel")
			if _, err := a.ExportModelFile(ctx, info.Ref, "native", path); err != nil {
				t.Fatal(err)
			}
			// Import into another workspace, empty, and predict the test
			// split from the file in both.
			got, err := b.ImportModel(ctx, path, "imported-"+tc.dataset)
			if err != nil {
				t.Fatal(err)
			}
			if got.Algorithm != info.Algorithm || got.Task != info.Task || got.SHA256 != info.SHA256 ||
				string(got.Signature) != string(info.Signature) || got.Version != 1 {
				t.Errorf("imported %+v, exported %+v", got, info)
			}
			test := filepath.Join(sharedData, tc.dataset, "test.csv")
			if _, err := os.Stat(test); err != nil {
				t.Skip(err)
			}
			pa, err := a.Predict(ctx, info.Ref, test, nil)
			if err != nil {
				t.Fatal(err)
			}
			pb, err := b.Predict(ctx, got.Ref, test, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(pa.Out) != len(pb.Out) || len(pa.Out) == 0 {
				t.Fatalf("%d and %d outputs", len(pa.Out), len(pb.Out))
			}
			for i := range pa.Out {
				if pa.Out[i] != pb.Out[i] {
					t.Fatalf("output %d: %v in the first workspace, %v after import", i, pa.Out[i], pb.Out[i])
				}
			}
		})
	}
}

func TestImportRefusesDamagedFiles(t *testing.T) {
	ctx := context.Background()
	a := openStudio(t, Options{Empty: false})
	info := trainSmall(t, a, "iris", "species", "linear", "m")
	good, _, err := a.ExportModel(ctx, info.Ref, "native")
	if err != nil {
		t.Fatal(err)
	}
	b := openStudio(t, Options{Empty: true})
	dir := t.TempDir()
	flip := func(i int) []byte {
		c := append([]byte(nil), good...)
		c[i] ^= 0x40
		return c
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "does not start with"},
		{"not a model", []byte("age,income\n1,2\n"), "does not start with"},
		{"truncated", good[:len(good)/2], "checksum mismatch"},
		{"flipped header byte", flip(30), "checksum mismatch"},
		{"flipped model byte", flip(len(good) - 100), "checksum mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(path, tc.b, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := b.ImportModel(ctx, path, "")
			if !errors.Is(err, ErrBadBundle) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if list, _ := b.Models(ctx); len(list) != 0 {
				t.Errorf("a damaged file registered %d models", len(list))
			}
		})
	}
	if _, _, err := a.ExportModel(ctx, info.Ref, "pmml"); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown format: %v", err)
	}
}

func TestModelAliases(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{})
	trainSmall(t, s, "iris", "species", "linear", "m")
	trainSmall(t, s, "iris", "species", "gbdt", "m")
	if _, err := s.SetModelAlias(ctx, "m@1", "prod"); err != nil {
		t.Fatal(err)
	}
	info, err := s.Model(ctx, "m@prod")
	if err != nil || info.Version != 1 || info.Algorithm != "linear" {
		t.Errorf("m@prod = %+v, %v; want version 1", info, err)
	}
	if _, err := s.SetModelAlias(ctx, "m", "prod"); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Model(ctx, "m@prod"); info.Version != 2 {
		t.Errorf("after moving, m@prod is version %d", info.Version)
	}
	for _, bad := range []string{"3", "a b", "", "x@y"} {
		if _, err := s.SetModelAlias(ctx, "m", bad); !errors.Is(err, ErrUsage) {
			t.Errorf("alias %q: %v, want a usage error", bad, err)
		}
	}
	if _, err := s.Model(ctx, "m@staging"); err == nil || !strings.Contains(err.Error(), "no alias") {
		t.Errorf("unknown alias: %v", err)
	}
	if _, err := s.SetModelAlias(ctx, "m@9", "prod"); err == nil {
		t.Error("alias to a missing version was set")
	}
	if err := s.RemoveModelAlias(ctx, "m", "prod"); err != nil {
		t.Fatal(err)
	}
	if list, _ := s.ModelAliases(ctx, ""); len(list) != 0 {
		t.Errorf("aliases after removal: %+v", list)
	}
}

func FuzzDecodeBundle(f *testing.F) {
	h := bundleHeader{Name: "m", Version: 1, Algorithm: "gbdt", Task: "binary", Signature: []byte(`{}`)}
	sum := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" // SHA-256 of nothing
	h.ArtifactSHA256 = sum
	good, err := encodeBundle(bundle{header: h})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(bundleMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeBundle(b)
		if err != nil {
			if !errors.Is(err, ErrBadBundle) {
				t.Fatalf("error %v does not wrap ErrBadBundle", err)
			}
			return
		}
		again, err := encodeBundle(got)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeBundle(again); err != nil {
			t.Fatalf("re-encoded bundle does not decode: %v", err)
		}
	})
}

func TestExportONNX(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{})
	info := trainSmall(t, s, "iris", "species", "gbdt", "m")
	path := filepath.Join(t.TempDir(), "m.onnx")
	if _, err := s.ExportModelFile(ctx, info.Ref, "onnx", path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// An ONNX ModelProto names its producer and holds the tree ensemble;
	// onnxruntime parity is ml/onnx's own test.
	if !strings.Contains(string(b), "modelsmith") || !strings.Contains(string(b), "TreeEnsemble") {
		t.Errorf("%d bytes without the producer or the tree ensemble", len(b))
	}
}
