"""Child process of test_player.py: plays through the virtual speaker.

Run with the virtual PulseAudio env (sounddevice must be imported after the
server is up). Prints one JSON object with what happened; the test asserts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import soundfile as sf

from backend.commands import COMMANDS, CommandError, load_all

TONE_HZ = 440.0
RECORD_RATE = 48000


class FakeServer:
    """Only what command handlers use: ``state`` and ``emit``."""

    def __init__(self) -> None:
        self.state: dict = {}
        self.events: list[tuple[float, str, dict]] = []
        self.finished = threading.Event()

    def emit(self, event: str, data: dict) -> None:
        self.events.append((time.monotonic(), event, dict(data)))
        if event == "audio.finished":
            self.finished.set()


class Recorder:
    """Records the virtual speaker's monitor with parec, on a reader thread."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(["parec", "--device=vspk.monitor", "--format=float32le",
                                      f"--rate={RECORD_RATE}", "--channels=1",
                                      "--latency-msec=20"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(65536):
            self.chunks.append(chunk)

    def samples(self) -> np.ndarray:
        raw = b"".join(self.chunks)
        return np.frombuffer(raw[: len(raw) - len(raw) % 4], dtype="<f4")

    def wait_loud(self, seconds: float, timeout: float) -> None:
        """The null sink may render what it was given up to ~2 s late."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _tone_report(self.samples())["loud_s"] < seconds:
            time.sleep(0.1)

    def stop(self) -> np.ndarray:
        self.proc.terminate()
        self.proc.wait(timeout=5)
        self._thread.join(timeout=5)
        return self.samples()


def _tone_report(rec: np.ndarray) -> dict:
    if len(rec) < RECORD_RATE // 10:
        return {"recorded_s": len(rec) / RECORD_RATE, "peak_hz": None, "loud_s": 0.0}
    spec = np.abs(np.fft.rfft(rec * np.hanning(len(rec))))
    freqs = np.fft.rfftfreq(len(rec), 1.0 / RECORD_RATE)
    frame = RECORD_RATE // 100
    rms = np.sqrt(np.mean(rec[: len(rec) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    return {"recorded_s": len(rec) / RECORD_RATE, "peak_hz": float(freqs[np.argmax(spec)]),
            "loud_s": float(np.sum(rms > 0.05) * frame / RECORD_RATE)}


def _play(server: FakeServer, args: dict) -> dict:
    server.finished.clear()
    return COMMANDS["audio.play"](args, server)


def main(folder: str) -> None:
    problems = load_all()
    server = FakeServer()
    path = Path(folder) / "tone – ä 440.wav"
    sr = 22050
    t = np.arange(int(sr * 3.0)) / sr
    sf.write(str(path), (0.5 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32), sr)
    out: dict = {"problems": problems, "devices": COMMANDS["audio.devices"]({}, server)}

    rec = Recorder()
    time.sleep(0.3)
    t0 = time.monotonic()
    out["play"] = _play(server, {"path": str(path), "start": 0.5, "end": 1.5})
    out["finished_in_time"] = server.finished.wait(10.0)
    out["elapsed"] = time.monotonic() - t0
    rec.wait_loud(0.9, timeout=4.0)
    time.sleep(0.1)
    out["tone"] = _tone_report(rec.stop())
    out["events"] = [(ts - t0, ev, data) for ts, ev, data in server.events]

    server.events.clear()
    _play(server, {"path": str(path), "start": 0.0, "end": 3.0})
    time.sleep(0.5)
    t1 = time.monotonic()
    out["stop"] = COMMANDS["audio.stop"]({}, server)
    out["stop_call_s"] = time.monotonic() - t1
    out["stop_finished"] = server.finished.wait(2.0)
    time.sleep(0.3)
    out["stop_events"] = [(ts - t1, ev, data) for ts, ev, data in server.events]
    out["stop_again"] = COMMANDS["audio.stop"]({}, server)
    out["player_is_single"] = server.state["player"] is server.state.get("player")
    try:
        COMMANDS["audio.play"]({"path": str(path), "device": "no such device"}, server)
        out["bad_device_error"] = None
    except CommandError as exc:
        out["bad_device_error"] = exc.message
    print(json.dumps(out, default=lambda o: str(o)))


def no_device_main() -> None:
    load_all()
    server = SimpleNamespace(state={}, emit=lambda e, d: None)
    out = {"outputs": COMMANDS["audio.devices"]({}, server)["outputs"], "error": None}
    try:
        COMMANDS["audio.play"]({"path": sys.argv[2], "start": 0.0}, server)
    except CommandError as exc:
        out.update(error=exc.message, code=exc.code)
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1] == "--no-device":
        no_device_main()
    else:
        main(sys.argv[1])
