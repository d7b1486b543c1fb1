# Debian packages the tests use. Sourced by .ci/run; each package's tests skip
# with a message when it is missing, so a failed install is reported, not fatal.
debian_packages=(
	shellcheck             # the action's scripts
	chromium chromium-driver # dashboard browser test
	prometheus             # promtool check rules; a real Prometheus scraping m18-run
	numactl hwloc          # NUMA task 010, topology
	qemu-user              # arm64 builds run under emulation (task 011)
	iproute2               # network namespaces for sharded load
	redis-server postgresql-15 # competitor and server tests
	valgrind linux-perf    # cachegrind instruction counts, perf stat
	jq bc                  # scripts/bench_gate.sh (TestBenchGateScript)
)
if command -v apt-get >/dev/null; then
	missing=()
	for p in "${debian_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "== Debian packages: ${missing[*]}"
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/tmp/m18-apt.log 2>&1 ||
			{ echo "could not install some packages (see /tmp/m18-apt.log); their tests will skip"; tail -5 /tmp/m18-apt.log; }
	fi
fi
