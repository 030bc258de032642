package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"modelsmith/storage"
)

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// importDataset writes a dataset of cols columns and rows rows, chunked by
// chunkRows, in one Update, as the import use case will.
func importDataset(t *testing.T, ws *storage.Workspace, name, content string, rows int64, chunkRows int) storage.Dataset {
	t.Helper()
	d := storage.Dataset{Name: name, SourceKind: "file", Source: "/data/" + name + ".csv", Format: "csv",
		Hash: hashOf(content), Rows: rows, Cols: 2, StoredBytes: 123}
	err := ws.Update(context.Background(), func(tx *storage.Tx) error {
		v, err := tx.NextDatasetVersion(name)
		if err != nil {
			return err
		}
		d.Version = v
		if err := tx.InsertDataset(&d); err != nil {
			return err
		}
		cols := []storage.Column{
			{Position: 0, Name: "x", Type: "numeric", Profile: []byte(`{"mean":1.5,"missing":0}`)},
			{Position: 1, Name: "y", Type: "categorical", Role: "target", Hint: "label"},
		}
		if err := tx.InsertColumns(d.ID, cols); err != nil {
			return err
		}
		for col := range 2 {
			for i, start := 0, int64(0); start < rows; i, start = i+1, start+int64(chunkRows) {
				n := int(min(int64(chunkRows), rows-start))
				c := storage.Chunk{Column: col, Index: i, RowStart: start, Rows: n, Data: []byte(fmt.Sprintf("%d/%d", col, i))}
				if err := tx.InsertChunk(d.ID, c); err != nil {
					return err
				}
			}
		}
		return tx.Audit(storage.AuditEntry{Actor: "test", Action: "import", ObjectType: "dataset", ObjectName: name})
	})
	if err != nil {
		t.Fatalf("import %s: %v", name, err)
	}
	return d
}

func TestDatasets(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	iris1 := importDataset(t, ws, "iris", "iris v1", 150, 64)
	adult := importDataset(t, ws, "adult", "adult", 10, 64)
	iris2 := importDataset(t, ws, "iris", "iris v2", 300, 64)

	if iris1.Version != 1 || iris2.Version != 2 || adult.Version != 1 {
		t.Fatalf("versions = %d, %d, %d; want 1, 2, 1", iris1.Version, iris2.Version, adult.Version)
	}
	if iris1.CreatedAt.IsZero() || iris1.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want now in UTC", iris1.CreatedAt)
	}

	err := ws.View(ctx, func(tx *storage.Tx) error {
		t.Run("list is by name then version", func(t *testing.T) {
			all, err := tx.Datasets()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range all {
				got = append(got, fmt.Sprintf("%s@%d", d.Name, d.Version))
			}
			if want := "adult@1 iris@1 iris@2"; strings.Join(got, " ") != want {
				t.Errorf("Datasets() = %v, want %s", got, want)
			}
			if all[1] != iris1 {
				t.Errorf("round trip:\n got %+v\nwant %+v", all[1], iris1)
			}
		})
		t.Run("version 0 is the latest", func(t *testing.T) {
			d, err := tx.Dataset("iris", 0)
			if err != nil || d.ID != iris2.ID {
				t.Errorf("Dataset(iris, 0) = %+v, %v; want id %d", d, err, iris2.ID)
			}
			d, err = tx.Dataset("iris", 1)
			if err != nil || d.ID != iris1.ID {
				t.Errorf("Dataset(iris, 1) = %+v, %v; want id %d", d, err, iris1.ID)
			}
		})
		t.Run("next version", func(t *testing.T) {
			for name, want := range map[string]int{"iris": 3, "adult": 2, "new": 1} {
				if v, err := tx.NextDatasetVersion(name); err != nil || v != want {
					t.Errorf("NextDatasetVersion(%s) = %d, %v; want %d", name, v, err, want)
				}
			}
		})
		t.Run("missing datasets are ErrNotFound and named", func(t *testing.T) {
			for _, v := range []int{0, 3} {
				_, err := tx.Dataset("iris-missing", v)
				if !errors.Is(err, storage.ErrNotFound) || !strings.Contains(err.Error(), "iris-missing") {
					t.Errorf("Dataset(iris-missing, %d) error = %v", v, err)
				}
			}
			if _, err := tx.DatasetByID(9999); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("DatasetByID(9999) error = %v", err)
			}
		})
		t.Run("by hash", func(t *testing.T) {
			ds, err := tx.DatasetsByHash(hashOf("iris v2"))
			if err != nil || len(ds) != 1 || ds[0].ID != iris2.ID {
				t.Errorf("DatasetsByHash = %+v, %v", ds, err)
			}
			ds, err = tx.DatasetsByHash(hashOf("never seen"))
			if err != nil || len(ds) != 0 {
				t.Errorf("DatasetsByHash(unknown) = %+v, %v", ds, err)
			}
		})
		t.Run("columns by position with defaults", func(t *testing.T) {
			cols, err := tx.Columns(iris1.ID)
			if err != nil || len(cols) != 2 {
				t.Fatalf("Columns = %+v, %v", cols, err)
			}
			if cols[0].Role != "feature" || string(cols[0].Profile) != `{"mean":1.5,"missing":0}` {
				t.Errorf("column 0 = %+v", cols[0])
			}
			if cols[1].Role != "target" || cols[1].Hint != "label" || cols[1].Profile != nil {
				t.Errorf("column 1 = %+v", cols[1])
			}
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("chunks overlapping a row range", func(t *testing.T) {
		// iris v2: 300 rows in chunks of 64 → [0,64) [64,128) [128,192) [192,256) [256,300)
		tests := []struct {
			from, to int64
			want     []int
		}{
			{0, 1, []int{0}},
			{0, 64, []int{0}},
			{63, 65, []int{0, 1}},
			{64, 128, []int{1}},
			{100, 260, []int{1, 2, 3, 4}},
			{0, 1 << 62, []int{0, 1, 2, 3, 4}},
			{300, 400, nil},
			{10, 10, nil},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("[%d,%d)", tt.from, tt.to), func(t *testing.T) {
				var got []int
				err := ws.View(ctx, func(tx *storage.Tx) error {
					cs, err := tx.Chunks(iris2.ID, 1, tt.from, tt.to)
					for _, c := range cs {
						if c.Column != 1 || !bytes.Equal(c.Data, []byte(fmt.Sprintf("1/%d", c.Index))) {
							t.Errorf("chunk %+v has the wrong column or data", c)
						}
						got = append(got, c.Index)
					}
					return err
				})
				if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("chunk indexes = %v, %v; want %v", got, err, tt.want)
				}
			})
		}
	})

	t.Run("same name and version twice is refused", func(t *testing.T) {
		err := ws.Update(ctx, func(tx *storage.Tx) error {
			d := iris1
			d.ID = 0
			return tx.InsertDataset(&d)
		})
		if err == nil {
			t.Error("second iris@1 inserted")
		}
	})

	t.Run("bad values are refused", func(t *testing.T) {
		bad := []storage.Dataset{
			{Name: "", SourceKind: "file", Hash: hashOf("a")},
			{Name: "x", SourceKind: "ftp", Hash: hashOf("a")},
			{Name: "x", SourceKind: "file", Hash: "abc"},
			{Name: "x", SourceKind: "file", Hash: strings.ToUpper(hashOf("a"))},
			{Name: "x", SourceKind: "file", Hash: hashOf("a"), Rows: -1},
		}
		for _, d := range bad {
			if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.InsertDataset(&d) }); err == nil {
				t.Errorf("InsertDataset(%+v) succeeded", d)
			}
		}
		err := ws.Update(ctx, func(tx *storage.Tx) error {
			return tx.InsertColumns(adult.ID, []storage.Column{{Position: 5, Name: "z", Type: "vector"}})
		})
		if err == nil {
			t.Error("column of type vector inserted")
		}
		err = ws.Update(ctx, func(tx *storage.Tx) error {
			return tx.InsertChunk(adult.ID, storage.Chunk{Column: 7, Index: 0, Rows: 1, Data: []byte{1}})
		})
		if err == nil {
			t.Error("chunk of a column that does not exist committed")
		}
	})

	t.Run("delete cascades to columns and chunks", func(t *testing.T) {
		if err := ws.Update(ctx, func(tx *storage.Tx) error { return tx.DeleteDataset(iris1.ID) }); err != nil {
			t.Fatal(err)
		}
		db := rawDB(t, ws.Path())
		for _, table := range []string{"dataset_columns", "dataset_chunks"} {
			var n int
			if err := db.QueryRow("SELECT count(*) FROM "+table+" WHERE dataset_id = ?", iris1.ID).Scan(&n); err != nil || n != 0 {
				t.Errorf("%s rows of the deleted dataset = %d, %v", table, n, err)
			}
			if err := db.QueryRow("SELECT count(*) FROM "+table+" WHERE dataset_id = ?", iris2.ID).Scan(&n); err != nil || n == 0 {
				t.Errorf("%s rows of iris@2 = %d, %v; want some", table, n, err)
			}
		}
		err := ws.View(ctx, func(tx *storage.Tx) error {
			if _, err := tx.DatasetByID(iris1.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("deleted dataset still there: %v", err)
			}
			if d, err := tx.Dataset("iris", 0); err != nil || d.ID != iris2.ID {
				t.Errorf("latest iris after delete = %+v, %v", d, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		err = ws.Update(ctx, func(tx *storage.Tx) error { return tx.DeleteDataset(iris1.ID) })
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
	})
}

func TestDatasetJobReferenceIsClearedWhenTheJobGoes(t *testing.T) {
	ws := newWorkspace(t)
	ctx := context.Background()
	var d storage.Dataset
	err := ws.Update(ctx, func(tx *storage.Tx) error {
		j := storage.Job{Kind: "import", Status: "succeeded"}
		if err := tx.InsertJob(&j); err != nil {
			return err
		}
		d = storage.Dataset{Name: "iris", SourceKind: "sample", Hash: hashOf("iris"), JobID: j.ID}
		return tx.InsertDataset(&d)
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.Version != 1 {
		t.Errorf("a zero Version became %d, want 1", d.Version)
	}
	db := rawDB(t, ws.Path())
	if _, err := db.Exec("PRAGMA foreign_keys = ON; DELETE FROM jobs"); err != nil {
		t.Fatal(err)
	}
	err = ws.View(ctx, func(tx *storage.Tx) error {
		got, err := tx.DatasetByID(d.ID)
		if err == nil && got.JobID != 0 {
			t.Errorf("JobID = %d after its job was deleted, want 0", got.JobID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
