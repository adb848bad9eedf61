#!/usr/bin/env bash
# Install what the tests need (Debian packages included) and run the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
export QT_QPA_PLATFORM=offscreen PYTHONUTF8=1
exec .venv/bin/python -m pytest -p no:cacheprovider "$@"
