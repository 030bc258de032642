package app

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestColumnRolesAndTypes(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Path: filepath.Join(t.TempDir(), "cols.modelsmith")})
	role := func(ref, col string) string {
		d, err := s.Dataset(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Schema {
			if c.Name == col {
				return c.Role
			}
		}
		t.Fatalf("%s has no column %s", ref, col)
		return ""
	}
	typ := func(ref, col string) string {
		d, _ := s.Dataset(ctx, ref)
		for _, c := range d.Schema {
			if c.Name == col {
				return c.Type
			}
		}
		return ""
	}

	if err := s.SetColumnRole(ctx, "iris@1", "species", "target"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetColumnRole(ctx, "iris@1", "sepal_width_cm", "ignore"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetColumnRole(ctx, "iris@1", "petal_width_cm", "target"); err != nil {
		t.Fatal(err)
	}
	if got := role("iris@1", "species"); got != "feature" {
		t.Errorf("old target is %q after choosing another, want feature", got)
	}
	if err := s.SetColumnRole(ctx, "iris@1", "species", "boss"); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown role: %v", err)
	}
	if err := s.SetColumnRole(ctx, "iris@1", "nope", "ignore"); !errors.Is(err, ErrUsage) {
		t.Errorf("unknown column: %v", err)
	}
	s.SetColumnRole(ctx, "iris@1", "species", "target")

	// A numeric column as categories: a new version, roles carried over.
	res, err := s.ChangeColumnType(ctx, "iris@1", "petal_width_cm", "categorical", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Dataset.Ref != "iris@2" || typ("iris@2", "petal_width_cm") != "categorical" || typ("iris@1", "petal_width_cm") != "numeric" {
		t.Fatalf("after the change: %s, types %s / %s", res.Dataset.Ref, typ("iris@2", "petal_width_cm"), typ("iris@1", "petal_width_cm"))
	}
	if role("iris@2", "species") != "target" || role("iris@2", "sepal_width_cm") != "ignore" {
		t.Error("roles were not carried over to the new version")
	}
	// And back: every level is a number.
	if _, err := s.ChangeColumnType(ctx, "iris@2", "petal_width_cm", "numeric", nil); err != nil {
		t.Fatal(err)
	}
	f, err := s.Preview(ctx, "iris@3", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v := f.Column("petal_width_cm").Num[0]; v != 0.2 {
		t.Errorf("first petal width after the round trip = %v, want 0.2", v)
	}
	// Species are not numbers: the error names the row and value.
	_, err = s.ChangeColumnType(ctx, "iris@3", "species", "numeric", nil)
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), `row 1: "setosa"`) {
		t.Errorf("species as numbers: %v", err)
	}

	// Training leaves out ignored columns.
	tr, err := s.Train(ctx, TrainOptions{Data: "iris@3", Target: "species", Algorithm: "knn", Holdout: 0.2, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range tr.Model.Signature {
		_ = in
	}
	if strings.Contains(string(tr.Model.Signature), "sepal_width_cm") {
		t.Error("the ignored column is an input of the model")
	}
}
