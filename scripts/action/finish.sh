#!/usr/bin/env bash
# finish.sh: the last step. Fails the job on a regression (unless
# fail-on-regression is false) and always on bad input, after the report and
# the artifact are written.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

verdict=${M18_VERDICT_OUT:-}
case "${M18_GATE_EXIT:-0}" in
'' | 0)
	if [ "$verdict" = no-baseline ]; then
		notice "no baseline to compare with on this hardware fingerprint; the gate passes without a verdict"
	fi
	echo "m18-gate: ${verdict:-pass}"
	;;
1 | 2)
	if [ "${M18_FAIL_ON_REGRESSION:-true}" = true ]; then
		echo "::error title=m18-gate::performance regression (${verdict}); see the check run, the PR comment or the job summary"
		exit "$M18_GATE_EXIT"
	fi
	warn "performance regression (${verdict}); not failing because fail-on-regression is false"
	;;
*)
	echo "::error title=m18-gate::m18-gate could not decide (exit ${M18_GATE_EXIT}); its message above names the file and field"
	exit 3
	;;
esac
