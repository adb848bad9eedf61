"""One writer per project across real processes: a second job gets ``busy`` naming the job
that holds the project, a killed holder's lock is recovered, and a read-only project folder
is named with what to do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.backend.backend_proc import BackendProcess
from tests.features.tone_project import copy_project, harmonic_bursts, make_base
from tests.project.helpers import ROOT, run_cli


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_base(tmp_path_factory.mktemp("lock"), features=False)


@pytest.fixture
def project(base: dict[str, Path], tmp_path: Path) -> Path:
    return copy_project(base["project"], tmp_path)


HOLDER = ".timbre-lock.json"  # beside the lock file: who holds the project


def _read_holder(root: Path) -> dict | None:
    try:
        return json.loads((root / HOLDER).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _holder(root: Path, pid: int, timeout: float = 30.0) -> dict:
    """Wait until process ``pid`` holds the project (its holder file names it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = _read_holder(root)
        if info and info.get("pid") == pid:
            return info
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never took the lock of {root}")


def _sleeper(root: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "backend", "sleep", "--project", str(root),
                             "--seconds", "120", "--steps", "1200"], cwd=ROOT,
                            env={**os.environ, "PYTHONUTF8": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_second_cli_job_is_busy_and_a_killed_holders_lock_is_recovered(
        base: dict[str, Path], project: Path, tmp_path: Path) -> None:
    new_source = harmonic_bursts(tmp_path / "neu" / "ton 2.wav", 220, bursts=2, seed=3)
    before = {name: (project / name).read_bytes()
              for name in ("sources.json", "prepared/manifest.json", "project.json")}
    holder = _sleeper(project)
    try:
        info = _holder(project, holder.pid)
        assert (info["kind"], info["via"]) == ("sleep", "the command line")
        code, summary, err = run_cli("prepare", str(new_source), "--project", str(project))
        assert code == 1, err
        error = summary["error"]
        assert summary["status"] == "failed" and error["code"] == "busy"
        assert error["message"].startswith(f"the project {project} is busy: a sleep job "
                                           f"started from the command line (process "
                                           f"{holder.pid}, since {info['started']})")
        assert "wait for it to finish" in error["message"]
        assert error["details"]["holder"]["pid"] == holder.pid
        assert f"error: {error['message']}" in err
        for name, data in before.items():  # the refused jobs changed nothing
            assert (project / name).read_bytes() == data, name
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the dead holder's info is still there; the lock died with the process
    assert _read_holder(project)["pid"] == holder.pid
    code, summary, err = run_cli("prepare", str(new_source), "--project", str(project))
    assert code == 0, err
    assert summary["result"]["imported"]["added"] == 1
    assert not (project / HOLDER).exists()  # released at the end


def test_app_and_cli_exclude_each_other(base: dict[str, Path], project: Path) -> None:
    server = BackendProcess()
    try:
        rid = server.send("job.start", kind="sleep",
                          args={"project": str(project), "seconds": 120, "steps": 1200})
        reply = server.reply(rid, timeout=60)
        assert reply["type"] == "result", reply
        job_id = reply["result"]["job_id"]
        info = _holder(project, server.proc.pid)
        assert (info["via"], info["job_id"]) == ("the app", job_id)

        code, summary, _ = run_cli("prepare", str(base["source"]), "--project", str(project))
        assert code == 1 and summary["error"]["code"] == "busy"
        assert "a sleep job started from the app" in summary["error"]["message"]
        # the app itself: one job per project, edits still allowed beside its own job
        rid = server.send("job.start", kind="prepare", args={"project": str(project)})
        reply = server.reply(rid)
        assert reply["type"] == "error" and reply["error"]["code"] == "busy", reply
        rid = server.send("project.settings", path=str(project), settings={"threshold_db": -40})
        assert server.reply(rid)["type"] == "result"

        server.send("job.cancel", job_id=job_id)
        assert server.event("job.finished", job_id=job_id)["data"]["status"] == "cancelled"
        holder = _sleeper(project)  # now the command line holds it: the app's edits wait
        try:
            _holder(project, holder.pid)
            sources = json.loads((project / "sources.json").read_text("utf-8"))["sources"]
            rid = server.send("project.set_edits", path=str(project),
                              source_id=sources[0]["id"], segments=[[0.1, 2.0]])
            reply = server.reply(rid, timeout=30)
            assert reply["type"] == "error" and reply["error"]["code"] == "busy", reply
            assert "a sleep job started from the command line" in reply["error"]["message"]
            assert json.loads((project / "edits.json").read_text("utf-8")) == {}
        finally:
            holder.kill()
            holder.wait()
        rid = server.send("project.set_edits", path=str(project), source_id=sources[0]["id"],
                          segments=[[0.1, 2.0]])
        assert server.reply(rid)["type"] == "result"  # the killed holder's lock is gone
    finally:
        server.close()


def test_read_only_project_folder_is_named_with_what_to_do(
        base: dict[str, Path], project: Path, read_only_view) -> None:
    view = read_only_view(project)
    for args in (["prepare", str(base["source"])], ["sleep", "--seconds", "0"]):
        code, summary, err = run_cli(*args, "--project", str(view))
        assert code == 1, err
        error = summary["error"]
        assert summary["status"] == "failed" and error["code"] == "io_error", summary
        assert error["message"].startswith(f"cannot write in the project folder {view}: it "
                                           "is read-only")
        assert "Copy the project to a folder you can write to" in error["message"]
        assert "Traceback" not in err
