//go:build tools

// This file pins go4.org/unsafe/assume-no-moving-gc, which nothing imports
// directly: gorgonia's dependencies need it, and versions before
// v0.0.0-20231121144256-b99613f794b6 panic at start-up on Go 1.26's runtime.
// Importing it here keeps `go mod tidy` from lowering it.
package main

import (
	_ "go4.org/unsafe/assume-no-moving-gc"
)
