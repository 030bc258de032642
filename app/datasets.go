package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"modelsmith/app/jobs"
	"modelsmith/ml/data"
	"modelsmith/resources"
	"modelsmith/storage"
)

// Dataset describes one stored version of a dataset.
type Dataset struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Version     int       `json:"version"`
	Ref         string    `json:"ref"` // name@version
	SourceKind  string    `json:"source_kind"`
	Source      string    `json:"source"`
	Format      string    `json:"format"`
	Hash        string    `json:"sha256"`
	Rows        int64     `json:"rows"`
	Columns     int       `json:"columns"`
	StoredBytes int64     `json:"stored_bytes"`
	CreatedAt   time.Time `json:"created_at"`
}

// ColumnInfo is one column's schema and profile.
type ColumnInfo struct {
	Position int          `json:"position"`
	Name     string       `json:"name"`
	Type     string       `json:"type"` // numeric, categorical, text, datetime
	Role     string       `json:"role"` // feature, target, id, ignore
	Hint     string       `json:"hint,omitempty"`
	Profile  data.Profile `json:"profile"`
}

// Summary is one short line about a column's values, for tables: the range
// and mean of numbers, the span of dates, the commonest levels of categories.
func (c ColumnInfo) Summary() string {
	p := c.Profile
	if p.Min != nil && p.Max != nil && p.Mean != nil {
		if c.Type == "datetime" {
			day := func(sec float64) string { return time.Unix(int64(sec), 0).UTC().Format(time.DateOnly) }
			return day(*p.Min) + " … " + day(*p.Max)
		}
		return "min " + FormatNumber(*p.Min) + "  mean " + FormatNumber(*p.Mean) + "  max " + FormatNumber(*p.Max)
	}
	var parts []string
	for i, lc := range p.Top {
		if i == 3 {
			parts = append(parts, "…")
			break
		}
		v := lc.Value
		if utf8.RuneCountInString(v) > 20 {
			v = string([]rune(v)[:19]) + "…"
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", v, lc.Count))
	}
	return strings.Join(parts, ", ")
}

// FormatNumber writes v for people: four significant digits, without an
// exponent unless v is very large or very small ("189700", "0.2346", "1.2e-07").
func FormatNumber(v float64) string {
	a := math.Abs(v)
	if a != 0 && (a >= 1e15 || a < 1e-4) {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 4, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// DatasetDetail is a dataset with its schema and column profiles.
type DatasetDetail struct {
	Dataset
	Schema []ColumnInfo `json:"schema"`
}

func datasetFrom(d storage.Dataset) Dataset {
	return Dataset{
		ID: d.ID, Name: d.Name, Version: d.Version, Ref: d.Name + "@" + strconv.Itoa(d.Version),
		SourceKind: d.SourceKind, Source: d.Source, Format: d.Format, Hash: d.Hash,
		Rows: d.Rows, Columns: d.Cols, StoredBytes: d.StoredBytes, CreatedAt: d.CreatedAt,
	}
}

// ImportOptions tune ImportDataset.
type ImportOptions struct {
	// Name of the dataset; "" means the file's name without its extensions.
	// Importing under an existing name adds a new version.
	Name string
	// Format and Delimiter override detection (see data.ReadOptions).
	Format    data.Format
	Delimiter rune
}

// ImportResult says what an import did.
type ImportResult struct {
	Dataset Dataset `json:"dataset"`
	// Unchanged is true when the latest version of that name already held
	// identical content: no new version was made and Dataset is that version.
	Unchanged bool `json:"unchanged"`
	// SameContent lists other datasets (name@version) with identical content.
	SameContent []string `json:"same_content,omitempty"`
	JobID       int64    `json:"job_id"`
}

// ImportDataset reads a file (any format ml/data reads, optionally gzip
// compressed), profiles it and stores it as a new dataset version in one
// transaction: when it fails or is cancelled, the workspace is as it was.
func (s *Studio) ImportDataset(ctx context.Context, path string, opts ImportOptions, progress func(Progress)) (ImportResult, error) {
	res, _, err := s.importFile(ctx, path, opts, progress)
	return res, err
}

// importFile is ImportDataset that also returns the frame it read, for use
// cases that go on to use the data (training on a file imports it first).
func (s *Studio) importFile(ctx context.Context, path string, opts ImportOptions, progress func(Progress)) (ImportResult, *data.Frame, error) {
	name := opts.Name
	if name == "" {
		name = nameFromFile(path)
	}
	if err := checkName("dataset", name); err != nil {
		return ImportResult{}, nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	read := func(ctx context.Context, ro data.ReadOptions) (*data.Frame, error) {
		return data.ReadFile(ctx, path, ro)
	}
	return s.importFrame(ctx, "Import "+filepath.Base(path), name, "file", abs, path, opts, read, progress)
}

func (s *Studio) importSample(ctx context.Context, sample resources.Sample, progress func(Progress)) (ImportResult, error) {
	read := func(ctx context.Context, ro data.ReadOptions) (*data.Frame, error) {
		rc, err := sample.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return data.Read(ctx, rc, sample.File, ro)
	}
	res, _, err := s.importFrame(ctx, "Add sample "+sample.Name, sample.Name, "sample", sample.File, sample.File, ImportOptions{}, read, progress)
	return res, err
}

// Import stages and the share of the job each takes, for one progress bar.
const (
	shareRead    = 0.70
	shareProfile = 0.05
	shareEncode  = 0.15
	shareStore   = 0.10
)

func (s *Studio) importFrame(ctx context.Context, title, name, sourceKind, source, file string, opts ImportOptions,
	read func(context.Context, data.ReadOptions) (*data.Frame, error), progress func(Progress)) (ImportResult, *data.Frame, error) {
	var res ImportResult
	var frame *data.Frame
	jobID, err := s.runner.Run(ctx, "import", title, progress, func(ctx context.Context, report jobs.Reporter) (string, error) {
		report("reading", 0, "reading "+filepath.Base(file))
		var err error
		frame, err = read(ctx, data.ReadOptions{
			Format: opts.Format, Delimiter: opts.Delimiter,
			Progress: func(done, total int64) {
				if total > 0 {
					report("reading", shareRead*float64(done)/float64(total),
						fmt.Sprintf("read %s of %s", FormatBytes(done), FormatBytes(total)))
				} else {
					report("reading", -1, "read "+FormatBytes(done))
				}
			},
		})
		if err != nil {
			return "", err
		}
		rows := frame.Rows()
		report("profiling", shareRead, fmt.Sprintf("profiling %d columns of %d rows", len(frame.Columns), rows))
		hash := frame.Hash()
		profiles := profileColumns(frame)
		if err := ctx.Err(); err != nil {
			return "", err
		}

		// Identical content under the same name is not a new version.
		var latest *storage.Dataset
		err = s.ws.View(ctx, func(tx *storage.Tx) error {
			same, err := tx.DatasetsByHash(hash)
			if err != nil {
				return err
			}
			for _, d := range same {
				if d.Name == name {
					if cur, err := tx.Dataset(name, 0); err == nil && cur.ID == d.ID {
						latest = &d
						continue
					}
				}
				res.SameContent = append(res.SameContent, datasetFrom(d).Ref)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		if latest != nil {
			res.Dataset, res.Unchanged = datasetFrom(*latest), true
			return resultJSON(res.Dataset), nil
		}

		base := shareRead + shareProfile
		report("encoding", base, "compressing columns")
		chunks, storedBytes, err := encodeChunks(ctx, frame, func(done, total int) {
			report("encoding", base+shareEncode*float64(done)/float64(total), fmt.Sprintf("compressed %d of %d column chunks", done, total))
		})
		if err != nil {
			return "", err
		}

		base += shareEncode
		cols := make([]storage.Column, len(frame.Columns))
		for i, c := range frame.Columns {
			profile, err := json.Marshal(profiles[i])
			if err != nil {
				return "", fmt.Errorf("profile of column %q: %w", c.Name, err)
			}
			cols[i] = storage.Column{Position: i, Name: c.Name, Type: c.Kind.String(), Role: "feature", Hint: profiles[i].Hint, Profile: profile}
		}
		ds := storage.Dataset{
			Name: name, SourceKind: sourceKind, Source: source, Format: formatOf(opts.Format, file),
			Hash: hash, Rows: int64(rows), Cols: len(frame.Columns), StoredBytes: storedBytes,
		}
		err = s.ws.Update(ctx, func(tx *storage.Tx) error {
			v, err := tx.NextDatasetVersion(name)
			if err != nil {
				return err
			}
			ds.Version = v
			if err := tx.InsertDataset(&ds); err != nil {
				return err
			}
			if err := tx.InsertColumns(ds.ID, cols); err != nil {
				return err
			}
			for i, ch := range chunks {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := tx.InsertChunk(ds.ID, ch); err != nil {
					return err
				}
				report("storing", base+shareStore*float64(i+1)/float64(len(chunks)),
					fmt.Sprintf("stored %d of %d column chunks", i+1, len(chunks)))
			}
			return tx.Audit(storage.AuditEntry{
				Actor: actor(), Action: "import", ObjectType: "dataset",
				ObjectName: datasetFrom(ds).Ref,
				Detail:     detailJSON(map[string]any{"source": source, "rows": rows, "columns": len(cols), "sha256": hash}),
			})
		})
		if err != nil {
			return "", err
		}
		res.Dataset = datasetFrom(ds)
		return resultJSON(res.Dataset), nil
	})
	res.JobID = jobID
	if err != nil {
		return res, nil, fmt.Errorf("import %s: %w", filepath.Base(file), err)
	}
	return res, frame, nil
}

func resultJSON(d Dataset) string {
	return detailJSON(map[string]any{"dataset": d.Ref, "dataset_id": d.ID})
}

func detailJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// profileColumns profiles every column, in parallel: on wide data this is a
// noticeable part of an import.
func profileColumns(f *data.Frame) []data.Profile {
	out := make([]data.Profile, len(f.Columns))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, c := range f.Columns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = data.ProfileColumn(c)
		}()
	}
	wg.Wait()
	return out
}

// encodeChunks cuts every column into data.ChunkRows-row chunks and compresses
// them on all cores. The result is ordered by column, then chunk.
func encodeChunks(ctx context.Context, f *data.Frame, progress func(done, total int)) ([]storage.Chunk, int64, error) {
	rows := f.Rows()
	perCol := (rows + data.ChunkRows - 1) / data.ChunkRows
	chunks := make([]storage.Chunk, 0, perCol*len(f.Columns))
	for ci := range f.Columns {
		for k := 0; k < perCol; k++ {
			from := k * data.ChunkRows
			chunks = append(chunks, storage.Chunk{Column: ci, Index: k, RowStart: int64(from), Rows: min(data.ChunkRows, rows-from)})
		}
	}
	work := make(chan int)
	finished := make(chan struct{}, len(chunks))
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ch := &chunks[i]
				from := int(ch.RowStart)
				ch.Data = data.EncodeChunk(f.Columns[ch.Column], from, from+ch.Rows)
				finished <- struct{}{}
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range chunks {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for n := 1; n <= len(chunks); n++ {
		select {
		case <-finished:
			progress(n, len(chunks))
		case <-ctx.Done():
			wg.Wait()
			return nil, 0, ctx.Err()
		}
	}
	wg.Wait()
	var total int64
	for _, ch := range chunks {
		total += int64(len(ch.Data))
	}
	return chunks, total, nil
}

// Datasets lists every dataset version, by name then version.
func (s *Studio) Datasets(ctx context.Context) ([]Dataset, error) {
	var out []Dataset
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		list, err := tx.Datasets()
		for _, d := range list {
			out = append(out, datasetFrom(d))
		}
		return err
	})
	return out, err
}

// ParseRef splits "name" or "name@version" (version 0: the latest).
func ParseRef(ref string) (name string, version int, err error) {
	name, v, ok := strings.Cut(ref, "@")
	if !ok {
		return name, 0, checkName("dataset", name)
	}
	version, err = strconv.Atoi(v)
	if err != nil || version < 1 {
		return "", 0, usageErrorf("%q: the version after @ must be a positive whole number", ref)
	}
	return name, version, checkName("dataset", name)
}

func (s *Studio) lookup(tx *storage.Tx, ref string) (storage.Dataset, error) {
	name, version, err := ParseRef(ref)
	if err != nil {
		return storage.Dataset{}, err
	}
	d, err := tx.Dataset(name, version)
	if errors.Is(err, storage.ErrNotFound) {
		return d, fmt.Errorf("no dataset %q in this workspace (see the dataset list)", ref)
	}
	return d, err
}

// Dataset returns a dataset version's description, schema and profiles.
func (s *Studio) Dataset(ctx context.Context, ref string) (DatasetDetail, error) {
	var out DatasetDetail
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		d, err := s.lookup(tx, ref)
		if err != nil {
			return err
		}
		out.Dataset = datasetFrom(d)
		cols, err := tx.Columns(d.ID)
		if err != nil {
			return err
		}
		for _, c := range cols {
			info := ColumnInfo{Position: c.Position, Name: c.Name, Type: c.Type, Role: c.Role, Hint: c.Hint}
			if err := json.Unmarshal(c.Profile, &info.Profile); err != nil {
				return fmt.Errorf("dataset %s, column %q: stored profile is unreadable: %w", out.Ref, c.Name, err)
			}
			out.Schema = append(out.Schema, info)
		}
		return nil
	})
	return out, err
}

// Preview returns rows [from, to) of a dataset version (clamped to its size),
// decoding only the chunks that hold them.
func (s *Studio) Preview(ctx context.Context, ref string, from, to int) (*data.Frame, error) {
	if from < 0 || to < from {
		return nil, usageErrorf("rows %d..%d", from, to)
	}
	frame := &data.Frame{}
	err := s.ws.View(ctx, func(tx *storage.Tx) error {
		d, err := s.lookup(tx, ref)
		if err != nil {
			return err
		}
		to = min(to, int(d.Rows))
		from = min(from, to)
		cols, err := tx.Columns(d.ID)
		if err != nil {
			return err
		}
		for _, c := range cols {
			kind, err := data.ParseKind(c.Type)
			if err != nil {
				return err
			}
			col := &data.Column{Name: c.Name, Kind: kind}
			chunks, err := tx.Chunks(d.ID, c.Position, int64(from), int64(to))
			if err != nil {
				return err
			}
			start := from
			if len(chunks) > 0 {
				start = int(chunks[0].RowStart)
			}
			for _, ch := range chunks {
				frag, err := data.DecodeChunk(ch.Data)
				if err != nil {
					return fmt.Errorf("dataset %s, column %q, chunk %d: %w", datasetFrom(d).Ref, c.Name, ch.Index, err)
				}
				frag.Name, frag.Kind = c.Name, kind
				if err := col.Append(frag); err != nil {
					return fmt.Errorf("dataset %s, column %q, chunk %d: %w", datasetFrom(d).Ref, c.Name, ch.Index, err)
				}
			}
			if col.Len() < to-start {
				return fmt.Errorf("dataset %s, column %q: stored chunks hold %d rows from row %d, want %d", datasetFrom(d).Ref, c.Name, col.Len(), start, to-start)
			}
			frame.Columns = append(frame.Columns, col.Slice(from-start, to-start))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return frame, nil
}

// Frame loads a whole dataset version into memory.
func (s *Studio) Frame(ctx context.Context, ref string) (*data.Frame, error) {
	return s.Preview(ctx, ref, 0, int(^uint(0)>>1))
}

// DeleteDataset removes "name@version", or every version of "name". It
// returns what it removed.
func (s *Studio) DeleteDataset(ctx context.Context, ref string) ([]Dataset, error) {
	name, version, err := ParseRef(ref)
	if err != nil {
		return nil, err
	}
	var removed []Dataset
	err = s.ws.Update(ctx, func(tx *storage.Tx) error {
		var targets []storage.Dataset
		if version > 0 {
			d, err := s.lookup(tx, ref)
			if err != nil {
				return err
			}
			targets = append(targets, d)
		} else {
			all, err := tx.Datasets()
			if err != nil {
				return err
			}
			for _, d := range all {
				if d.Name == name {
					targets = append(targets, d)
				}
			}
			if len(targets) == 0 {
				return fmt.Errorf("no dataset %q in this workspace (see the dataset list)", ref)
			}
		}
		for _, d := range targets {
			if err := tx.DeleteDataset(d.ID); err != nil {
				return err
			}
			r := datasetFrom(d)
			if err := tx.Audit(storage.AuditEntry{Actor: actor(), Action: "delete", ObjectType: "dataset", ObjectName: r.Ref,
				Detail: detailJSON(map[string]any{"rows": d.Rows, "sha256": d.Hash})}); err != nil {
				return err
			}
			removed = append(removed, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete %s: %w", ref, err)
	}
	return removed, nil
}

// nameFromFile turns "data/flights.csv.gz" into "flights".
func nameFromFile(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, ".gz")
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

// checkName checks the name of a dataset or a model (kind): not blank, at
// most 100 bytes, none of @, / and \ (they separate versions and paths) and
// no control characters.
func checkName(kind, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return usageErrorf("a %s name must not be empty", kind)
	case len(name) > 100:
		return usageErrorf("%s name %.20q… is longer than 100 bytes", kind, name)
	case strings.ContainsAny(name, "@/\\"):
		return usageErrorf("%s name %q must not contain @, / or \\", kind, name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return usageErrorf("%s name %q contains a control character", kind, name)
	}
	return nil
}

func formatOf(f data.Format, file string) string {
	if f != "" {
		return string(f)
	}
	ext := strings.TrimPrefix(filepath.Ext(strings.TrimSuffix(strings.ToLower(file), ".gz")), ".")
	if strings.HasSuffix(strings.ToLower(file), ".gz") {
		return ext + "+gzip"
	}
	return ext
}

// FormatBytes writes a byte count for people: "12.3 MB".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
