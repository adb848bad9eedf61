"""Records the Speak page's sessions from the real backend.

Run from the repo root: ``.venv/bin/python tests/desktop/record_speak_sessions.py [NAME...]``.
It starts private PulseAudio virtual devices (tests/audio_env.py) so ``audio.play`` has a
speaker, and drives the real ``python -m backend serve`` through ``Recorder``
(record_sessions.py). Each scenario has a temporary folder, written as ``$PROJECT``:

- ``user data ü``: ``TIMBRE_DATA_DIR``, with a tiny random HuBERT (v2 features) in the place
  of the ``hubert-base`` asset and a tiny ``rmvpe.pt`` in that of ``rmvpe``
  (tests/features/tiny_models.py), so the voice pass finds them as installed;
- ``tts ü``: random-weight tiny VITS models written by ``write_tts_model`` (the real
  inference format): ``Chorus ü.pth`` (two speakers, ``Anna ü`` and ``Bob``) and
  ``Solo ü.pth`` (one);
- ``rvc ü``: a random-weight tiny RVC voice model ``My voice ü`` in RVC's layout
  (tests/convert/rvc_files.py) and another, ``Alto ü``;
- ``downloads ü``: a hostile ``evil.pth`` (tests/security/payloads.py: unpickling it
  would call ``os.system``).

The models the library holds before the page is shown are imported first, and those
requests are left out of the session (the page never sent them). Requests are sent as the
page sends them and every ``await`` keeps its ``args``, so the replay tests
(tests/desktop/test_speak_page.py) check that the page sent the same:

- ``speak_run``: ``tts.models``, ``models.list``, ``text.preview`` of a three-sentence text,
  a ``speak`` job with ``Chorus ü`` as ``Bob``, faster (length scale 0.7071) and flatter
  (noise scale 0.5); the result played to its end; played again and stopped.
- ``speak_voice``: the same text with ``Solo ü`` in the voice of ``My voice ü``, 5
  semitones up (stages ``speaking`` then ``converting``), played to its end.
- ``speak_failures``: Import… of the hostile pickle (``unsafe_file``) and of a voice model
  (accepted as ``kind: "voice"``); the preview of a text with a character the front-end
  cannot read; ``Solo ü`` replaced by the hostile pickle (the job fails with the safe
  loader's message), then deleted (``not_found``, refused); hubert-base removed for a
  speech in another voice (``asset_missing``, refused); a long text cancelled while it is
  spoken.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import OUT, ROOT, Recorder  # noqa: E402

DATA_DIR = "user data ü"
TEXT = ("Hello there, this is Timbre Studio. It costs $5 at 3:30 today! "
        "Can you hear me?")
BAD_TEXT = "A snowman ☃ cannot be read."
LONG_TEXT = " ".join(f"This is sentence number {n} of a long text." for n in range(1, 41))
FAST = 0.7071  # the speed slider's position 10: 2 ** -0.5
CHORUS = ("Anna ü", "Bob")


# the folder ----------------------------------------------------------------------------------
def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, check=True,
                   capture_output=True)


def write_tiny_tts(path: Path, speakers: tuple[str, ...], seed: int) -> Path:
    """A random-weight tiny VITS model in our inference format (tests/tts/tts_files.py:
    English symbols, three frames a symbol: a few seconds for the text)."""
    from tests.tts.tts_files import tiny_tts_file

    return tiny_tts_file(path, speakers={name: n for n, name in enumerate(speakers)},
                         frames_per_token=3, seed=seed)


def _install_encoder(folder: Path) -> None:
    target = folder / DATA_DIR / "assets" / "hubert" / "hubert_base.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "encoders ü" / "hubert tiny.pt", target)


def _folder(folder: Path) -> None:
    from tests.convert.rvc_files import write_rvc_layout
    from tests.features.tiny_models import save_tiny_fairseq_hubert, save_tiny_rmvpe
    from tests.security.payloads import Payload, save

    os.environ["TIMBRE_DATA_DIR"] = str(folder / DATA_DIR)
    os.environ.pop("TIMBRE_ASSET_CATALOGUE", None)
    save_tiny_fairseq_hubert(folder / "encoders ü" / "hubert tiny.pt", layers=2, hidden=768)
    _install_encoder(folder)
    save_tiny_rmvpe(folder / DATA_DIR / "assets" / "rmvpe" / "rmvpe.pt")
    write_tiny_tts(folder / "tts ü" / "Chorus ü.pth", CHORUS, seed=0)
    write_tiny_tts(folder / "tts ü" / "Solo ü.pth", ("Solo ü",), seed=1)
    write_rvc_layout(folder / "rvc ü", "My voice ü", "v2", "40k", True)
    write_rvc_layout(folder / "rvc ü", "Alto ü", "v2", "48k", True, seed=1)
    save({"weight": {}, "config": Payload(folder / "pwned")},
         folder / "downloads ü" / "evil.pth", "zip")


def _send(rec: Recorder, cmd: str, args: dict | None = None, wait_job: bool = False) -> dict:
    """``rec.send`` that keeps the request's args in its ``await`` directive."""
    at = len(rec.session)
    reply = rec.send(cmd, args, wait_job=wait_job)
    rec.session[at]["args"] = args or {}
    return reply


def _unrecorded(rec: Recorder, cmd: str, args: dict) -> dict:
    """A request the page never sends (setting the scene): left out of the session."""
    at = len(rec.session)
    reply = rec.send(cmd, args)
    del rec.session[at:]
    if "result" not in reply:
        raise SystemExit(f"{cmd} {args} failed: {reply}")
    return reply["result"]


def _start(folder: Path, name: str) -> Recorder:
    rec = Recorder(folder, wait_ready=True)
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           f"tests/desktop/record_speak_sessions.py {name}"})
    return rec


def _library(rec: Recorder, folder: Path) -> dict[str, dict]:
    """The TTS models and the voice model imported (unrecorded); their entries by name."""
    paths = [folder / "tts ü" / "Chorus ü.pth", folder / "tts ü" / "Solo ü.pth",
             folder / "rvc ü" / "weights" / "My voice ü.pth"]
    for path in paths:
        _unrecorded(rec, "models.import", {"path": str(path)})
    tts = _send(rec, "tts.models", {})["result"]["models"]
    voices = _send(rec, "models.list", {})["result"]["models"]
    return {m["name"]: m for m in [*tts, *voices]}


def _speak(rec: Recorder, args: dict) -> dict:
    """A ``speak`` job started and followed to its end (or its refusal)."""
    return _send(rec, "job.start", {"kind": "speak", "args": args}, wait_job=True)


def _result(rec: Recorder) -> dict[str, Any]:
    return [m for m in rec.session if m.get("event") == "job.finished"][-1]["data"]["result"]


def _play_to_end(rec: Recorder, path: str) -> None:
    _send(rec, "audio.play", {"path": path, "start": 0.0, "end": None})
    rec.take(lambda m: m.get("event") == "audio.finished")


# scenarios -------------------------------------------------------------------------------------
def speak_run(folder: Path) -> Path:
    rec = _start(folder, "speak_run")
    models = _library(rec, folder)
    _send(rec, "text.preview", {"text": TEXT, "language": "en"})
    _speak(rec, {"model": models["Chorus ü"]["path"], "text": TEXT, "length_scale": FAST,
                 "noise_scale": 0.5, "speaker": "Bob"})
    out = _result(rec)["out"]
    _play_to_end(rec, out)
    _send(rec, "audio.play", {"path": out, "start": 0.0, "end": None})  # Play again
    rec.take(lambda m: m.get("event") == "audio.position")
    at = len(rec.session)
    _send(rec, "audio.stop")
    if not any(m.get("event") == "audio.finished" for m in rec.session[at:]):
        rec.take(lambda m: m.get("event") == "audio.finished")
    rec.close()
    return rec.write("speak_run")


def speak_voice(folder: Path) -> Path:
    rec = _start(folder, "speak_voice")
    models = _library(rec, folder)
    _send(rec, "text.preview", {"text": TEXT, "language": "en"})
    _speak(rec, {"model": models["Solo ü"]["path"], "text": TEXT, "length_scale": 1.0,
                 "noise_scale": 0.667, "voice": models["My voice ü"]["path"],
                 "voice_key": 5})
    _play_to_end(rec, _result(rec)["out"])
    rec.close()
    return rec.write("speak_voice")


def speak_failures(folder: Path) -> Path:
    rec = _start(folder, "speak_failures")
    models = _library(rec, folder)
    _send(rec, "models.import", {"path": str(folder / "downloads ü" / "evil.pth")})
    if (folder / "pwned").exists():
        raise SystemExit("the hostile pickle ran code: stop and fix the loader")
    _send(rec, "models.import", {"path": str(folder / "rvc ü" / "weights" / "Alto ü.pth")})
    _send(rec, "models.list", {})  # the page lists the voices again after that import
    _send(rec, "text.preview", {"text": BAD_TEXT, "language": "en"})
    solo = Path(models["Solo ü"]["path"])
    kept = folder / "kept.pth"
    shutil.copyfile(solo, kept)
    args = {"model": str(solo), "text": TEXT, "length_scale": 1.0, "noise_scale": 0.667}
    _send(rec, "text.preview", {"text": TEXT, "language": "en"})
    shutil.copyfile(folder / "downloads ü" / "evil.pth", solo)
    rec.session.append({"fake": "note", "text": "Solo ü replaced by evil.pth outside the app"})
    _speak(rec, args)  # unsafe_file
    solo.unlink()
    rec.session.append({"fake": "note", "text": "Solo ü deleted outside the app"})
    _speak(rec, args)  # not_found
    shutil.copyfile(kept, solo)
    _cli("assets", "remove", "hubert-base")
    rec.session.append({"fake": "note", "text": "Solo ü put back, hubert-base removed"})
    _speak(rec, {**args, "voice": models["My voice ü"]["path"], "voice_key": 0})
    _install_encoder(folder)
    rec.session.append({"fake": "note", "text": "hubert-base put back outside the app"})
    _send(rec, "text.preview", {"text": LONG_TEXT, "language": "en"})
    reply = _send(rec, "job.start", {"kind": "speak", "args": {**args, "text": LONG_TEXT}})
    job_id = reply["result"]["job_id"]
    rec.take(lambda m: m.get("event") == "job.progress" and m["data"].get("stage")
             == "speaking" and m["data"].get("done", 0) >= 1, timeout=120)
    _send(rec, "job.cancel", {"job_id": job_id})
    if not any(m.get("event") == "job.finished" and m["data"]["job_id"] == job_id
               for m in rec.session):
        rec.take(lambda m: m.get("event") == "job.finished")
    rec.close()
    return rec.write("speak_failures")


def main(names: list[str]) -> None:
    from tests.audio_env import start_virtual_audio, stop_virtual_audio

    scenarios = {"speak_run": speak_run, "speak_voice": speak_voice,
                 "speak_failures": speak_failures}
    OUT.mkdir(exist_ok=True)
    audio = start_virtual_audio()
    os.environ.update(audio.env)
    try:
        for name in names or list(scenarios):
            with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
                _folder(Path(tmp))
                print("recorded", scenarios[name](Path(tmp)))
    finally:
        stop_virtual_audio(audio)


if __name__ == "__main__":
    main(sys.argv[1:])
