"""Build index / Export model / Export package on the Train page.

The Qt-free ``TrainOutput`` on its own, then the page on a session recorded from the
real backend (tests/desktop/record_train_sessions.py ``train_output_real``): a run
trained for one epoch, the index built, the model and the package exported, and an
export to a path that is a folder (the job fails).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog

from desktop.components.job_handle import JobHandle
from desktop.components.project_state import ProjectState
from desktop.components.settings import AppSettings, JsonSettingsStore
from desktop.components.train_output import (
    INDEX,
    MODEL,
    PACKAGE,
    OutputContext,
    TrainOutput,
    with_suffix,
)
from desktop.ui.project_controller import ProjectController
from desktop.ui.train_page import QtTrainPage
from tests.desktop.conftest import fake_command
from tests.desktop.record_train_sessions import PROJECT_NAME, outputs

READY = OutputContext(project="/p/Voice ü", file_stem="Voice ü", run="main",
                      has_checkpoint=True, features_ready=True)


# --- the Qt-free model ----------------------------------------------------------------
def test_when_each_button_works() -> None:
    out = TrainOutput()
    assert out.blocker(INDEX) == "Open a project first."
    out.context = OutputContext(project="/p", run="main")
    assert "Asking the backend" in out.blocker(INDEX)
    assert "no checkpoint yet: train first" in out.blocker(MODEL)
    out.context = OutputContext(project="/p", run="main", features_ready=False)
    assert "run Extract first" in out.blocker(INDEX)
    out.context = READY
    assert [out.blocker(a) for a in (INDEX, MODEL, PACKAGE)] == ["", "", ""]
    out.context = OutputContext(**{**READY.__dict__, "training": True})
    assert all("Training is running" in out.blocker(a) for a in (INDEX, MODEL, PACKAGE))
    out.context = READY
    job = JobHandle("index", {"project": "/p/Voice ü"}, request_id="d1")
    out.follow(INDEX, job)  # one job at a time
    assert all(out.blocker(a) == "Building the index: wait for it to finish."
               for a in (INDEX, MODEL, PACKAGE))
    assert out.busy and not out.running  # no job id yet: nothing to cancel
    job.refuse("backend_stopped", "the backend is not running")
    assert out.blocker(MODEL) == "" and out.status == "refused"
    assert out.result_text() == "Could not start building the index: the backend is not running"


def test_job_args_suffixes_and_default_paths() -> None:
    out = TrainOutput()
    out.context = READY
    assert out.index_args() == {"project": "/p/Voice ü"}
    assert out.export_args(" /x/my voice ", MODEL) == {"project": "/p/Voice ü", "run": "main",
                                                       "out": "/x/my voice.pth"}
    assert with_suffix("/x/a.PTH", MODEL) == "/x/a.PTH"
    assert with_suffix("/x/a.pth", PACKAGE) == "/x/a.pth.zip"
    assert out.default_path(MODEL) == str(Path("/p/Voice ü/export/Voice ü.pth"))
    assert out.default_path(PACKAGE, "/last é") == str(Path("/last é/Voice ü.zip"))
    out.context = OutputContext(project="/p/Voice ü", run="second try")
    assert out.default_path(MODEL) == str(Path("/p/Voice ü/export/Voice ü second try.pth"))


def test_default_path_uses_the_backends_file_stem_not_the_typed_name() -> None:
    """A project named ``../../x`` must not put the save dialog outside export/."""
    out = TrainOutput()
    state = ProjectState.from_open_result({"path": "/p/v", "project": {"name": "../../x"},
                                           "file_stem": "x"})
    assert state.name == "../../x" and state.file_stem == "x"
    out.context = OutputContext(project="/p/v", file_stem=state.file_stem, run="main")
    assert out.default_path(MODEL) == str(Path("/p/v/export/x.pth"))


def _job(kind: str, job_id: str) -> JobHandle:
    job = JobHandle(kind, {}, request_id="d" + job_id)
    job.apply("job.started", {"job_id": job_id, "kind": kind})
    return job


def _finish(job: JobHandle, status: str, **data) -> None:
    job.apply("job.finished", {"job_id": job.job_id, "kind": job.kind, "status": status, **data})


def test_reads_its_job_from_the_handle() -> None:
    out = TrainOutput()
    out.context = READY
    job = JobHandle("export", {}, request_id="d7")
    out.follow(PACKAGE, job)
    assert out.progress_text() == "Exporting the package: starting…"
    job.apply("job.started", {"job_id": "job-7", "kind": "export"})
    job.apply("job.progress", {"job_id": "job-7", "stage": "writing", "done": 1, "total": 2})
    assert out.running and out.progress_text() == "Exporting the package… (writing 1 / 2)"
    _finish(job, "ok", result={"package": "/x/v.zip", "step": 8, "epoch": 2, "index": None})
    assert not out.busy and out.result_path() == "/x/v.zip" and out.progress_text() == ""
    assert out.result_text() == ("Package exported from the checkpoint of step 8, epoch 2, "
                                 "without an index: build the index, then export again to "
                                 "include it.")
    job = _job("index", "job-9")
    out.follow(INDEX, job)
    _finish(job, "ok", result={"index": "/p/i.index", "vectors": 300000, "n_ivf": 2500,
                               "dim": 768, "reduced": True})
    assert out.result_text() == ("Index built: 300000 vectors of 768 dimensions, 2500 IVF "
                                 "lists (reduced to k-means centres first).")
    job = _job("export", "job-10")
    out.follow(MODEL, job)
    _finish(job, "failed", error={"code": "internal_error", "message": "disk full"})
    assert out.result_text() == "Exporting the model failed: disk full"
    assert out.result_path() == ""
    job = _job("export", "job-11")
    out.follow(MODEL, job)
    _finish(job, "cancelled")
    assert "cancelled" in out.result_text() and out.result_path() == ""


# --- the page on a real backend session ----------------------------------------------------
def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


def _recorded_finished() -> list[dict]:
    path = Path(__file__).parent / "sessions" / "train_output_real.jsonl"
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [m["data"] for m in lines if m.get("event") == "job.finished"]


@pytest.fixture
def page(qtbot, make_client, tmp_path):
    client, sig = make_client(fake_command("train_output_real.jsonl", tmp_path))
    settings = AppSettings(JsonSettingsStore(tmp_path / "settings.json"))
    controller = ProjectController(client, settings)
    page = QtTrainPage(client, controller, settings)
    qtbot.addWidget(page)
    client.start()
    controller.open(str(tmp_path / PROJECT_NAME))
    qtbot.waitUntil(lambda: page.output.model_btn.isEnabled(), timeout=5000)
    return page, sig, settings


def test_build_index_and_export_from_a_real_session(qtbot, page, tmp_path, monkeypatch) -> None:
    page, sig, settings = page
    o = page.output
    project, out = tmp_path / PROJECT_NAME, outputs(tmp_path)
    finished = _recorded_finished()
    assert o.index_btn.isEnabled() and o.package_btn.isEnabled()
    assert o.result_label.isHidden() and o.path_edit.isHidden()

    o.index_btn.click()
    assert not o.model_btn.isEnabled() and not o.progress.isHidden()
    assert "Building the index" in o.progress_label.text()
    qtbot.waitUntil(lambda: o.model.status == "ok", timeout=5000)
    assert _received(sig, "job.start")[0]["args"] == {"kind": "index",
                                                      "args": {"project": str(project)}}
    index = project / "index" / "added_IVF5_Flat_nprobe_1_Voice ü_v2.index"
    assert finished[0]["result"]["index"] == f"$PROJECT/{PROJECT_NAME}/index/{index.name}"
    assert o.result_label.text() == "Index built: 226 vectors of 768 dimensions, 5 IVF lists."
    assert o.path_edit.text() == str(index) and not o.copy_btn.isHidden()
    assert o.progress.isHidden() and o.model_btn.isEnabled()
    o.copy_btn.click()
    assert QGuiApplication.clipboard().text() == str(index) and o.copy_btn.text() == "Copied"

    asked: list[tuple[str, str]] = []

    def save_dialog(answer: str):
        def ask(_parent, _title, start, filters):
            asked.append((start, filters))
            return answer, filters
        return ask

    # the dialog's answer has no suffix: .pth is added
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog(str(out["model"])[:-4]))
    o.model_btn.click()
    qtbot.waitUntil(lambda: o.model.status == "ok", timeout=5000)
    assert asked[0] == (str(project / "export" / "Voice ü.pth"), "RVC voice model (*.pth)")
    assert _received(sig, "job.start")[1]["args"] == {"kind": "export", "args": {
        "project": str(project), "run": "main", "out": str(out["model"])}}
    assert o.result_label.text() == "Model exported from the checkpoint of step 2, epoch 1."
    assert o.path_edit.text() == str(out["model"]) and o.copy_btn.text() == "Copy path"

    out["model"].parent.mkdir(exist_ok=True)  # the real export made the folder (not replayed)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_dialog(str(out["package"])))
    o.package_btn.click()
    qtbot.waitUntil(lambda: o.model.status == "ok" and o.model.action == PACKAGE, timeout=5000)
    assert asked[1] == (str(out["model"].parent / "Voice ü.zip"), "Model package (*.zip)")
    assert settings.last_folder(f"export {project}") == str(out["model"].parent)
    assert o.path_edit.text() == str(out["package"])
    assert o.result_label.text().endswith(f"with the index {index.name}.")

    assert o.export(MODEL, str(out["folder"])) is not None  # a folder has that name
    qtbot.waitUntil(lambda: o.model.status == "failed", timeout=5000)
    assert o.result_label.text() == (f"Exporting the model failed: could not write "
                                     f"{out['folder']}: Is a directory; choose another "
                                     "file or folder")
    assert "#b00020" in o.result_label.styleSheet() and o.path_edit.isHidden()
    assert len(_received(sig, "job.start")) == 4
