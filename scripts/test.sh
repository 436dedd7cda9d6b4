#!/usr/bin/env bash
# Sets up the test environment in .venv and runs the whole suite against real servers.
# The servers and the model are provisioned into ~/.cache/localscholar-tests (LOCALSCHOLAR_TEST_CACHE)
# once; later runs reuse them. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

install() {  # pip install, quiet unless it fails
    local log
    log=$(mktemp)
    if ! pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
        cat "$log"
        return 1
    fi
    grep -v '^WARNING: Location' "$log" || true
}

[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
install torch==2.13.0
install -r requirements-dev.txt
install --no-deps -r requirements-servers.txt
ruff check .
ruff format --check .
python -m tests.servers provision
python -m pytest "$@"
