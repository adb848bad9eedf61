#!/usr/bin/env bash
# Build the Linux bundle and its tarball from this checkout:
#   dist/TimbreStudio/                                 the one-folder bundle
#   dist/TimbreStudio-<version>-linux-x86_64.tar.gz    that folder, plus the desktop entry
#   dist/TimbreStudio-<version>-linux-x86_64.tar.gz.sha256
#
#   installer/linux/build.sh              VENV=.venv, TIMBRE_FLAVOUR=cpu
#   VENV=/path/to/venv installer/linux/build.sh
#   installer/linux/build.sh --no-tarball  (the bundle only; the smoke test needs no more)
#
# It checks the environment first (Linux x86_64, Python 3.11 venv, no `typing` backport,
# PortAudio present), installs the build extra (PyInstaller) into the venv when it is
# missing, and after the build checks that the bundled backend/desktop code is this
# checkout's. installer/README.md says what the bundle holds.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tarball=1
[ "${1:-}" = "--no-tarball" ] && tarball=0
venv=${VENV:-.venv}
py="$venv/bin/python"
export TIMBRE_FLAVOUR=${TIMBRE_FLAVOUR:-cpu}
export PYTHONUTF8=1

fail() { echo "build.sh: $*" >&2; exit 1; }

[ "$(uname -s)" = Linux ] || fail "this script builds the Linux bundle; on Windows use installer/windows/build.ps1"
[ "$(uname -m)" = x86_64 ] || fail "only x86_64 is supported (this machine is $(uname -m))"
[ -x "$py" ] || fail "no Python at $py: run scripts/install.sh first, or set VENV to the virtualenv"
"$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || fail "$py is Python $("$py" -c 'import platform; print(platform.python_version())'); the app needs 3.11"
# resemblyzer (a test tool) installs the obsolete `typing` backport, which breaks PyInstaller
if "$py" -c 'import importlib.metadata as m; m.distribution("typing")' 2>/dev/null; then
  fail "the obsolete 'typing' backport is installed in $venv (resemblyzer pulls it in); it shadows the standard library's typing and breaks PyInstaller. Remove it: $py -m pip uninstall -y typing"
fi
"$py" -c 'import ctypes.util, sys; sys.exit(ctypes.util.find_library("portaudio") is None)' \
  || fail "PortAudio (libportaudio.so.2) is not installed, so the bundle could not play or record: sudo apt-get install libportaudio2 (scripts/install.sh does)"
if ! "$py" -c 'import PyInstaller, sys; sys.exit(PyInstaller.__version__ != "6.22.3")' 2>/dev/null; then
  echo "Installing the build extra (PyInstaller 6.22.3) into $venv"
  "$py" -m pip install -q -e ".[build]"
fi
version=$("$py" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

echo "Building Timbre Studio $version ($TIMBRE_FLAVOUR) from $root"
mkdir -p build/pyinstaller
start=$(date +%s)
if ! "$venv/bin/pyinstaller" --noconfirm --distpath dist --workpath build/pyinstaller \
    installer/timbre_studio.spec >build/pyinstaller/build.log 2>&1; then
  tail -n 40 build/pyinstaller/build.log >&2
  fail "PyInstaller failed; the whole log is build/pyinstaller/build.log"
fi
echo "PyInstaller: $(( $(date +%s) - start )) s (log: build/pyinstaller/build.log)"

# the code inside must be this checkout's, not an editable install of another one
"$py" installer/linux/check_bundle.py build/pyinstaller/timbre_studio "$root" \
  || fail "the bundle holds code from outside $root (see above)"

bundle=dist/TimbreStudio
cp installer/linux/timbre-studio.desktop installer/linux/install-desktop-entry.sh "$bundle/"
chmod +x "$bundle/install-desktop-entry.sh"
echo "Bundle: $bundle ($(du -sh "$bundle" | cut -f1))"
[ "$tarball" = 1 ] || exit 0

name="TimbreStudio-$version-linux-x86_64.tar.gz"
start=$(date +%s)
tar -C dist -cf - TimbreStudio | gzip -6 >"dist/$name.tmp"
mv -f "dist/$name.tmp" "dist/$name"
(cd dist && sha256sum "$name" >"$name.sha256")
echo "Tarball: dist/$name ($(du -h "dist/$name" | cut -f1), $(( $(date +%s) - start )) s), checksum dist/$name.sha256"
