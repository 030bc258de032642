//go:build race

package forest

// raceEnabled trims the score tests on large data: the race detector makes
// them about ten times slower, and the smaller tests exercise the same
// parallel code.
const raceEnabled = true
