# shellcheck shell=bash
# Competitor servers for the competitive tests (runners/competitor/...,
# internal/e2e, internal/actiontest). Sourced by .ci/run: a failure is
# reported and the tests that need the server skip with a message.
#
# PostgreSQL comes from 10-debian.sh (postgresql-15); the tests start their
# own throwaway cluster. Weaviate's server is a Go module: built once with
# go install (about 2.5 minutes), kept in $(go env GOPATH)/bin and, so that
# a clean runner need not build it again, in the cache directory below.
weaviate_version=v1.35.2
weaviate_cache="${XDG_CACHE_HOME:-$HOME/.cache}/m18-gate/weaviate-server-$weaviate_version"
weaviate_bin="$(go env GOPATH)/bin/weaviate-server"
if ! command -v weaviate-server >/dev/null 2>&1 && [ ! -x "$weaviate_bin" ]; then
	if [ -x "$weaviate_cache" ]; then
		echo "== weaviate-server $weaviate_version from the cache ($weaviate_cache)"
		if ! { mkdir -p "$(dirname "$weaviate_bin")" && cp "$weaviate_cache" "$weaviate_bin"; }; then
			echo "could not copy the cached weaviate-server; the Weaviate tests will skip"
		fi
	else
		echo "== go install weaviate-server $weaviate_version (about 2.5 minutes)"
		if timeout 900 go install "github.com/weaviate/weaviate/cmd/weaviate-server@$weaviate_version" >/tmp/m18-weaviate-build.log 2>&1; then
			if mkdir -p "$(dirname "$weaviate_cache")"; then cp "$weaviate_bin" "$weaviate_cache" || true; fi
		else
			echo "could not build weaviate-server (see /tmp/m18-weaviate-build.log); the Weaviate tests will skip"
			tail -5 /tmp/m18-weaviate-build.log
		fi
	fi
fi
