// Package e2e holds end-to-end tests that run the whole measuring and
// judging chain in one process: the reference target with its knobs, the
// open-loop engine, result documents on disk, and the gate's verdict. It has
// no library code; its tests are the proof that a regression put into the
// target on purpose comes out of the gate, and that none comes out when none
// was put in.
package e2e
