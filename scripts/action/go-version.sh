#!/usr/bin/env bash
# go-version.sh: sets the output need-setup=true when the runner has no Go or
# one older than the action's go.mod asks for, so actions/setup-go runs only
# then.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

want=$(sed -n 's/^go \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' "$M18_ACTION_PATH/go.mod" | head -n 1)
want=${want:-1.26}
need=true
if command -v go >/dev/null 2>&1; then
	have=$(go env GOVERSION 2>/dev/null || true) # go1.26.8
	have=${have#go}
	hmaj=${have%%.*}
	rest=${have#*.}
	hmin=${rest%%[!0-9]*}
	wmaj=${want%%.*}
	wmin=${want#*.}
	case "$hmaj$hmin" in
	'' | *[!0-9]*) ;;
	*)
		if [ "$hmaj" -gt "$wmaj" ] || { [ "$hmaj" -eq "$wmaj" ] && [ "$hmin" -ge "$wmin" ]; }; then
			need=false
		fi
		;;
	esac
	echo "m18-gate: runner Go ${have:-unknown}, action needs $want or newer: setup needed=$need"
else
	echo "m18-gate: no Go on this runner; setting up Go $want"
fi
set_output need-setup "$need"
