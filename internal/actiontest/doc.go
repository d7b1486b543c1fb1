// Package actiontest tests the GitHub Action of this repository as its users
// meet it: action.yml, the workflows under .github/, the scripts they call,
// and an end-to-end run of the action with nektos/act against the real
// binaries, a bare git repository as the history remote and a fake GitHub
// API on loopback.
//
// It holds no code the product uses. Its opinion: the action is wiring, so
// the tests check the wiring's promises — no ${{ }} expression reaches a
// shell, every input is documented with its default, pull_request_target is
// refused, fork-reachable jobs never run on self-hosted hardware — and that
// the whole path, from event to PR comment, gives the answer the gate gave.
//
// The consumer's files the end-to-end runs commit (scenarios, gate policy,
// workflows) and the stand-ins act uses for remote actions (testdata/stubs)
// sit under testdata; the tests read them with fixture.
package actiontest
