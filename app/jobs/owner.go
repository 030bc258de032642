package jobs

import (
	"os"
	"strconv"
)

// Owner identifies the process that runs a job, so that another process opening
// the same workspace can tell for certain whether that job's process is still
// alive. A pid alone is not enough: pids are reused. Where the platform can say
// when a process started (Linux), Start records it, and a live process with the
// same pid but another start is a different process.
type Owner struct {
	PID   int
	Start string // opaque; "" where the platform cannot tell
	Host  string
}

// Self is the identity of the current process.
func Self() Owner {
	host, _ := os.Hostname()
	pid := os.Getpid()
	return Owner{PID: pid, Start: processStart(pid), Host: host}
}

// Alive reports whether the owner process still runs. A job owned by another host
// (a workspace on a shared drive) cannot be checked from here and counts as alive,
// so that we never mark a live job as interrupted.
func (o Owner) Alive() bool {
	self := Self()
	if o.Host != self.Host {
		return true
	}
	if o.PID <= 0 {
		return false
	}
	if o.PID == self.PID {
		return o.Start == self.Start
	}
	if !processExists(o.PID) {
		return false
	}
	if o.Start == "" {
		return true
	}
	return processStart(o.PID) == o.Start
}

func (o Owner) String() string {
	return "pid " + strconv.Itoa(o.PID) + " on " + o.Host
}
