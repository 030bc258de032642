package app

import (
	"encoding/json"
	"os"
	"os/user"
)

// actor names who did something, for the audit log: the OS user and host.
// Modelsmith is single-user; this is what an auditor can check against.
func actor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

func jsonUnmarshal(s string, v any) error {
	if s == "" {
		return nil
	}
	return json.Unmarshal([]byte(s), v)
}
