#!/usr/bin/env bash
# Install Timbre Studio on Debian/Ubuntu: system packages, then a virtualenv in .venv.
#   scripts/install.sh          what the app needs
#   scripts/install.sh --test   plus what the test suite needs
set -euo pipefail
cd "$(dirname "$0")/.."
want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
apt_pkgs=(python3 python3-venv python3-dev build-essential libportaudio2 ffmpeg
          libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon-x11-0 libxcb-cursor0
          libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0
          libxcb-image0 libxcb-xinerama0)
if [ "$want_tests" = 1 ]; then
  apt_pkgs+=(espeak-ng festival festvox-us-slt-hts festvox-kallpc16k sox xvfb xauth
             pulseaudio pulseaudio-utils libasound2-plugins desktop-file-utils)
fi
missing=()
for p in "${apt_pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

py=${PYTHON:-}
if [ -z "$py" ]; then
  for c in python3.11 python3; do command -v "$c" >/dev/null && { py=$c; break; }; done
fi
[ -d .venv ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
if [ "$want_tests" = 1 ]; then
  .venv/bin/python -m pip install -q -e ".[test]"
else
  .venv/bin/python -m pip install -q -e .
fi
echo "Timbre Studio installed in $(pwd)/.venv"
