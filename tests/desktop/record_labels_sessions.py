"""Records real Labels page sessions for tests/desktop/test_labels_page.py.

Run from the repo root: ``.venv/bin/python tests/desktop/record_labels_sessions.py [NAME...]``.
Uses ``Recorder`` (record_sessions.py: the real ``python -m backend serve``) with private
PulseAudio devices (tests/audio_env.py) so ``audio.play`` plays. Each scenario has a
temporary folder, written as ``$PROJECT`` in the session, holding ``My voice ü``: two
recordings of espeak-ng speech prepared by the real prepare job in clips of 1.5 s
(tests/labels/helpers.py), so the table has a few rows per recording.

The requests are the ones the page sends for what test_labels_page.py does (the rows, times
and texts are read from the ``labels.get`` reply, as the page reads them); each ``await``
keeps the request's ``args`` so the test can compare.

- ``labels_edit``: ``labels.get``; typing in the first row's text (two ``set``s with one
  ``coalesce`` key: the pause after "Hello", then Enter after "Hello world"); ``flag`` of
  the first row; ``split`` of the second row in its middle; ``merge`` of it with the piece;
  ``delete`` of it; ``labels.undo``; ``labels.redo``; ``replace`` "world" with "there" in
  every row; ``set`` of the third row's language ("EN" typed: ``en``) and speaker ("Ann");
  ``audio.play`` of the current row (its recording, from its start to its end) and
  ``audio.stop``.
- ``labels_preview``: the labels imported first (``python -m backend labels import`` of a
  ``.list``, not part of the session) so the rows have text; ``labels.get``;
  ``text.preview`` of the first row's text (digits, a symbol, "Dr." and a snowman the
  English front-end cannot read) and of the second row's.
- ``labels_files``: ``labels.get``; job ``labels`` export to ``export ü/My voice ü.list``;
  job ``labels`` import of a ``.list`` with one text changed and a line that matches no
  clip; ``labels.get`` (the page reads the labels again after the import).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import OUT, ROOT, Recorder  # noqa: E402

PROJECT = "My voice ü"
FIRST_TEXT = "Dr. Smith paid $5 at 3:30 ☃"
SECOND_TEXT = "the second clip & its 2 words"
TYPED = ("Hello", "Hello world")


def _send(rec: Recorder, cmd: str, args: dict | None = None, wait_job: bool = False) -> dict:
    """``rec.send`` that also keeps the request's args in its ``await`` directive."""
    at = len(rec.session)
    reply = rec.send(cmd, args, wait_job=wait_job)
    rec.session[at]["args"] = args or {}
    if reply.get("type") != "result":
        raise SystemExit(f"{cmd} failed: {reply}")
    return reply["result"]


def _note(rec: Recorder, scenario: str) -> None:
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           f"tests/desktop/record_labels_sessions.py {scenario}"})


def _project(folder: Path) -> Path:
    from tests.labels.helpers import prepared_project, voices

    return prepared_project(folder / PROJECT, voices(folder / "takes ä")).root


def _apply(rec: Recorder, root: Path, op: dict) -> dict:
    return _send(rec, "labels.apply", {"project": str(root), "op": op})


def labels_edit(folder: Path) -> Path:
    root = _project(folder)
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "labels_edit")
    rows = _send(rec, "labels.get", {"project": str(root)})["rows"]
    first, second = rows[0]["id"], rows[1]["id"]
    for text in TYPED:
        _apply(rec, root, {"kind": "set", "ids": [first], "fields": {"text": text},
                           "coalesce": "recorded-1"})
    _apply(rec, root, {"kind": "flag", "ids": [first], "flag": "user"})
    at = round((rows[1]["start"] + rows[1]["end"]) / 2, 3)
    _apply(rec, root, {"kind": "split", "id": second, "at": at, "text_at": None})
    _apply(rec, root, {"kind": "merge", "id": second})
    _apply(rec, root, {"kind": "delete", "ids": [second]})
    _send(rec, "labels.undo", {"project": str(root)})
    _send(rec, "labels.redo", {"project": str(root)})
    _apply(rec, root, {"kind": "replace", "find": "world", "replace": "there", "regex": False,
                       "case": False})
    third = rows[2]  # the current row once the second is deleted
    _apply(rec, root, {"kind": "set", "ids": [third["id"]], "fields": {"language": "en"}})
    _apply(rec, root, {"kind": "set", "ids": [third["id"]], "fields": {"speaker": "Ann"}})
    _send(rec, "audio.play", {"path": third["source_path"], "start": third["start"],
                              "end": third["end"]})
    rec.take(lambda m: m.get("event") == "audio.position")
    _send(rec, "audio.stop", {})
    rec.close()
    return rec.write("labels_edit")


def _import_texts(root: Path, folder: Path) -> None:
    """Give the first two clips text through the real CLI (not part of the session)."""
    from backend.commands import COMMANDS, load_all

    load_all()
    rows = COMMANDS["labels.get"]({"project": str(root)}, None)["rows"]
    clips = [r["clip_path"] for r in rows[:2]]
    listing = folder / "texts.list"
    listing.write_text(f"{clips[0]}|{PROJECT}|EN|{FIRST_TEXT}\n"
                       f"{clips[1]}|{PROJECT}|EN|{SECOND_TEXT}\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "backend", "labels", "import", "--project",
                    str(root), "--file", str(listing)], cwd=ROOT, check=True,
                   capture_output=True)


def labels_preview(folder: Path) -> Path:
    root = _project(folder)
    _import_texts(root, folder)
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "labels_preview")
    rows = _send(rec, "labels.get", {"project": str(root)})["rows"]
    for row in rows[:2]:
        _send(rec, "text.preview", {"text": row["text"], "language": row["language"]})
    rec.close()
    return rec.write("labels_preview")


def labels_files(folder: Path) -> Path:
    root = _project(folder)
    _import_texts(root, folder)
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "labels_files")
    _send(rec, "labels.get", {"project": str(root)})
    out = folder / "export ü" / f"{PROJECT}.list"
    out.parent.mkdir()
    _send(rec, "job.start", {"kind": "labels", "args": {
        "project": str(root), "action": "export", "format": "list", "out": str(out)}},
        wait_job=True)
    lines = out.read_text(encoding="utf-8").splitlines()
    path, speaker, lang, _text = lines[0].split("|", 3)
    lines[0] = f"{path}|{speaker}|{lang}|Doctor Smith paid five dollars"
    lines.append(f"{folder / 'elsewhere' / 'gone.wav'}|{speaker}|{lang}|not a clip of it")
    edited = folder / "edited ü.list"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _send(rec, "job.start", {"kind": "labels", "args": {
        "project": str(root), "action": "import", "format": "list", "file": str(edited)}},
        wait_job=True)
    _send(rec, "labels.get", {"project": str(root)})
    rec.close()
    return rec.write("labels_files")


def main(names: list[str]) -> None:
    from tests.audio_env import start_virtual_audio, stop_virtual_audio

    scenarios = {"labels_edit": labels_edit, "labels_preview": labels_preview,
                 "labels_files": labels_files}
    OUT.mkdir(exist_ok=True)
    audio = start_virtual_audio()
    os.environ.update(audio.env)
    try:
        for name in names or list(scenarios):
            with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
                print("recorded", scenarios[name](Path(tmp)))
    finally:
        stop_virtual_audio(audio)


if __name__ == "__main__":
    main(sys.argv[1:])
