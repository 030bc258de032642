//go:build !unix

package automl

// processCPUSeconds is not measured on this platform; trials report 0.
func processCPUSeconds() float64 { return 0 }
