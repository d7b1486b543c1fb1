//go:build !unix

package hw

func unameMachine() string { return "" }
func unameRelease() string { return "" }
