//go:build unix && !linux

package jobs

import (
	"errors"
	"syscall"
)

// processStart is not available portably outside Linux; Alive then relies on the
// pid alone.
func processStart(int) string { return "" }

func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
