"""Records the Live page's sessions from the real backend (``python -m backend serve``).

Run from the repo root: ``.venv/bin/python tests/desktop/record_live_sessions.py [NAME...]``
(needs the live job, the models commands and tests/convert/rvc_files.py). Uses
``Recorder`` from record_sessions.py. Each scenario has a temporary folder, written as
``$PROJECT`` in the session, holding:

- ``user data``: ``TIMBRE_DATA_DIR``; the models library gets ``Voice ü``, a tiny
  random-weight RVC v2 40 kHz model with its index (``write_rvc_model``/``write_index``),
  and a v1 48 kHz one with a long name and no index, both imported through the real
  ``models.import`` before the page's requests (those lines are not part of the session);
- ``encoders ü/hubert tiny.pt``: a tiny random HuBERT in the fairseq format;
- ``input ü.wav``: five minutes of a gliding tone, the ``input_file`` of the file-backed
  stream (the engine's exact code, as fast as it can go: long enough to still be running
  while the controls are sent).

The requests are the ones the Live page sends, in its order, with one difference: the
``live`` job gets ``input_file``/``output_file`` instead of device indices (the recording
machine's sound cards are not the point, and CI has none). For the same reason the answers
to ``live.devices`` are not recorded: they are spliced in from the committed session of
the same name (a Windows machine with MME and WASAPI, long device names), and a note says
so. ``live_device_lost.jsonl`` stays hand-written: a file cannot be unplugged.

- ``live_run``: ``models.list``, ``live.devices`` (shown), ``live.devices`` and
  ``job.start`` live (Start), ``job.control`` key 12, ``job.control`` block 0.5,
  ``job.cancel`` (Restart), ``live.devices`` and ``job.start`` with the new values,
  ``job.cancel`` (F5).
- ``live_refused``: ``models.list``, two ``live.devices`` (the first answer spliced: no
  PortAudio), ``live.devices`` and a ``job.start`` of a training checkpoint
  (``G_2000.pth``), refused with ``not_a_voice_model``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import OUT, Recorder  # noqa: E402

MODEL = "Voice ü"
ENCODER = Path("encoders ü") / "hubert tiny.pt"
INPUT = "input ü.wav"
DATA_DIR = "user data"
CONTROLS = {"key": 0, "index_rate": 0.75, "protect": 0.33, "gate_db": -50, "block": 0.25,
            "crossfade": 0.05, "monitor": True, "bypass": False}


def _folder(folder: Path) -> dict[str, Path]:
    import numpy as np
    import soundfile as sf

    from tests.convert.rvc_files import write_index, write_rvc_model, write_training_checkpoint
    from tests.features.tiny_models import save_tiny_fairseq_hubert

    made = folder / "made ü"
    model = write_rvc_model(made / f"{MODEL}.pth", "v2", "40k", True)
    write_index(made, MODEL, "v2")
    save_tiny_fairseq_hubert(folder / ENCODER, hidden=768, final_dim=256)
    rate, seconds = 16000, 300
    t = np.arange(rate * seconds) / rate
    tone = 0.3 * np.sin(2 * np.pi * (150 + 50 * np.sin(2 * np.pi * t / 4)) * t)
    sf.write(folder / INPUT, tone.astype(np.float32), rate, subtype="PCM_16")
    os.environ["TIMBRE_DATA_DIR"] = str(folder / DATA_DIR)
    older = write_rvc_model(made / "Zoë, an older v1 voice with a rather long name.pth", "v1",
                            "48k", True)
    return {"model": model, "older": older,
            "checkpoint": write_training_checkpoint(made / "G_2000.pth")}


def _send(rec: Recorder, cmd: str, args: dict | None = None) -> dict:
    """``rec.send`` that also keeps the request's args in its ``await`` directive."""
    at = len(rec.session)
    reply = rec.send(cmd, args)
    rec.session[at]["args"] = args or {}
    return reply


def _import(rec: Recorder, model: Path) -> None:
    at = len(rec.session)
    reply = rec.send("models.import", {"path": str(model)})
    if "result" not in reply:
        raise SystemExit(f"models.import failed: {reply}")
    del rec.session[at:]  # done before the app starts: not part of the session


def _live_args(folder: Path, model: str, index: str | None, **controls) -> dict:
    return {"model": model, "index": index, "f0_method": "pm",
            "encoder": str(folder / ENCODER), "input_file": str(folder / INPUT),
            "output_file": str(folder / "output ü.wav"), **{**CONTROLS, **controls}}


def _start(rec: Recorder, args: dict) -> str:
    reply = _send(rec, "job.start", {"kind": "live", "args": args})
    if "result" not in reply:
        raise SystemExit(f"the live job did not start: {reply}")
    job = reply["result"]["job_id"]
    rec.take(lambda m: m.get("event") == "live.state" and m["data"].get("state") == "running")
    return job


def _stats(rec: Recorder, count: int) -> None:
    seen = [0]

    def enough(m: dict) -> bool:
        seen[0] += m.get("event") == "live.stats"
        if m.get("event") == "job.finished":
            raise SystemExit("the live job ended before the controls were sent: use a longer "
                             "input file")
        return seen[0] >= count

    rec.take(enough)


def _stop(rec: Recorder, job: str) -> None:
    _send(rec, "job.cancel", {"job_id": job})
    if not any(m.get("event") == "job.finished" and m["data"].get("job_id") == job
               for m in rec.session):
        rec.take(lambda m: m.get("event") == "job.finished" and m["data"]["job_id"] == job)


def _control(rec: Recorder, job: str, values: dict) -> None:
    reply = _send(rec, "job.control", {"job_id": job, "values": values})
    if "result" not in reply:
        raise SystemExit(f"job.control {values} failed: {reply}")


def live_run(folder: Path) -> Recorder:
    files = _folder(folder)
    rec = Recorder(folder, wait_ready=True)
    _import(rec, files["model"])
    _import(rec, files["older"])
    models = _send(rec, "models.list")["result"]["models"]
    model = next(m for m in models if m["name"] == MODEL)
    for _ in range(2):  # the page shown; Start
        _send(rec, "live.devices")
    job = _start(rec, _live_args(folder, model["path"], model["index"]))
    _stats(rec, 3)
    _control(rec, job, {"key": 12})
    _stats(rec, 1)
    _control(rec, job, {"block": 0.5})
    _stats(rec, 1)
    _stop(rec, job)  # Restart: stop, list the devices, start with the new values
    _send(rec, "live.devices")
    job = _start(rec, _live_args(folder, model["path"], model["index"], key=12, block=0.5))
    _stats(rec, 1)
    _stop(rec, job)  # F5
    rec.close()
    return rec


def live_refused(folder: Path) -> Recorder:
    files = _folder(folder)
    rec = Recorder(folder, wait_ready=True)
    _import(rec, files["model"])
    _send(rec, "models.list")
    for _ in range(3):  # shown (spliced: no PortAudio), Refresh devices, Start
        _send(rec, "live.devices")
    reply = _send(rec, "job.start", {"kind": "live", "args": _live_args(
        folder, str(files["checkpoint"]), None)})
    if reply.get("error", {}).get("code") != "not_a_voice_model":
        raise SystemExit(f"expected a not_a_voice_model refusal, got {reply}")
    rec.close()
    return rec


def _answers(messages: list[dict], cmd: str) -> list[dict]:
    """The reply after each ``await`` of ``cmd``."""
    out = []
    for at, m in enumerate(messages):
        if m.get("fake") == "await" and m.get("cmd") == cmd:
            out.append(next(r for r in messages[at + 1:] if r.get("type") in
                            ("result", "error")))
    return out


def splice_devices(session: list[dict], committed: list[dict]) -> list[dict]:
    """The ``live.devices`` answers of the committed session in place of the recorded ones."""
    old = iter(_answers(committed, "live.devices"))
    waiting: str | None = None
    out = []
    for m in session:
        if m.get("fake") == "await":
            waiting = m["as"] if m["cmd"] == "live.devices" else None
        elif waiting is not None and m.get("type") in ("result", "error") \
                and m.get("id") == waiting:
            m = {**next(old), "id": waiting}
            waiting = None
        out.append(m)
    return out


def write(name: str, rec: Recorder) -> Path:
    committed = [json.loads(x) for x in (OUT / f"{name}.jsonl").read_text("utf-8").splitlines()
                 if x.strip()]
    rec.session = splice_devices(rec.session, committed)
    rec.session.insert(0, {"fake": "note", "text": f"recorded from the real backend by "
                           f"tests/desktop/record_live_sessions.py {name}; the live job ran "
                           "on a file-backed stream (input_file/output_file) and the "
                           "live.devices answers are the hand-written ones of the committed "
                           "session (a Windows machine's MME and WASAPI devices)"})
    return rec.write(name)


def main(names: list[str]) -> None:
    scenarios = {"live_run": live_run, "live_refused": live_refused}
    for name in names or list(scenarios):
        with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
            print("recorded", write(name, scenarios[name](Path(tmp))))


if __name__ == "__main__":
    main(sys.argv[1:])
