# shellcheck shell=bash
# Helpers shared by the scripts of action.yml. Sourced, never run.
#
# The scripts are wiring: they read the action's inputs from M18_* variables
# (never from ${{ }} expressions), call the m18-* binaries and write step
# outputs. Decisions about numbers belong to the binaries.

# die prints a GitHub error annotation and exits 3 (bad input).
die() {
	echo "::error title=m18-gate::$*" >&2
	exit 3
}

# warn prints a GitHub warning annotation.
warn() {
	echo "::warning title=m18-gate::$*" >&2
}

# notice prints a GitHub notice annotation.
notice() {
	echo "::notice title=m18-gate::$*"
}

# set_output NAME VALUE writes a step output (or prints it outside Actions).
set_output() {
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
	else
		printf 'output %s=%s\n' "$1" "$2"
	fi
}

# summary appends Markdown to the job summary when there is one.
summary() {
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		printf '%s\n' "$*" >>"$GITHUB_STEP_SUMMARY"
	fi
}

# slug turns a scenario name or path into a file-name-safe word.
slug() {
	local s=${1%.toml}
	s=${s//\//_}
	printf '%s' "${s//[^A-Za-z0-9._-]/_}"
}

# is_bool checks a true/false input.
is_bool() {
	[ "$1" = true ] || [ "$1" = false ]
}
