//go:build race

package gbdt

// raceEnabled trims the slow tests: the race detector makes them 10x slower.
const raceEnabled = true
