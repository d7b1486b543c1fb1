//go:build unix

package hw

import "golang.org/x/sys/unix"

func uname() (machine, release string) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", ""
	}
	return unix.ByteSliceToString(u.Machine[:]), unix.ByteSliceToString(u.Release[:])
}

func unameMachine() string { m, _ := uname(); return m }
func unameRelease() string { _, r := uname(); return r }
