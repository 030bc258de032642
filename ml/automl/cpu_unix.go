//go:build unix

package automl

import "syscall"

// processCPUSeconds is the user plus system CPU time this process has used.
// A trial's CPU-seconds are the difference over its fits: other work in the
// process at the same time is counted too.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
