package data

import (
	"fmt"
	"io"
)

// This file is the only place that names the constructors of the JSON lines,
// ARFF, Parquet and XLSX readers (jsonl.go, arff.go, parquet.go, xlsx.go), so
// that read.go does not depend on how each of them is built.

// newFormatSource returns the source for a format other than CSV/TSV. Parquet
// reads through ra (size bytes); the others stream from r.
func newFormatSource(format Format, r io.Reader, ra io.ReaderAt, size int64, file string) (source, error) {
	switch format {
	case JSONL:
		return newJSONLSource(r, file)
	case ARFF:
		return newARFFSource(r, file)
	case XLSX:
		return newXLSXSource(r, file)
	case Parquet:
		return newParquetSource(ra, size, file)
	}
	return nil, fmt.Errorf("%w: %q", ErrFormat, format)
}
