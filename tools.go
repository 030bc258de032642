//go:build tools

// This file pins dependencies that packages of this module are about to use,
// so that `go mod tidy` keeps them while the code that imports them is written.
package main

import (
	_ "fyne.io/fyne/v2/app"
	_ "github.com/klauspost/compress/zstd"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/xuri/excelize/v2"
	_ "go4.org/unsafe/assume-no-moving-gc"
	_ "gorgonia.org/gorgonia"
	_ "gorgonia.org/tensor"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/gonum/optimize"
	_ "modernc.org/sqlite"
)
