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

# scrub_names lists the variables build-command and target-command keep: what
# compilers and toolchains need, the target's address, and the names in
# M18_COMMAND_ENV (the command-env input). Nothing else: no GITHUB_TOKEN, no
# ACTIONS_* runtime tokens, no GITHUB_ENV/GITHUB_OUTPUT/GITHUB_PATH files
# through which a command could change later steps.
scrub_names() {
	printf '%s\n' PATH HOME USER LOGNAME SHELL LANG LANGUAGE LC_ALL LC_CTYPE TZ TERM TMPDIR \
		CI RUNNER_OS RUNNER_ARCH RUNNER_TEMP \
		GOPATH GOCACHE GOMODCACHE GOFLAGS GOPROXY GOSUMDB GOTOOLCHAIN GOROOT CGO_ENABLED \
		CARGO_HOME RUSTUP_HOME RUSTFLAGS CARGO_TARGET_DIR CC CXX CFLAGS LDFLAGS PKG_CONFIG_PATH \
		JAVA_HOME NODE_OPTIONS PYTHONPATH VIRTUAL_ENV \
		M18_ENDPOINT M18_ADDR M18_PORT
	local extra name
	read -r -a extra <<<"$(printf '%s' "${M18_COMMAND_ENV:-}" | tr ',\n' '  ')"
	for name in "${extra[@]}"; do
		case "$name" in
		'' | [0-9]* | *[!A-Za-z0-9_]*) die "input command-env names '$name'; want environment variable names separated by spaces or commas" ;;
		GITHUB_TOKEN | ACTIONS_* | GITHUB_ENV | GITHUB_OUTPUT | GITHUB_PATH | GITHUB_STEP_SUMMARY | GITHUB_STATE)
			die "input command-env names '$name'; it stays out of build-command and target-command, which run the pull request's code"
			;;
		esac
		printf '%s\n' "$name"
	done
}

# scrubbed CMD [ARGS...] runs CMD with only the variables of scrub_names
# (env -i): the pull request's build and target never see the token.
scrubbed() {
	local -a keep=()
	local name names
	names=$(scrub_names) || exit $?
	while IFS= read -r name; do
		if [ -n "${!name+x}" ]; then keep+=("$name=${!name}"); fi
	done <<<"$names"
	env -i "${keep[@]}" "$@"
}

# answers ADDR: something accepts TCP connections on host:port ADDR
# (127.0.0.1:7432, [::1]:7432).
answers() {
	local host=${1%:*}
	host=${host#[}
	host=${host%]}
	(: <"/dev/tcp/$host/${1##*:}") 2>/dev/null
}

# group_alive PGID: a process of the process group still runs. Zombies do
# not count: when a target started through a subshell is stopped, the
# subshell exits first and the target, exiting after it, waits as a zombie
# for whoever adopts it to reap it — seconds in some containers, never in
# others. Without ps, zombies count.
group_alive() {
	local procs
	if ! procs=$(ps -e -o pgid=,stat= 2>/dev/null); then
		kill -0 -- "-$1" 2>/dev/null
		return
	fi
	awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }' <<<"$procs"
}

# with_git_token CMD [ARGS...] runs CMD (git) with GITHUB_TOKEN as an HTTP
# header for $GITHUB_SERVER_URL only, and only over https, through git's
# GIT_CONFIG_* environment (never on a command line, never in .git/config).
with_git_token() {
	local server=${GITHUB_SERVER_URL:-https://github.com}
	if [ -z "${GITHUB_TOKEN:-}" ] || [ "${server#https://}" = "$server" ]; then
		"$@"
		return
	fi
	local auth
	auth=$(printf 'x-access-token:%s' "$GITHUB_TOKEN" | base64 | tr -d '\n')
	echo "::add-mask::$auth"
	GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.${server%/}/.extraheader" GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth" "$@"
}

# looks_plan prints the sequential plan of an ab gate in pairs, separated by
# commas ("10,15,20"), or nothing for a fixed design, from the looks input
# (M18_LOOKS: a plan, auto or off) and the repetitions (M18_REPETITIONS).
# auto first looks at the repetitions, then, while the verdict is not clear,
# at 1.5 and 2 times as many pairs (10: 10,15,20); with fewer than 8
# repetitions the looks' shares of alpha would be out of reach of the exact
# paired tests, so it measures the repetitions and decides once.
looks_plan() {
	local reps=${M18_REPETITIONS:-10} looks=${M18_LOOKS:-auto}
	case "$looks" in
	off) ;;
	auto) if [ "$reps" -ge 8 ]; then printf '%d,%d,%d' "$reps" $((reps * 3 / 2)) $((reps * 2)); fi ;;
	*[!0-9,\ ]* | '') die "input looks is '$looks'; want auto, off or increasing numbers of pairs such as 10,15,20" ;;
	*)
		# Checked here, before any pair is measured (m18-gate compare
		# would refuse the plan only at the first look).
		local plan=${looks// /} prev=1 n ends
		IFS=, read -r -a ends <<<"$plan"
		for n in "${ends[@]}"; do
			if [ -z "$n" ] || [ "$n" -le "$prev" ]; then
				die "input looks is '$looks'; want at least two increasing numbers of pairs, each 2 or more, such as 10,15,20"
			fi
			prev=$n
		done
		if [ "${#ends[@]}" -lt 2 ]; then die "input looks is '$looks'; one look is a fixed design: use off, or at least two such as 10,15,20"; fi
		printf '%s' "$plan"
		;;
	esac
}

# policy_flags fills the array policy_flags with the flags of the gate's
# policy: the base's config file (M18_POLICY, never the pull request's) and
# the alpha and threshold inputs.
policy_flags() {
	policy_flags=()
	if [ -n "${M18_POLICY:-}" ] && [ -f "$M18_POLICY" ]; then policy_flags+=(--config "$M18_POLICY"); fi
	if [ -n "${M18_ALPHA:-}" ]; then policy_flags+=(--alpha "$M18_ALPHA"); fi
	if [ -n "${M18_THRESHOLD:-}" ]; then policy_flags+=(--threshold "$M18_THRESHOLD"); fi
	if [ -n "${M18_COMPETITIVE_THRESHOLD:-}" ]; then policy_flags+=(--competitive-threshold "$M18_COMPETITIVE_THRESHOLD"); fi
	return 0
}

# confirm_setting prints the confirm input (M18_CONFIRM): auto, off or a
# number of pairs (2 or more) for the confirming re-run of an ab gate that
# regressed; anything else is refused before a pair is measured.
confirm_setting() {
	local c=${M18_CONFIRM:-auto}
	case "$c" in
	auto | off) printf '%s' "$c" ;;
	'' | *[!0-9]* | 0 | 1 | 0*) die "input confirm is '$c'; want auto, off or a number of pairs (2 or more) such as 8" ;;
	*) printf '%s' "$c" ;;
	esac
}
