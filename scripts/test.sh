#!/usr/bin/env bash
# Install what the tests need (Debian packages included) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
export QT_QPA_PLATFORM=offscreen PYTHONUTF8=1
# two pytest-xdist workers: much of the suite waits on backend processes it started, so
# two of them halve the time on CI's 2 cores. Each test file stays on one worker (its module
# fixtures are built once, its tests run in order); TIMBRE_TEST_WORKERS=0: one process
exec .venv/bin/python -m pytest -p no:cacheprovider -n "${TIMBRE_TEST_WORKERS:-2}" --dist loadfile "$@"
