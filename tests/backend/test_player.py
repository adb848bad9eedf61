"""Real PortAudio playback through the virtual PulseAudio speaker.

The playing side runs in a child process (tests/backend/player_probe.py)
started with the virtual server's environment, because PortAudio reads the
device list when sounddevice is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audio_env import virtual_audio  # noqa: F401  (fixture)

pytestmark = pytest.mark.audio


def _run_probe(args: list[str], env: dict, repo_root: Path) -> dict:
    proc = subprocess.run([sys.executable, "-m", "tests.backend.player_probe", *args],
                          cwd=repo_root, env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def probe(virtual_audio, tmp_path_factory, repo_root) -> dict:  # noqa: F811
    folder = tmp_path_factory.mktemp("player") / "my sounds – ü 声"
    folder.mkdir()
    return _run_probe([str(folder)], virtual_audio.env, repo_root)


def _positions(events: list) -> list[tuple[float, float]]:
    return [(ts, d["t"]) for ts, ev, d in events if ev == "audio.position" and d["playing"]]


def test_devices_listed(probe):
    assert probe["problems"] == []
    names = [d["name"] for d in probe["devices"]["outputs"]]
    assert names, "PortAudio saw no output device of the virtual server"
    assert probe["devices"]["default"] in [d["index"] for d in probe["devices"]["outputs"]]


def test_selection_plays_at_real_time_pace(probe):
    assert probe["play"]["playing"] is True
    assert probe["play"]["duration"] == pytest.approx(1.0, abs=0.01)
    assert probe["finished_in_time"], "audio.finished never arrived"
    # The 1 s selection cannot finish faster than real time; the virtual sink
    # may add a start-up delay of a second or two, so the upper bound is loose.
    assert 0.9 <= probe["elapsed"] <= 6.0
    moving = _positions(probe["events"])
    assert len(moving) >= 10
    times = [t for _, t in moving]
    assert times == sorted(times), "position went backwards"
    assert times[0] >= 0.5 and times[-1] <= 1.5
    # pace while the playhead moves: file seconds advanced per wall second
    advancing = [(ts, t) for ts, t in moving if t > times[0] + 1e-6]
    (ts0, t0), (ts1, t1) = advancing[0], advancing[-1]
    assert t1 - t0 > 0.6
    assert (t1 - t0) / (ts1 - ts0) == pytest.approx(1.0, abs=0.25)


def test_finished_event_reports_end(probe):
    finished = [d for _, ev, d in probe["events"] if ev == "audio.finished"]
    assert len(finished) == 1
    assert finished[0]["t"] == pytest.approx(1.5)
    assert finished[0]["stopped"] is False
    assert isinstance(finished[0]["xruns"], int)
    assert probe["events"][-1][1] == "audio.finished"


def test_tone_really_reached_the_speaker(probe):
    tone = probe["tone"]
    assert tone["peak_hz"] == pytest.approx(440.0, abs=5.0)
    assert tone["loud_s"] == pytest.approx(1.0, abs=0.2)


def test_stop_mid_play(probe):
    assert probe["stop"] == {"stopped": True}
    assert probe["stop_call_s"] < 2.5
    assert probe["stop_finished"]
    finished = [d for _, ev, d in probe["stop_events"] if ev == "audio.finished"]
    assert len(finished) == 1 and finished[0]["stopped"] is True
    assert finished[0]["t"] < 3.0
    after = [ev for ts, ev, d in probe["stop_events"] if ts > 0.1 and d.get("play_id") == 2
             and ev == "audio.position" and d["playing"]]
    assert after == [], "positions kept coming after stop"
    assert probe["stop_again"] == {"stopped": False}


def test_unknown_device_named_in_error(probe):
    assert "no such device" in probe["bad_device_error"]
    assert "available" in probe["bad_device_error"]


def test_no_output_device_is_a_clear_error(tmp_path, repo_root):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"")  # never read: the device check comes first
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    env = dict(os.environ, PULSE_SERVER="unix:/nonexistent/socket", XDG_RUNTIME_DIR=str(run_dir))
    out = _run_probe(["--no-device", str(wav)], env, repo_root)
    if out["outputs"]:
        pytest.skip(f"this machine has a real output device: {out['outputs'][0]['name']}")
    assert out["code"] == "unavailable"
    assert out["error"].startswith("no audio output device found")
