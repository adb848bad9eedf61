"""Records real transcription sessions for the transcribe panel's replay tests.

Run from the repo root: ``.venv/bin/python tests/desktop/record_transcribe_sessions.py [NAME...]``.
Uses ``Recorder`` from record_sessions.py (the real ``python -m backend serve``). Each scenario
has a temporary folder, written as ``$PROJECT`` in the session, holding ``My voice ü``: a
project of espeak-ng speech prepared through the real CLI (3 takes), copied from one prepared
base, and ``user data ü`` (``TIMBRE_DATA_DIR``, empty: no model assets). The requests are sent
as the panel sends them (each ``await`` keeps its ``args``): ``transcribe.engines`` when the
panel is shown, again before each start (the preflight), then ``job.start`` ``transcribe``
with pocketsphinx (its built-in model, English), the panel's default on a backend without
Whisper models.

- ``transcribe_real_run``: the run up to ``job.finished`` ok (progress with the clip as detail,
  ``labels.changed`` after each save); then a second start, which skips every clip (done by the
  same model already).
- ``transcribe_real_cancel``: ``job.cancel`` once the first clip is done; the job finishes
  ``cancelled`` and keeps what it saved.
- ``transcribe_real_whisper``: faster-whisper with a model folder (``models ü/whisper tiny 声``:
  the tiny random-weight Whisper of tests/transcribe/tiny_whisper.py, so its words are
  nonsense), the language detected, up to ``job.finished`` ok.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import OUT, Recorder  # noqa: E402

PROJECT = "My voice ü"
DATA_DIR = "user data ü"
WHISPER_FOLDER = Path("models ü") / "whisper tiny 声"


def job_args(folder: Path) -> dict:
    """What the panel sends for pocketsphinx (automatic device, no cut, no redo)."""
    return {"project": str(folder / PROJECT), "engine": "pocketsphinx", "model": "en-us",
            "language": "en"}


def whisper_args(folder: Path) -> dict:
    """faster-whisper with a model folder, the language detected."""
    return {"project": str(folder / PROJECT), "engine": "faster-whisper",
            "model": str(folder / WHISPER_FOLDER)}


def _prepared_base(folder: Path) -> Path:
    from tests.project.helpers import run_cli, speech

    takes = [speech(folder / "takes ä", f"take {i}.wav", i, pitch=40 + 10 * i) for i in range(3)]
    project = folder / PROJECT
    code, summary, err = run_cli("prepare", *map(str, takes), "--project", str(project))
    if code != 0:
        raise SystemExit(f"prepare failed ({code}): {err}")
    print("prepared", summary["result"]["slices"], "clips")
    return project


def _send(rec: Recorder, cmd: str, args: dict | None = None, wait_job: bool = False) -> dict:
    """``rec.send`` that also keeps the request's args in its ``await`` directive."""
    at = len(rec.session)
    reply = rec.send(cmd, args, wait_job=wait_job)
    rec.session[at]["args"] = args or {}
    return reply


def _engines(rec: Recorder) -> None:
    reply = _send(rec, "transcribe.engines")
    if "result" not in reply:
        raise SystemExit(f"transcribe.engines failed: {reply}")


def _start(rec: Recorder, folder: Path, wait_job: bool = True, args: dict | None = None,
           ) -> dict:
    reply = _send(rec, "job.start", {"kind": "transcribe", "args": args or job_args(folder)},
                  wait_job=wait_job)
    if "result" not in reply:
        raise SystemExit(f"job.start failed: {reply}")
    return reply


def _finished(rec: Recorder) -> dict:
    return [m for m in rec.session if m.get("event") == "job.finished"][-1]["data"]


def _note(rec: Recorder, scenario: str) -> None:
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           f"tests/desktop/record_transcribe_sessions.py {scenario}"})


def transcribe_real_run(folder: Path) -> Path:
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "transcribe_real_run")
    _engines(rec)  # the panel is shown
    _engines(rec)  # the preflight
    _start(rec, folder)
    if _finished(rec)["status"] != "ok":
        raise SystemExit(f"transcription failed: {_finished(rec)}")
    _engines(rec)  # the second start's preflight
    _start(rec, folder)
    result = _finished(rec).get("result") or {}
    if result.get("transcribed") != 0 or not result.get("skipped"):
        raise SystemExit(f"the second run transcribed again: {result}")
    rec.close()
    return rec.write("transcribe_real_run")


def transcribe_real_cancel(folder: Path) -> Path:
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "transcribe_real_cancel")
    _engines(rec)
    _engines(rec)
    job_id = _start(rec, folder, wait_job=False)["result"]["job_id"]
    rec.take(lambda m: m.get("event") == "job.progress" and m["data"]["done"] > 0)
    _send(rec, "job.cancel", {"job_id": job_id})
    if not any(m.get("event") == "job.finished" for m in rec.session):
        rec.take(lambda m: m.get("event") == "job.finished")
    if _finished(rec)["status"] != "cancelled":
        raise SystemExit(f"the job was not cancelled mid-run: {_finished(rec)}")
    rec.close()
    return rec.write("transcribe_real_cancel")


def transcribe_real_whisper(folder: Path) -> Path:
    from tests.transcribe.tiny_whisper import build_tiny_whisper

    build_tiny_whisper(folder / WHISPER_FOLDER)
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "transcribe_real_whisper")
    _engines(rec)
    _engines(rec)
    _start(rec, folder, args=whisper_args(folder))
    if _finished(rec)["status"] != "ok":
        raise SystemExit(f"the Whisper transcription failed: {_finished(rec)}")
    rec.close()
    return rec.write("transcribe_real_whisper")


def main(names: list[str]) -> None:
    scenarios = {"transcribe_real_run": transcribe_real_run,
                 "transcribe_real_cancel": transcribe_real_cancel,
                 "transcribe_real_whisper": transcribe_real_whisper}
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="timbre-rec-base-") as base_tmp:
        base = _prepared_base(Path(base_tmp))
        for name in names or list(scenarios):
            with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
                shutil.copytree(base, Path(tmp) / PROJECT)
                os.environ["TIMBRE_DATA_DIR"] = str(Path(tmp) / DATA_DIR)
                print("recorded", scenarios[name](Path(tmp)))


if __name__ == "__main__":
    main(sys.argv[1:])
