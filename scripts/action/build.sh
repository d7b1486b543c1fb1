#!/usr/bin/env bash
# build.sh: builds every m18-* binary from the action's own source into
# $M18_WORK/bin, puts it on PATH for later steps, and sets the output bin.
set -euo pipefail
# shellcheck source=scripts/action/lib.sh
. "$(dirname "$0")/lib.sh"

bin="${M18_WORK:?}/bin"
mkdir -p "$bin"
cd "${M18_ACTION_PATH:?}"
start=$(date +%s)
ldflags=
case "${M18_ACTION_REF:-}" in
v[0-9]*) ldflags="-X github.com/engram/m18-gate/internal/version.stamped=$M18_ACTION_REF" ;; # a release tag
esac
# A plain build (no -trimpath, no CGO_ENABLED=0) shares the Go build cache
# with the runner's own `go build` and `go test`; the binaries only ever run
# on this runner. Static release binaries come from release.yml and the
# Dockerfile.
go build -ldflags "$ldflags" -o "$bin/" ./cmd/...
echo "m18-gate: built $(cd "$bin" && echo m18-*) in $(($(date +%s) - start)) s with $(go env GOVERSION)"
if [ -n "${GITHUB_PATH:-}" ]; then echo "$bin" >>"$GITHUB_PATH"; fi
set_output bin "$bin"
