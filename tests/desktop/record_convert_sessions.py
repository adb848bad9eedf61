"""Records the Convert page's sessions from the real backend (replacing the hand-written ones).

Run from the repo root: ``.venv/bin/python tests/desktop/record_convert_sessions.py [NAME...]``.
It starts private PulseAudio virtual devices (tests/audio_env.py) so ``audio.play`` has a
speaker, and drives the real ``python -m backend serve`` through ``Recorder``
(record_sessions.py). Each scenario has a temporary folder, written as ``$PROJECT``:

- ``user data ü``: ``TIMBRE_DATA_DIR``, with a tiny random HuBERT (v2 features) in the
  place of the ``hubert-base`` asset and a tiny ``rmvpe.pt`` in that of ``rmvpe``
  (tests/features/tiny_models.py), so conversion uses the installed encoder as the page
  does (it sends no ``encoder``);
- ``rvc ü``: RVC's folders with random-weight tiny models in the real format
  (tests/convert/rvc_files.py: ``weights/<name>.pth`` and ``logs/<name>/added_…index``);
- ``takes ü``: espeak-ng speech (``take 1.wav``, ``take 2.wav``) and ``broken.wav`` (text);
- ``downloads ü``: a training checkpoint ``G_2000.pth`` and a hostile ``evil.pth``
  (tests/security/payloads.py: unpickling it would call ``os.system``).

The models the library holds before the page is shown are imported first and those
requests are left out of the session (the page never sent them). Requests are sent as the
page sends them; every ``await`` keeps its ``args`` so the replay tests check the page sent
the same. The scenarios are those of the hand-written sessions (tests/desktop/
test_convert_page.py, test_models_library_page.py read them by position, not by id):

- ``convert_models``: ``models.list`` (library: ``My voice ü`` and a v1 no-pitch model with a
  long name), imports of ``G_2000.pth`` (``not_a_voice_model``), ``evil.pth``
  (``unsafe_file``), a missing file (``not_found``) and ``rvc ü/weights/Alto ü.pth``;
  ``models.remove`` of the v1 model; ``models.list {project}`` with the project's export;
  ``models.remove`` of ``Alto ü`` (the hand-written session has it fail with ``io_error``,
  which a recording cannot make happen reliably: root may delete from a read-only folder).
- ``convert_batch``: a ``convert`` job of take 1, broken.wav and take 2 (key 12, harvest,
  index rate 0.5); both waveforms of the first result; ``audio.play`` of the result, A/B
  to the original at the last reported position; ``audio.stop``.
- ``convert_preview``: the preview job, both waveforms, the result played to its end.
- ``convert_failures``: the library model replaced by a content encoder (start refused or
  job failed with ``not_a_voice_model``), then by the hostile pickle (``unsafe_file``);
  hubert-base removed (``asset_missing``); everything put back and a batch cancelled after
  its first file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import OUT, ROOT, Recorder  # noqa: E402

SETTINGS = {"key": 0, "f0_method": "rmvpe", "index_rate": 0.75, "protect": 0.33,
            "rms_mix": 0.25, "filter_radius": 3, "output_rate": None}
OLD_NAME = "Old v1 model without pitch, from a forum post with a rather long name"
DATA_DIR = "user data ü"


# the folder ----------------------------------------------------------------------------------
def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "backend", *args], cwd=ROOT, check=True,
                   capture_output=True)


def _folder(folder: Path) -> None:
    from tests.features.tiny_models import save_tiny_fairseq_hubert, save_tiny_rmvpe
    from tests.project.helpers import speech
    from tests.security.payloads import Payload, save

    os.environ["TIMBRE_DATA_DIR"] = str(folder / DATA_DIR)
    os.environ.pop("TIMBRE_ASSET_CATALOGUE", None)
    enc = save_tiny_fairseq_hubert(folder / "encoders ü" / "hubert tiny.pt", layers=2,
                                   hidden=768)  # v2 features (768 wide)
    _install_encoder(folder)
    save_tiny_rmvpe(folder / DATA_DIR / "assets" / "rmvpe" / "rmvpe.pt")
    assert enc.is_file()
    _models(folder)
    takes = folder / "takes ü"
    speech(takes, "take 1.wav", 0)
    speech(takes, "take 2.wav", 1, pitch=60)
    (takes / "broken.wav").write_text("not audio", encoding="utf-8")
    downloads = folder / "downloads ü"
    save({"weight": {}, "config": Payload(folder / "pwned")}, downloads / "evil.pth", "zip")


def _install_encoder(folder: Path) -> None:
    """The tiny HuBERT where the hubert-base asset lives (an import would refuse it: it
    checks the real file's shapes), so conversion finds it as the installed encoder."""
    target = folder / DATA_DIR / "assets" / "hubert" / "hubert_base.pt"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "encoders ü" / "hubert tiny.pt", target)


def _models(folder: Path) -> None:
    """Tiny random-weight RVC files in RVC's layout and a training
    checkpoint (tests/convert/rvc_files.py, from branch i9-models)."""
    from tests.convert.rvc_files import (
        write_rvc_layout,
        write_rvc_model,
        write_training_checkpoint,
    )

    rvc = folder / "rvc ü"
    write_rvc_layout(rvc, "My voice ü", "v2", "40k", True)
    write_rvc_layout(rvc, "Alto ü", "v2", "48k", True, seed=1)
    write_rvc_model(rvc / "weights" / f"{OLD_NAME}.pth", "v1", "32k", False, fp16=False,
                    with_version=False, seed=2)
    write_training_checkpoint(folder / "downloads ü" / "G_2000.pth")


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
                           f"tests/desktop/record_convert_sessions.py {name}"})
    return rec


def _library(rec: Recorder, folder: Path, *names: str) -> dict[str, dict]:
    weights = folder / "rvc ü" / "weights"
    return {n: _unrecorded(rec, "models.import", {"path": str(weights / f"{n}.pth")})["model"]
            for n in names}


def _job(model: dict, **extra: Any) -> dict:
    return {"model": model["path"], "index": model["index"], **extra}


def _finish(rec: Recorder, args: dict) -> dict:
    """A ``convert`` job started and followed to its end (or its refusal)."""
    return _send(rec, "job.start", {"kind": "convert", "args": args}, wait_job=True)


def _export(rec: Recorder, project: Path) -> None:
    """A real project with a model in its ``export/`` folder (as the Train page exports)."""
    from tests.convert.rvc_files import write_rvc_model

    _unrecorded(rec, "project.create", {"path": str(project), "name": project.name})
    write_rvc_model(project / "export" / f"{project.name}.pth", "v2", "40k", True, seed=3)


# scenarios -------------------------------------------------------------------------------------
def convert_models(folder: Path) -> Path:
    rec = _start(folder, "convert_models")
    _library(rec, folder, "My voice ü", OLD_NAME)
    _send(rec, "models.list")
    downloads = folder / "downloads ü"
    for path in (downloads / "G_2000.pth", downloads / "evil.pth", downloads / "gone.pth",
                 folder / "rvc ü" / "weights" / "Alto ü.pth"):
        _send(rec, "models.import", {"path": str(path)})
    if (folder / "pwned").exists():
        raise SystemExit("the hostile pickle ran code: stop and fix the loader")
    listed = _unrecorded(rec, "models.list", {})["models"]
    old = next(m for m in listed if m["name"] == OLD_NAME)
    _send(rec, "models.remove", {"id": old["id"]})
    _export(rec, folder / "Voice ü")
    _send(rec, "models.list", {"project": str(folder / "Voice ü")})
    alto = next(m for m in listed if m["name"] == "Alto ü")
    _send(rec, "models.remove", {"id": alto["id"]})
    rec.close()
    return rec.write("convert_models")


def _play_ab(rec: Recorder, result: str, original: str) -> None:
    """audio.play of the result, A/B to the original where it got to, audio.stop."""
    _send(rec, "audio.play", {"path": result, "start": 0.0, "end": None})
    got = rec.take(lambda m: m.get("event") == "audio.position" and m["data"]["t"] >= 0.3)
    t = [m for m in got if m.get("event") == "audio.position"][-1]["data"]["t"]
    _send(rec, "audio.play", {"path": original, "start": t, "end": None})
    time.sleep(0.2)
    _send(rec, "audio.stop")


def convert_batch(folder: Path) -> Path:
    rec = _start(folder, "convert_batch")
    voice = _library(rec, folder, "My voice ü")["My voice ü"]
    _send(rec, "models.list")
    takes = folder / "takes ü"
    inputs = [str(takes / n) for n in ("take 1.wav", "broken.wav", "take 2.wav")]
    args = _job(voice, inputs=inputs, out=str(folder / "converted ü"),
                **{**SETTINGS, "key": 12, "f0_method": "harvest", "index_rate": 0.5})
    _finish(rec, args)
    first = next(m["data"] for m in rec.session if m.get("event") == "convert.file")
    cache = str(folder / "cache ü")
    for path in (first["input"], first["output"]):
        _send(rec, "audio.analyze", {"path": path, "cache_dir": cache})
    _play_ab(rec, first["output"], first["input"])
    rec.close()
    return rec.write("convert_batch")


def convert_preview(folder: Path) -> Path:
    rec = _start(folder, "convert_preview")
    _library(rec, folder, "My voice ü", "Alto ü")
    first = _send(rec, "models.list")["result"]["models"][0]  # the page selects the first
    _finish(rec, _job(first, preview=True, **SETTINGS))
    done = next(m["data"] for m in rec.session if m.get("event") == "convert.file")
    for path in (done["input"], done["output"]):
        _send(rec, "audio.analyze", {"path": path, "cache_dir": str(folder / "cache ü")})
    _send(rec, "audio.play", {"path": done["output"], "start": 0.0, "end": None})
    rec.take(lambda m: m.get("event") == "audio.finished")
    rec.close()
    return rec.write("convert_preview")


def convert_failures(folder: Path) -> Path:
    rec = _start(folder, "convert_failures")
    voice = _library(rec, folder, "My voice ü")["My voice ü"]
    _send(rec, "models.list")
    takes = folder / "takes ü"
    args = _job(voice, inputs=[str(takes / "take 1.wav"), str(takes / "take 2.wav")],
                out=str(folder / "converted ü"), **SETTINGS)
    model, kept = Path(voice["path"]), folder / "kept.pth"
    shutil.copyfile(model, kept)
    shutil.copyfile(folder / "encoders ü" / "hubert tiny.pt", model)
    _finish(rec, args)  # not_a_voice_model: a content encoder
    shutil.copyfile(folder / "downloads ü" / "evil.pth", model)
    _finish(rec, args)  # unsafe_file
    shutil.copyfile(kept, model)
    _cli("assets", "remove", "hubert-base")
    rec.session.append({"fake": "note", "text": "hubert-base removed outside the app here"})
    _finish(rec, args)  # asset_missing
    _install_encoder(folder)
    rec.session.append({"fake": "note", "text": "hubert-base put back outside the app"})
    reply = _send(rec, "job.start", {"kind": "convert", "args": args})
    job_id = reply["result"]["job_id"]
    rec.take(lambda m: m.get("event") == "convert.file")
    _send(rec, "job.cancel", {"job_id": job_id})
    if not any(m.get("event") == "job.finished" and m["data"]["job_id"] == job_id
               for m in rec.session):
        rec.take(lambda m: m.get("event") == "job.finished")
    rec.close()
    return rec.write("convert_failures")


def main(names: list[str]) -> None:
    from tests.audio_env import start_virtual_audio, stop_virtual_audio

    scenarios = {"convert_models": convert_models, "convert_batch": convert_batch,
                 "convert_preview": convert_preview, "convert_failures": convert_failures}
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
