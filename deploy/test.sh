#!/usr/bin/env bash
# THE test command: `deploy/test.sh [extra cargo test args]`.
#
# A fresh machine needs only Rust and Python 3 (with pip): this script installs the
# tools the tests use into <repo>/.tools, runs every test of the workspace against real
# servers, and then checks that no nats-server the tests started is still running.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
cd "$repo_root"

# --- Tools -----------------------------------------------------------------------------
# The pinned server every test uses, and the previous minor version, which tests use to
# check that Samla refuses a nats-server older than 2.15.
deploy/install-nats-server.sh 2.15.1 >/dev/null
deploy/install-nats-server.sh 2.14.6 >/dev/null

# The Python packages the example emitters in examples/python use (pinned, .tools/python).
deploy/install-python-deps.sh >/dev/null

# --- Browser for the dashboard tests ---------------------------------------------------
# Debian's chromium and chromium-driver (the dashboard test drives them over WebDriver).
deploy/install-chromium.sh >/dev/null

# --- Tests -----------------------------------------------------------------------------
tool_servers="$repo_root/.tools/nats-server-"

# The pids of processes whose command line contains the tool folder path, like
# `pgrep -f`, but read from /proc so a machine without procps cannot make the check pass
# silently.
tool_server_pids() {
    local cmdline_file pid cmdline
    for cmdline_file in /proc/[0-9]*/cmdline; do
        pid="${cmdline_file#/proc/}"
        pid="${pid%/cmdline}"
        [[ "$pid" == "$$" ]] && continue
        cmdline="$(tr '\0' ' ' 2>/dev/null <"$cmdline_file")" || continue
        if [[ "$cmdline" == *"$tool_servers"* ]]; then
            echo "$pid"
        fi
    done
}

# Servers already running (another checkout's test run, a developer's `samla up` from
# the tool folder) are not this run's leftovers.
servers_before="$(tool_server_pids)"

status=0
test_output="$(mktemp)"
trap 'rm -f "$test_output"' EXIT
# The Rust example emitter runs as a program in the examples test; `cargo test` builds
# examples only as test harnesses, so build the program first.
cargo build --quiet -p samla --examples
cargo test --workspace --all-targets "$@" 2>&1 | tee "$test_output" || status=$?

# --- No server left behind -------------------------------------------------------------
# Test servers die with their test process (kill on drop, and `setpriv --pdeathsig` for
# crashes). The kernel delivers that signal asynchronously, so allow a few seconds.
leftovers() {
    local pid
    for pid in $(tool_server_pids); do
        if ! grep -qx "$pid" <<<"$servers_before"; then
            echo "$pid"
        fi
    done
}
deadline=$((SECONDS + 5))
left="$(leftovers)"
while [[ -n "$left" && $SECONDS -lt $deadline ]]; do
    sleep 0.2
    left="$(leftovers)"
done
if [[ -n "$left" ]]; then
    echo >&2
    echo "deploy/test.sh: FAILED: nats-server processes started by this test run are still running:" >&2
    for pid in $left; do
        ps -o pid=,args= -p "$pid" >&2 || true
    done
    echo "A test leaked a server: samla-testkit's watchdog or a Drop did not kill it." >&2
    echo "Kill them with: kill $(echo $left)" >&2
    exit 1
fi

# One closing line over every test binary (cargo prints one per binary, and the last one
# is often a binary without tests).
passed=0
failed=0
while read -r p f; do
    passed=$((passed + p))
    failed=$((failed + f))
done < <(sed -n 's/^test result: [A-Za-z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$test_output")
echo "tests: $passed passed, $failed failed"
exit "$status"
