"""Records real extraction sessions for the Extract page's replay tests.

Run from the repo root: ``.venv/bin/python tests/desktop/record_extract_sessions.py [NAME...]``.
Uses ``Recorder`` from record_sessions.py (the real ``python -m backend serve``). Each
scenario has a temporary folder, written as ``$PROJECT`` in the session, holding:

- ``My voice ü``: a project of espeak-ng speech prepared through the real CLI
  (``python -m backend prepare``; 3 takes, 4 clips), copied from one prepared base;
- ``encoders ü/hubert tiny.pt``: a tiny random HuBERT in the fairseq ``hubert_base.pt``
  format (tests/features/tiny_models.py), given to the job as a file path;
- ``user data ü``: ``TIMBRE_DATA_DIR``, empty at the start (no model assets).

The requests are sent as the Extract page sends them; each ``await`` directive also keeps
the request's ``args`` so a replay test can check that the page sent the same ones. A
start first saves the form's settings in the project (``project.extract_settings``) when
they differ from the ones it has.

- ``extract_real_ok``: ``assets.list`` (the page is shown), ``project.extract_settings``
  and ``assets.list`` (the page's preflight before a start), ``job.start`` extract with
  f0 ``pm`` and the encoder file, its events up to ``job.finished`` ok; then
  ``project.open`` (the app opening the project again: the settings are in it).
- ``extract_real_missing``: f0 ``rmvpe`` with the empty data dir. The preflight
  ``assets.list`` says rmvpe is missing (the page shows the asset-missing dialog without
  starting), a tiny random ``rmvpe.pt`` (``save_tiny_rmvpe``) is imported through the real
  ``assets`` job, the retry's preflight finds it installed; then rmvpe is removed outside
  the app (``python -m backend assets remove rmvpe``, not part of the session) so the
  ``job.start`` is refused for real with ``asset_missing`` and its details; the file is
  imported again, and the retry's extraction succeeds.
- ``extract_real_cancel``: preflight, ``job.start`` extract with f0 ``harvest``, then
  ``job.cancel`` once a clip is done; the job finishes ``cancelled``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.desktop.record_sessions import OUT, ROOT, Recorder  # noqa: E402

PROJECT = "My voice ü"
ENCODER = Path("encoders ü") / "hubert tiny.pt"
RMVPE_SOURCE = Path("downloads ü") / "rmvpe.pt"
DATA_DIR = "user data ü"


def job_args(folder: Path, f0: str) -> dict:
    """What the Extract page sends (v2 project, default form except f0 and the encoder)."""
    return {"project": str(folder / PROJECT), "f0": f0, "encoder": str(folder / ENCODER),
            "version": "v2", "device": "auto", "filter_radius": 3}


def _prepared_base(folder: Path) -> Path:
    from tests.project.helpers import run_cli, speech

    takes = [speech(folder / "takes ä", f"take {i}.wav", i, pitch=40 + 10 * i) for i in range(3)]
    project = folder / PROJECT
    code, summary, err = run_cli("prepare", *map(str, takes), "--project", str(project))
    if code != 0:
        raise SystemExit(f"prepare failed ({code}): {err}")
    print("prepared", summary["result"]["slices"], "clips")
    return project


def _scenario_folder(folder: Path, base: Path) -> None:
    from tests.features.tiny_models import save_tiny_fairseq_hubert

    shutil.copytree(base, folder / PROJECT)
    save_tiny_fairseq_hubert(folder / ENCODER)
    os.environ["TIMBRE_DATA_DIR"] = str(folder / DATA_DIR)
    os.environ.pop("TIMBRE_ASSET_CATALOGUE", None)


def _send(rec: Recorder, cmd: str, args: dict | None = None, wait_job: bool = False) -> dict:
    """``rec.send`` that also keeps the request's args in its ``await`` directive."""
    at = len(rec.session)
    reply = rec.send(cmd, args, wait_job=wait_job)
    rec.session[at]["args"] = args or {}
    return reply


def _note(rec: Recorder, scenario: str) -> None:
    rec.session.insert(0, {"fake": "note", "text": "recorded from the real backend by "
                           f"tests/desktop/record_extract_sessions.py {scenario}"})


def _store(rec: Recorder, args: dict) -> None:
    """What the page sends at a start whose settings the project does not have yet."""
    settings = {k: v for k, v in args.items() if k != "project"}
    _send(rec, "project.extract_settings", {"path": args["project"], "settings": settings})


def _start_ok(rec: Recorder, args: dict) -> None:
    reply = _send(rec, "job.start", {"kind": "extract", "args": args}, wait_job=True)
    if "result" not in reply:
        raise SystemExit(f"job.start failed: {reply}")
    finished = [m for m in rec.session if m.get("event") == "job.finished"][-1]
    if finished["data"]["status"] != "ok":
        raise SystemExit(f"extraction failed: {finished}")


def extract_real_ok(folder: Path) -> Path:
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "extract_real_ok")
    _send(rec, "assets.list")  # the page is shown
    _store(rec, job_args(folder, "pm"))
    _send(rec, "assets.list")  # the page's preflight
    _start_ok(rec, job_args(folder, "pm"))
    _send(rec, "project.open", {"path": str(folder / PROJECT)})  # the app, opened again
    rec.close()
    return rec.write("extract_real_ok")


def _import_rmvpe(rec: Recorder, source: Path) -> None:
    args = {"action": "import", "path": str(source), "name": "rmvpe"}
    reply = _send(rec, "job.start", {"kind": "assets", "args": args}, wait_job=True)
    finished = [m for m in rec.session if m.get("event") == "job.finished"][-1]
    if "result" not in reply or finished["data"]["status"] != "ok":
        raise SystemExit(f"import failed: {reply} {finished}")


def extract_real_missing(folder: Path) -> Path:
    from tests.features.tiny_models import save_tiny_rmvpe

    source = save_tiny_rmvpe(folder / RMVPE_SOURCE)
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "extract_real_missing")
    _store(rec, job_args(folder, "rmvpe"))
    _send(rec, "assets.list")  # preflight: rmvpe is not installed
    _import_rmvpe(rec, source)
    _send(rec, "assets.list")  # the retry's preflight: installed now
    subprocess.run([sys.executable, "-m", "backend", "assets", "remove", "rmvpe"], cwd=ROOT,
                   check=True, capture_output=True)
    rec.session.append({"fake": "note", "text": "rmvpe removed outside the app here "
                        "(python -m backend assets remove rmvpe): the data dir is empty again"})
    refused = _send(rec, "job.start", {"kind": "extract", "args": job_args(folder, "rmvpe")})
    if refused.get("error", {}).get("code") != "asset_missing":
        raise SystemExit(f"expected an asset_missing refusal, got {refused}")
    _import_rmvpe(rec, source)
    _send(rec, "assets.list")  # the retry's preflight
    _start_ok(rec, job_args(folder, "rmvpe"))
    rec.close()
    return rec.write("extract_real_missing")


def extract_real_cancel(folder: Path) -> Path:
    rec = Recorder(folder, wait_ready=True)
    _note(rec, "extract_real_cancel")
    _store(rec, job_args(folder, "harvest"))
    _send(rec, "assets.list")  # preflight
    reply = _send(rec, "job.start", {"kind": "extract", "args": job_args(folder, "harvest")})
    if "result" not in reply:
        raise SystemExit(f"job.start failed: {reply}")
    job_id = reply["result"]["job_id"]
    rec.take(lambda m: m.get("event") == "job.progress" and m["data"]["done"] >= 1)
    _send(rec, "job.cancel", {"job_id": job_id})
    if not any(m.get("event") == "job.finished" for m in rec.session):
        rec.take(lambda m: m.get("event") == "job.finished")
    finished = [m for m in rec.session if m.get("event") == "job.finished"][-1]
    if finished["data"]["status"] != "cancelled":
        raise SystemExit(f"the job was not cancelled mid-run: {finished}")
    rec.close()
    return rec.write("extract_real_cancel")


def main(names: list[str]) -> None:
    scenarios = {"extract_real_ok": extract_real_ok, "extract_real_missing": extract_real_missing,
                 "extract_real_cancel": extract_real_cancel}
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="timbre-rec-base-") as base_tmp:
        base = _prepared_base(Path(base_tmp))
        for name in names or list(scenarios):
            with tempfile.TemporaryDirectory(prefix="timbre-rec-") as tmp:
                _scenario_folder(Path(tmp), base)
                print("recorded", scenarios[name](Path(tmp)))


if __name__ == "__main__":
    main(sys.argv[1:])
