package data

import (
	"fmt"
	"io"
)

// This file is the only place that names the constructors of the JSON lines,
// ARFF, Parquet and XLSX readers (jsonl.go, arff.go, parquet.go, xlsx.go), so
// that read.go stays independent of which of them exist.

// newTextFormatSource returns the source for a line-oriented text format other
// than CSV.
func newTextFormatSource(format Format, r io.Reader, file string) (source, error) {
	switch format {
	case JSONL:
		return newJSONLSource(r, file)
	case ARFF:
		return newARFFSource(r, file)
	}
	return nil, fmt.Errorf("%w: %q", ErrFormat, format)
}
