"""Real PortAudio through the PulseAudio virtual devices: microphone -> engine -> speaker.

A combined sink plays the same bursts straight into the virtual speaker and into the
virtual microphone at once; the speaker's monitor is recorded, so each burst shows up
twice: directly, then after the engine's end-to-end delay. That delay must match the
latency the engine displays within one block.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from tests.audio_env import virtual_audio  # noqa: F401  (fixture)

pytestmark = pytest.mark.audio
RATE = 48000
BLOCK = 0.2


def _bursts(path, n=4, every=1.0, lead=0.3):
    x = np.zeros(int((lead + n * every) * RATE), np.float32)
    burst = 0.7 * np.sin(2 * np.pi * 1000 * np.arange(int(0.01 * RATE)) / RATE)
    for i in range(n):
        s = int((lead + i * every) * RATE)
        x[s:s + len(burst)] = burst
    sf.write(path, x, RATE, subtype="FLOAT")


def _onsets(y, level=0.3, gap=0.1):
    idx = np.flatnonzero(np.abs(y) > level)
    if len(idx) == 0:
        return []
    keep = idx[np.diff(idx, prepend=-RATE) > int(gap * RATE)]
    return [i / RATE for i in keep]


def _live(env, repo_root, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "backend", "live", "--converter", "identity", "--block",
         str(BLOCK), "--crossfade", "0.04", "--extra", "0.2", "--gate-db", "-120", "--json",
         *extra], cwd=repo_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)


class _Stderr(threading.Thread):
    """Collects a process's stderr; ``running`` is set at its "live running" line."""

    def __init__(self, proc: subprocess.Popen) -> None:
        super().__init__(daemon=True)
        self.proc, self.lines, self.running = proc, [], threading.Event()

    def run(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)
            if line.startswith("live running"):
                self.running.set()
        self.running.set()  # it ended: the assertions below say why


def _wait_running(proc: subprocess.Popen, timeout: float = 60) -> _Stderr:
    reader = _Stderr(proc)
    reader.start()
    assert reader.running.wait(timeout), "the live engine never said it was running"
    return reader


def test_end_to_end_delay_matches_display(virtual_audio, tmp_path, repo_root):  # noqa: F811
    va = virtual_audio
    va.pactl("load-module", "module-combine-sink", "sink_name=both", "slaves=vmicsink,vspk")
    stim = tmp_path / "bursts.wav"
    _bursts(stim)
    rec_path = tmp_path / "rec.raw"
    with open(rec_path, "wb") as fh:
        rec = subprocess.Popen(["parec", "--device=vspk.monitor", "--format=float32le",
                                f"--rate={RATE}", "--channels=1", "--latency-msec=10"],
                               env=va.env, stdout=fh)
        live = _live(va.env, repo_root, "--seconds", "8", "--input-device", "pulse",
                     "--input-host-api", "ALSA", "--output-device", "default",
                     "--output-host-api", "alsa")
        started = _wait_running(live)  # backend import and stream start (no fixed sleep)
        time.sleep(0.5)
        subprocess.run(["paplay", "--device=both", str(stim)], env=va.env, check=True,
                       timeout=20)
        out = live.stdout.read()
        live.wait(timeout=60)
        started.join(10)
        err = "".join(started.lines)
        rec.terminate()
        rec.wait(5)
    assert live.returncode == 0, err[-3000:]
    summary = json.loads(out.strip().splitlines()[-1])
    result = summary["result"]
    shown = result["latency_ms"]["total"] / 1000
    y = np.fromfile(rec_path, dtype="<f4")
    onsets = _onsets(y)
    assert len(onsets) >= 6, (onsets, err[-2000:])
    direct = onsets[0::2]
    converted = onsets[1::2]
    delays = [c - d for d, c in zip(direct, converted, strict=False)]
    print("measured", delays, "displayed", shown, result)
    assert all(abs(d - shown) < BLOCK for d in delays), (delays, shown, result)
    assert result["dropped_blocks"] == 0
    neg = result["negotiated"]
    assert (neg["input"]["device"], neg["output"]["device"]) == ("pulse", "default")
    assert neg["input"]["host_api"] == neg["output"]["host_api"] == "ALSA"
    assert neg["output"]["rate"] == 48000  # the identity converter's rate, accepted
    assert "live running" in err
