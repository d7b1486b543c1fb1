//go:build !race

package tasks

// resRace is true under the race detector; see t002_race_on_test.go.
const resRace = false
