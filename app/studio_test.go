package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func openStudio(t *testing.T, opts Options) *Studio {
	t.Helper()
	if opts.Path == "" {
		opts.Path = filepath.Join(t.TempDir(), "studio.modelsmith")
	}
	s, err := Open(context.Background(), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.ws.IntegrityCheck(context.Background()); err != nil {
			t.Errorf("integrity: %v", err)
		}
		s.Close()
	})
	return s
}

func TestDefaultPathHonoursEnvironment(t *testing.T) {
	t.Setenv(EnvWorkspace, "/tmp/elsewhere.modelsmith")
	if p, err := DefaultPath(); err != nil || p != "/tmp/elsewhere.modelsmith" {
		t.Errorf("DefaultPath() = %q, %v", p, err)
	}
	if runtime.GOOS != "linux" {
		return
	}
	t.Setenv(EnvWorkspace, "")
	t.Setenv("XDG_CONFIG_HOME", "/home/someone/.config")
	if p, _ := DefaultPath(); p != "/home/someone/.config/Modelsmith/default.modelsmith" {
		t.Errorf("DefaultPath() = %q", p)
	}
}

func TestSamplesSeedOnlyNewWorkspaces(t *testing.T) {
	ctx := context.Background()
	t.Run("new workspace gets samples", func(t *testing.T) {
		s := openStudio(t, Options{})
		list, err := s.Datasets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range list {
			names = append(names, d.Ref)
		}
		if got := strings.Join(names, " "); got != "adult@1 california_housing@1 iris@1" {
			t.Errorf("datasets = %s", got)
		}
		d, err := s.Dataset(ctx, "california_housing")
		if err != nil {
			t.Fatal(err)
		}
		types := map[string]string{}
		for _, c := range d.Schema {
			types[c.Name] = c.Type
		}
		if types["ocean_proximity"] != "categorical" || types["median_house_value"] != "numeric" {
			t.Errorf("types = %v", types)
		}
	})
	t.Run("--empty gets none, and later opens do not seed", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.modelsmith")
		s, err := Open(ctx, Options{Path: path, Empty: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = openStudio(t, Options{Path: path})
		if list, _ := s.Datasets(ctx); len(list) != 0 {
			t.Errorf("datasets = %+v", list)
		}
	})
}

func writeCSV(t *testing.T, rows int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,colour,score\n")
	for i := range rows {
		fmt.Fprintf(&b, "%d,%s,%g\n", i, []string{"red", "green", "blue", ""}[i%4], float64(i)/8)
	}
	p := filepath.Join(t.TempDir(), "wide.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPreviewAcrossChunks(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Empty: true})
	const rows = 150000 // three chunks
	res, err := s.ImportDataset(ctx, writeCSV(t, rows), ImportOptions{Name: "wide"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Dataset.Rows != rows {
		t.Fatalf("rows = %d", res.Dataset.Rows)
	}
	for _, tc := range []struct{ from, to, want int }{
		{0, 10, 10}, {65530, 65540, 10}, {131000, 140000, 9000}, {149990, 200000, 10}, {rows, rows + 5, 0},
	} {
		t.Run(fmt.Sprintf("rows %d..%d", tc.from, tc.to), func(t *testing.T) {
			f, err := s.Preview(ctx, "wide@1", tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if f.Rows() != tc.want {
				t.Fatalf("got %d rows, want %d", f.Rows(), tc.want)
			}
			for i := 0; i < f.Rows(); i++ {
				row := tc.from + i
				if got := f.Columns[0].Format(i); got != fmt.Sprint(row) {
					t.Fatalf("row %d: id %s", row, got)
				}
				wantColour := []string{"red", "green", "blue", ""}[row%4]
				if got := f.Columns[1].Format(i); got != wantColour {
					t.Fatalf("row %d: colour %q, want %q", row, got, wantColour)
				}
			}
		})
	}
}

func TestConcurrentImportsAndReads(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Empty: true})
	path := writeCSV(t, 5000)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := s.ImportDataset(ctx, path, ImportOptions{Name: fmt.Sprintf("copy%d", i)}, nil)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := s.Datasets(ctx)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	list, _ := s.Datasets(ctx)
	if len(list) != 4 {
		t.Errorf("%d datasets, want 4", len(list))
	}
}

func TestDeleteDataset(t *testing.T) {
	ctx := context.Background()
	s := openStudio(t, Options{Empty: true})
	path := writeCSV(t, 100)
	for range 2 {
		if _, err := s.ImportDataset(ctx, path, ImportOptions{Name: "a"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ImportDataset(ctx, writeCSV(t, 50), ImportOptions{Name: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	removed, err := s.DeleteDataset(ctx, "a")
	if err != nil || len(removed) != 2 {
		t.Fatalf("removed %+v, %v; want a@1 and a@2", removed, err)
	}
	if _, err := s.DeleteDataset(ctx, "a"); err == nil {
		t.Error("deleting a missing dataset succeeded")
	}
}

func TestRefsAndNames(t *testing.T) {
	for _, tc := range []struct {
		ref     string
		name    string
		version int
		usage   bool
	}{
		{"iris", "iris", 0, false},
		{"iris@3", "iris", 3, false},
		{"iris@0", "", 0, true},
		{"iris@x", "", 0, true},
		{"@2", "", 0, true},
		{"a/b", "", 0, true},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			name, v, err := ParseRef(tc.ref)
			if tc.usage {
				if !errors.Is(err, ErrUsage) {
					t.Errorf("ParseRef(%q) error = %v, want a usage error", tc.ref, err)
				}
				return
			}
			if err != nil || name != tc.name || v != tc.version {
				t.Errorf("ParseRef(%q) = %q, %d, %v", tc.ref, name, v, err)
			}
		})
	}
	for path, want := range map[string]string{"/d/flights.csv.gz": "flights", "x.tsv": "x", "noext": "noext", "a.b.parquet": "a.b"} {
		if got := nameFromFile(path); got != want {
			t.Errorf("nameFromFile(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for v, want := range map[float64]string{
		12280: "12280", 189734.2: "189700", 1490000: "1490000", 0.23456: "0.2346", -3.5: "-3.5",
		0: "0", 1.2e-7: "1.2e-07", 2.5e16: "2.5e+16", 38.6437: "38.64",
	} {
		if got := FormatNumber(v); got != want {
			t.Errorf("FormatNumber(%g) = %q, want %q", v, got, want)
		}
	}
}
