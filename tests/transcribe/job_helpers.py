"""Helpers for the transcribe job tests: festival speech, prepared projects, running the job."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from backend.jobs import importer
from backend.jobs import prepare as prepare_job
from backend.jobs import transcribe as transcribe_job
from backend.kernel import JobContext
from tests.conftest import festival_wav

# Harvard sentences: festival's slt voice says them clearly enough for pocketsphinx
SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
]


def sentence_files(folder: Path, count: int) -> list[Path]:
    """One wav per sentence (festival, 32 kHz)."""
    folder.mkdir(parents=True, exist_ok=True)
    return [festival_wav(folder / f"sentence {i + 1}.wav", SENTENCES[i]) for i in range(count)]


def long_recording(path: Path, files: list[Path], seconds: float,
                   pause: float = 0.7) -> list[tuple[float, float, str]]:
    """Write the sentences one after another with ``pause`` seconds between them, cut or
    padded to ``seconds``; returns where each sentence is: ``(start, end, text)``."""
    parts, spans, at, rate = [], [], 0.0, 16000
    for f in files:
        data, rate = sf.read(f, dtype="float32")
        spans.append((at, at + len(data) / rate, SENTENCES[int(f.stem.split()[-1]) - 1]))
        parts += [data, np.zeros(int(pause * rate), np.float32)]
        at += len(data) / rate + int(pause * rate) / rate
    audio = np.concatenate(parts)
    n = int(seconds * rate)
    sf.write(path, np.pad(audio, (0, max(0, n - len(audio))))[:n], rate)
    return [s for s in spans if s[0] < seconds]


def said_in(spans: list[tuple[float, float, str]], start: float, end: float) -> str:
    """The sentences that overlap ``start``..``end`` by more than half of themselves."""
    return " ".join(t for a, b, t in spans if min(b, end) - max(a, start) > (b - a) / 2)


def import_recordings(project: Path, inputs: list[Path]) -> dict:
    args = {"project": str(project), "inputs": [str(p) for p in inputs], "create": {}}
    return importer.run(importer.prepare(args), quiet_ctx(kind="import"))


def quiet_ctx(events: list[tuple[str, dict]] | None = None, kind: str = "t") -> JobContext:
    sink = events if events is not None else []
    return JobContext("t", kind, lambda e, d: sink.append((e, d)))


def prepare(project: Path, inputs: list[Path] | None = None) -> dict:
    args: dict[str, Any] = {"project": str(project)}
    if inputs is not None:
        args.update(inputs=[str(p) for p in inputs], create={})
    return prepare_job.run(prepare_job.prepare(args), quiet_ctx(kind="prepare"))


def transcribe(project: Path, events: list[tuple[str, dict]] | None = None,
               ctx: JobContext | None = None, **args: Any) -> dict:
    ctx = ctx or quiet_ctx(events, "transcribe")
    return transcribe_job.run(transcribe_job.prepare({"project": str(project), **args}), ctx)


def copy_project(src: Path, dst: Path) -> Path:
    """A copy of a prepared project (its sources stay where they are: sources.json points at
    them)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".timbre-lock*"))
    return dst


def labels(project: Path) -> dict:
    return json.loads((project / "labels.json").read_text("utf-8"))


def words_of(text: str) -> list[str]:
    return [w.strip(".,!?").lower() for w in text.split() if w.strip(".,!?")]


def word_hits(said: str, heard: str) -> float:
    """Share of the words said that were heard (in any order): a loose recognition check."""
    truth, got = words_of(said), words_of(heard)
    hits = 0
    for w in truth:
        if w in got:
            got.remove(w)
            hits += 1
    return hits / len(truth)
