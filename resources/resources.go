// Package resources embeds what Modelsmith ships inside its binary: the app icon
// and the sample datasets that seed a new workspace. It imports nothing of the
// project.
package resources

import (
	"embed"
	"io"
	"io/fs"
)

//go:embed icon.png
var icon []byte

// Icon is the application icon as PNG bytes.
func Icon() []byte { return icon }

//go:embed samples/*.csv samples/*.csv.gz
var samples embed.FS

// Sample is one dataset shipped with the app.
type Sample struct {
	Name        string // the dataset name in a new workspace
	File        string // file name inside the embedded folder; its extension tells the format
	Description string
}

// Samples lists the sample datasets in the order a new workspace receives them.
// See samples/README.md for their sources and licences.
func Samples() []Sample {
	return []Sample{
		{Name: "iris", File: "iris.csv", Description: "Fisher's iris flowers: 150 rows, predict species (3 classes)"},
		{Name: "adult", File: "adult.csv.gz", Description: "1994 US census extract: 48,842 rows, predict income >50K"},
		{Name: "california_housing", File: "california_housing.csv.gz", Description: "1990 California block groups: 20,640 rows, predict median house value"},
	}
}

// Open returns the sample's file content as stored (still gzip-compressed for .gz).
func (s Sample) Open() (io.ReadCloser, error) {
	f, err := samples.Open("samples/" + s.File)
	if err != nil {
		return nil, err
	}
	return f.(fs.File), nil
}
