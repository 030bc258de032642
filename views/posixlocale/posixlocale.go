// Package posixlocale stops Fyne from logging "Error parsing user locale C"
// under LANG=C.UTF-8 (the default of many containers and CI machines).
//
// Fyne reads the locale while its lang package initialises, before main runs,
// and cannot parse the POSIX names "C" and "POSIX" as a language. This
// package, imported blank by main before anything of Fyne, replaces those
// values with plain English in this process's environment during its own
// initialisation. It imports only the standard library so that it initialises
// before Fyne's packages; a test in package main checks that the binary stays
// quiet.
package posixlocale

import (
	"os"
	"strings"
)

func init() {
	for _, key := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		base, _, _ := strings.Cut(os.Getenv(key), ".")
		if base == "C" || base == "POSIX" {
			os.Setenv(key, "en_US.UTF-8")
		}
	}
}
