"""What the Convert page converts and what came out (Qt-free).

``ConvertSession`` holds the queued inputs (files and folders, as the user dropped them;
the backend expands folders), the ``convert`` job's arguments, one ``FileResult`` per
``convert.file`` event (``{input, output|null, seconds, error|null}``; the job's result
``outputs`` fill in any the page missed), the selected result and the words for progress
and the summary. ``ABPlayback`` is the A/B switch between a result and its original at
the same position, played by the backend (``audio.play``/``audio.stop``, its
``audio.position`` events). ``save_copy`` writes "Save as" copies (temporary file, then
rename: a failed copy never leaves half a file under the chosen name).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.fsutil import atomic_writer
from desktop.components.convert_settings import ConvertSettings
from desktop.components.models_library import Model

# as backend/dataset/sources.py AUDIO_EXTENSIONS (a test checks they agree)
AUDIO_EXTENSIONS = frozenset({
    ".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aac", ".wma", ".opus", ".mp4", ".mkv",
    ".webm", ".aiff", ".aif",
})
AUDIO_FILTER = ("Audio (" + " ".join(f"*{e}" for e in sorted(AUDIO_EXTENSIONS)) + ");;All (*)")
ORIGINAL, RESULT = "original", "result"
END_MARGIN_S = 0.05  # an A/B switch this close to the end starts the other side again


def is_audio(path: str) -> bool:
    return Path(path).suffix.lower() in AUDIO_EXTENSIONS


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    secs = max(0.0, float(seconds))
    return f"{int(secs // 60)}:{secs % 60:04.1f}"


@dataclass(frozen=True)
class FileResult:
    input: str
    output: str | None
    seconds: float
    error: str | None
    preview: bool = False

    @classmethod
    def from_event(cls, data: dict[str, Any], preview: bool = False) -> FileResult:
        output, error = data.get("output"), data.get("error")
        seconds = data.get("seconds")
        return cls(input=str(data.get("input") or ""),
                   output=output if isinstance(output, str) and output else None,
                   seconds=float(seconds) if isinstance(seconds, int | float) else 0.0,
                   error=str(error) if error else None, preview=preview)

    @property
    def ok(self) -> bool:
        return self.output is not None and not self.error

    @property
    def name(self) -> str:
        return ("Preview: " if self.preview else "") + Path(self.input).name

    def status_text(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        return f"→ {Path(self.output).name}" if self.output else "no output"


class ConvertSession:
    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.results: list[FileResult] = []
        self.selected: int | None = None
        self.out_folder = ""

    # the queue ----------------------------------------------------------------------------
    def add(self, paths: list[str]) -> list[str]:
        """Queue files and folders; returns the problems in words (what was not queued)."""
        problems = []
        known = {os.path.normcase(os.path.abspath(p)) for p in self.inputs}
        for path in paths:
            key = os.path.normcase(os.path.abspath(path))
            if key in known:
                continue
            if os.path.isdir(path) or (os.path.isfile(path) and is_audio(path)):
                self.inputs.append(path)
                known.add(key)
            elif os.path.isfile(path):
                problems.append(f"{Path(path).name} is not an audio file (Convert takes "
                                + ", ".join(sorted(AUDIO_EXTENSIONS)) + ")")
            else:
                problems.append(f"{path} does not exist")
        return problems

    def remove(self, rows: list[int]) -> None:
        gone = set(rows)
        self.inputs = [p for i, p in enumerate(self.inputs) if i not in gone]

    def clear(self) -> None:
        self.inputs = []

    # the job -----------------------------------------------------------------------------
    def blocker(self, model: Model | None, settings: ConvertSettings) -> str:
        """Why Convert cannot start ("" when it can)."""
        if model is None:
            return "Choose a voice model first (import one if the list is empty)."
        if not self.inputs:
            return "Add the recordings to convert: drop files or folders here, or use Add files."
        if not self.out_folder:
            return "Choose the output folder."
        problems = settings.validate()
        return "Check the settings: " + "; ".join(problems) if problems else ""

    def job_args(self, model: Model, settings: ConvertSettings,
                 device: str | None = None) -> dict[str, Any]:
        """``device`` ("cpu", "cuda") only when chosen: otherwise the backend decides."""
        args = {"model": model.path, "index": model.index, "inputs": list(self.inputs),
                "out": self.out_folder, **settings.to_job_args()}
        return {**args, "device": device} if device else args

    @staticmethod
    def preview_args(model: Model, settings: ConvertSettings,
                     device: str | None = None) -> dict[str, Any]:
        """The built-in phrase, into a temporary folder the backend chooses."""
        args = {"model": model.path, "index": model.index, "preview": True,
                **settings.to_job_args()}
        return {**args, "device": device} if device else args

    def started(self) -> None:
        """A new batch: the results of the last one go."""
        self.results = [r for r in self.results if r.preview]
        self.selected = 0 if self.results else None

    def on_file(self, data: dict[str, Any], preview: bool = False) -> FileResult:
        """One ``convert.file`` event (a file converted again replaces its row)."""
        result = FileResult.from_event(data, preview)
        at = next((i for i, r in enumerate(self.results)
                   if r.input == result.input and r.preview == preview), -1)
        if at >= 0:
            self.results[at] = result
        else:
            self.results.append(result)
            at = len(self.results) - 1
        if self.selected is None or preview:
            self.selected = at
        return result

    def on_finished(self, result: dict[str, Any], preview: bool = False) -> None:
        """The job's result: any file whose event was not seen is added from ``outputs``."""
        seen = {(r.input, r.preview) for r in self.results}
        for out in result.get("outputs") or []:
            if isinstance(out, dict) and (str(out.get("input") or ""), preview) not in seen:
                self.on_file(out, preview)

    def current(self) -> FileResult | None:
        if self.selected is None or not 0 <= self.selected < len(self.results):
            return None
        return self.results[self.selected]


def progress_text(stage: str, done: float, total: float, eta: str = "") -> str:
    """"converting take 1.wav — 12.0 of 40.0 s of audio, 30 s left"."""
    text = stage or "starting"
    if total > 0:
        text += f" — {done:.1f} of {total:.1f} s of audio"
    return text + (f", {eta} left" if eta else "")


def summary_text(result: dict[str, Any]) -> str:
    outputs = [o for o in result.get("outputs") or [] if isinstance(o, dict)]
    converted = int(result.get("converted") or 0)
    failed = int(result.get("failed") or 0)
    text = f"Converted {converted} of {len(outputs) or converted + failed} file(s)"
    if result.get("out"):
        text += f" into {result['out']}"
    text += "."
    if failed:
        text += f" {failed} failed: see the list for why."
    return text


class ABPlayback:
    """Which side plays, from where; positions come from ``audio.position`` events.

    ``play(side, t)`` gives the ``audio.play`` args; until the answer names the new
    ``play_id`` (``started``) position events are of the playback it replaced and are
    ignored.
    """

    def __init__(self) -> None:
        self.result: FileResult | None = None
        self.side = RESULT
        self.play_id: Any = None
        self.waiting = False  # audio.play sent, its answer not here yet
        self.playing = False
        self.position = 0.0
        self.durations: dict[str, float] = {}

    def set_result(self, result: FileResult | None) -> None:
        if result != self.result:
            self.result, self.position, self.playing = result, 0.0, False

    def path(self, side: str) -> str | None:
        r = self.result
        if r is None:
            return None
        return r.input if side == ORIGINAL else r.output

    def play(self, side: str, t: float | None = None) -> dict[str, Any] | None:
        path = self.path(side)
        if path is None:
            return None
        start = self.position if t is None else t
        length = self.durations.get(path)
        if start < 0 or (length is not None and start >= length - END_MARGIN_S):
            start = 0.0
        self.side, self.waiting, self.position = side, True, start
        return {"path": path, "start": start, "end": None}

    def toggle(self) -> dict[str, Any] | None:
        """The other side, at the position this one has reached."""
        return self.play(ORIGINAL if self.side == RESULT else RESULT)

    def started(self, answer: dict[str, Any]) -> None:
        self.play_id, self.waiting, self.playing = answer.get("play_id"), False, True

    def failed(self) -> None:
        self.waiting, self.playing = False, False

    def on_position(self, data: dict[str, Any], finished: bool = False) -> bool:
        """An ``audio.position``/``audio.finished`` event; False when it is not ours."""
        if self.waiting or self.play_id is None or data.get("play_id") != self.play_id:
            return False
        t = data.get("t")
        if isinstance(t, int | float):
            self.position = float(t)
        if finished or not data.get("playing", True):
            self.playing = False
            if finished and not data.get("stopped"):
                self.position = 0.0  # played to the end: the next play starts over
        return True


def save_copy(src: str, dst: str) -> Path:
    """Copy ``src`` to ``dst`` through a temporary file in ``dst``'s folder; OSError (with
    the file named) when it cannot."""
    source, target = Path(src), Path(dst)
    if source.resolve() == target.resolve():
        raise OSError(f"{target} is the converted file itself; choose another name")
    with open(source, "rb") as src_fh, atomic_writer(target) as fh:
        shutil.copyfileobj(src_fh, fh)
    return target
