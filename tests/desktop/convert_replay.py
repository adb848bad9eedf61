"""Replaying convert sessions: the files a session names, made for real in the test's folder.

A session (hand-written from the protocol, or recorded by record_convert_sessions.py) names
recordings, converted files and ``audio.analyze`` caches under ``$PROJECT``. ``materialize``
writes them: every input of a ``convert`` job and every ``convert.file`` input and output
as a short WAV (a file named ``broken.wav`` as text, as the sessions use it), and at each
``audio.analyze`` answer's ``data`` path the real analysis (backend/audio/analysis.py) of the
file it was asked about. ``sent`` reads what the page sent from the fake's stderr.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path
from typing import Any

import numpy as np

from tests.desktop.conftest import SESSIONS

PREFIX = "fake backend received: "


def messages(name: str, folder: Path) -> list[dict[str, Any]]:
    escaped = json.dumps(str(folder), ensure_ascii=False)[1:-1]
    text = (SESSIONS / name).read_text(encoding="utf-8").replace("$PROJECT", escaped)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def awaited(msgs: list[dict[str, Any]], cmd: str) -> list[dict[str, Any]]:
    """The ``args`` the session expects with each ``cmd`` request, in order."""
    return [m.get("args", {}) for m in msgs if m.get("fake") == "await" and m["cmd"] == cmd]


def events(msgs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [m["data"] for m in msgs if m.get("event") == name]


def replies(msgs: list[dict[str, Any]], cmd: str) -> list[dict[str, Any]]:
    """The answer (``result`` or ``error`` message) to each ``cmd`` request, in order."""
    out = []
    for at, m in enumerate(msgs):
        if m.get("fake") == "await" and m["cmd"] == cmd:
            out.append(next(r for r in msgs[at + 1:] if r.get("type") in ("result", "error")
                            and r.get("id") == m["as"]))
    return out


def sent(sig, cmd: str) -> list[dict[str, Any]]:
    reqs = [json.loads(s[len(PREFIX):]) for s in sig.stderr if s.startswith(PREFIX)]
    return [r.get("args", {}) for r in reqs if r["cmd"] == cmd]


def write_wav(path: Path, seconds: float = 1.5, rate: int = 16000, freq: float = 220.0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path


def _audio_paths(msgs: list[dict[str, Any]]) -> set[str]:
    paths: set[str] = set()
    for m in msgs:
        args = (m.get("args") or {}).get("args") or {}
        if m.get("fake") == "await" and m["cmd"] == "job.start":
            paths.update(p for p in args.get("inputs") or [] if Path(p).suffix)
        if m.get("event") == "convert.file":
            paths.update(p for p in (m["data"].get("input"), m["data"].get("output")) if p)
    return paths


def materialize(name: str, folder: Path) -> list[dict[str, Any]]:
    """Write the files session ``name`` names under ``folder`` (never elsewhere: a recorded
    preview names the app's own phrase and a temporary folder); returns its messages."""
    msgs = messages(name, folder)
    for n, path in enumerate(sorted(_audio_paths(msgs))):
        p = Path(path)
        if not p.is_relative_to(folder):
            continue
        if p.name == "broken.wav":
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("not audio", encoding="utf-8")
        else:
            write_wav(p, freq=180.0 + 40 * n)
    _write_analyses(msgs, write_wav(folder / ".stand-in.wav"))
    return msgs


def _write_analyses(msgs: list[dict[str, Any]], stand_in: Path) -> None:
    """The analysis of each file asked about (of ``stand_in`` for one that is not here)."""
    from backend.audio.analysis import compute

    for at, m in enumerate(msgs):
        if m.get("fake") != "await" or m["cmd"] != "audio.analyze":
            continue
        reply = next(r for r in msgs[at + 1:] if r.get("type") in ("result", "error"))
        if reply.get("type") != "result":
            continue
        target = Path(reply["result"]["data"])
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            source = Path(m["args"]["path"])
            np.savez(fh, **compute(source if source.is_file() else stand_in))
