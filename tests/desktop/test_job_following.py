"""One way to follow a job: on every page that starts jobs, the page and the Jobs dock
follow the same ``JobHandle``, from the request to the end.

Each test opens the main window on a session recorded from the real backend (whose
``job.started`` names the ``job.start`` request) and starts a job the way a user does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.components.job_handle import JobHandle
from desktop.components.project_state import ProjectState
from desktop.ui.jobs_panel import COL_STATUS
from desktop.ui.main_window import MainWindow
from tests.desktop.conftest import fake_command
from tests.desktop.record_extract_sessions import ENCODER
from tests.desktop.record_extract_sessions import PROJECT as EXTRACT_PROJECT
from tests.desktop.record_train_sessions import PROJECT_NAME as TRAIN_PROJECT

pytestmark = pytest.mark.timeout(60)


class Trace:
    """The states a handle went through (each once, in order)."""

    def __init__(self, job: JobHandle | None) -> None:
        assert job is not None
        self.job, self.states = job, [job.state]
        job.subscribe(self._on_changed)

    def _on_changed(self, job: JobHandle, _event: str, _data: dict) -> None:
        if job.state != self.states[-1]:
            self.states.append(job.state)


class BookTrace:
    """The states of every handle of a job book, from its first event (a page may create
    its handle after a reply, by when the fake backend has sent the whole job)."""

    def __init__(self, book) -> None:
        self.states: dict[int, list[str]] = {}
        book.subscribe(self._on_changed)

    def _on_changed(self, job: JobHandle, _event: str, _data: dict) -> None:
        seen = self.states.setdefault(id(job), ["requested"])
        if job.state != seen[-1]:
            seen.append(job.state)

    def of(self, job: JobHandle) -> list[str]:
        return self.states[id(job)]


def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


def _window(qtbot, make_client, qsettings, tmp_path: Path, session: str):
    client, sig = make_client(fake_command(session, tmp_path))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    client.start()
    return window, client, sig


def _one_handle(window: MainWindow, job: JobHandle) -> None:
    """The dock's row is the page's handle, and no other handle names that job."""
    assert window.jobs is window.client.jobs
    assert window.jobs_panel.handle(job.job_id) is job
    assert window.jobs_panel.cell_text(job, COL_STATUS) == job.state
    assert [h for h in window.jobs.handles() if h.job_id == job.job_id] == [job]
    assert all(h.request_id is not None for h in window.jobs.handles())  # no stray handles


def test_dataset_import_and_prepare(qtbot, make_client, qsettings, tmp_path) -> None:
    window, _client, _sig = _window(qtbot, make_client, qsettings, tmp_path,
                                    "import_prepare.jsonl")
    page = window.dataset_page
    window.controller.create(str(tmp_path / "My voice"), "My voice", 40000, "rvc")
    qtbot.waitUntil(lambda: window.controller.state is not None, timeout=5000)
    (tmp_path / "takes ä").mkdir()
    imported = Trace(page.import_paths([str(tmp_path / "takes ä")]))
    assert window.jobs_panel.cell_text(imported.job, COL_STATUS) == "requested"
    qtbot.waitUntil(lambda: page.sources_table.rowCount() == 2, timeout=5000)
    assert imported.states == ["requested", "running", "ok"]
    _one_handle(window, imported.job)

    prepared = Trace(page.start_prepare())
    qtbot.waitUntil(lambda: page.health_report.report is not None, timeout=5000)
    assert prepared.states == ["requested", "running", "ok"] and page.job is prepared.job
    assert prepared.job.result["slices"] > 0
    _one_handle(window, prepared.job)
    assert [h.kind for h in window.jobs.handles()] == ["import", "prepare"]


def test_one_prepare_sends_each_refresh_query_once(qtbot, make_client, qsettings,
                                                   tmp_path) -> None:
    window, _client, sig = _window(qtbot, make_client, qsettings, tmp_path,
                                   "import_prepare.jsonl")
    page = window.dataset_page
    window.controller.create(str(tmp_path / "My voice"), "My voice", 40000, "rvc")
    qtbot.waitUntil(lambda: window.controller.state is not None, timeout=5000)
    (tmp_path / "takes ä").mkdir()
    page.import_paths([str(tmp_path / "takes ä")])
    qtbot.waitUntil(lambda: page.sources_table.rowCount() == 2 and page.prepare_btn.isEnabled(),
                    timeout=5000)
    qtbot.wait(200)
    before = {cmd: len(_received(sig, cmd)) for cmd in ("project.slices", "project.open")}
    assert before == {"project.slices": 2, "project.open": 2}  # create, import: one each

    page.prepare_btn.click()
    qtbot.waitUntil(lambda: page.health_report.report is not None, timeout=5000)
    qtbot.wait(300)  # anything else the page would ask has been sent by now
    after = {cmd: len(_received(sig, cmd)) - n for cmd, n in before.items()}
    assert after == {"project.slices": 1, "project.open": 1}


def test_extract(qtbot, make_client, qsettings, tmp_path) -> None:
    window, _client, _sig = _window(qtbot, make_client, qsettings, tmp_path,
                                    "extract_real_ok.jsonl")
    page = window.extract_page
    state = ProjectState(path=str(tmp_path / EXTRACT_PROJECT),
                         project={"name": EXTRACT_PROJECT, "version": "v2"})
    window.controller.state = state
    window.controller.project_changed.emit(state)
    page.load_assets()  # as when the page is shown
    qtbot.waitUntil(lambda: page.installed is not None and not page.busy, timeout=5000)
    page.form.pitch.setCurrentIndex(page.form.pitch.findData("pm"))
    page.form.pick_encoder_file = lambda: str(tmp_path / ENCODER)
    page.form.encoder.activated.emit(page.form.encoder.count() - 1)  # "Other file…"
    trace = BookTrace(window.jobs)
    page.start_btn.click()
    qtbot.waitUntil(lambda: page.job is not None and page.job.finished, timeout=5000)
    assert trace.of(page.job) == ["requested", "running", "ok"]
    assert page.job.result["processed"] == 4 and page.message.text() == \
        "Extraction finished."
    _one_handle(window, page.job)


def test_train(qtbot, make_client, qsettings, tmp_path) -> None:
    from desktop.components.train_settings import TrainSettings

    window, _client, _sig = _window(qtbot, make_client, qsettings, tmp_path,
                                    "train_real.jsonl")
    page = window.train_page
    window.controller.open(str(tmp_path / TRAIN_PROJECT))
    qtbot.waitUntil(lambda: page.start_btn.isEnabled(), timeout=5000)
    page.form.set_values(TrainSettings(epochs=2, batch_size=2, learning_rate="1e-4",
                                       save_every=1, keep_last=3, size="tiny", device="cpu"))
    page.bases.ask_scratch = lambda _text: "scratch"  # the bases are not installed: train anyway
    trained = Trace(page.start_training())
    qtbot.waitUntil(lambda: page.history.last_step == 1, timeout=5000)
    page.pause_btn.click()
    qtbot.waitUntil(lambda: trained.job.state == "paused", timeout=5000)
    assert window.jobs_panel.cell_text(trained.job, COL_STATUS) == "paused"
    page.pause_btn.click()
    qtbot.waitUntil(lambda: trained.job.finished, timeout=5000)
    assert trained.states == ["requested", "running", "paused", "running", "ok"]
    assert page.session.job_id == trained.job.job_id and page.history.last_step == 4
    _one_handle(window, trained.job)


def test_train_index_and_export(qtbot, make_client, qsettings, tmp_path) -> None:
    window, _client, _sig = _window(qtbot, make_client, qsettings, tmp_path,
                                    "train_output_real.jsonl")
    output = window.train_page.output
    window.controller.open(str(tmp_path / TRAIN_PROJECT))
    qtbot.waitUntil(lambda: output.index_btn.isEnabled(), timeout=5000)
    indexed = Trace(output.build_index())
    qtbot.waitUntil(lambda: indexed.job.finished, timeout=5000)
    assert indexed.states == ["requested", "running", "ok"] and output.model.job is indexed.job
    _one_handle(window, indexed.job)


def test_assets_import(qtbot, make_client, qsettings, tmp_path) -> None:
    window, _client, _sig = _window(qtbot, make_client, qsettings, tmp_path,
                                    "assets_manage.jsonl")
    page = window.assets_page
    page.refresh()
    qtbot.waitUntil(lambda: page.model.loaded, timeout=5000)
    page.pick_file = lambda name: str(tmp_path / "my rmvpe ü.pt")
    page.button("rmvpe", "import").click()
    imported = Trace(page.model.jobs["rmvpe"])
    qtbot.waitUntil(lambda: page.model.raw("rmvpe")["installed"], timeout=5000)
    assert imported.states == ["requested", "running", "ok"]
    _one_handle(window, imported.job)


def test_assets_download_from_the_extract_pages_dialog(qtbot, make_client, qsettings,
                                                       tmp_path) -> None:
    """A download started by another page (the missing-asset dialog) shows in the assets
    page's row and in the dock: the same handle."""
    window, _client, _sig = _window(qtbot, make_client, qsettings, tmp_path,
                                    "extract_preflight.jsonl")
    extract, assets = window.extract_page, window.assets_page
    state = ProjectState(path=str(tmp_path / "My voice ü"),
                         project={"name": "My voice ü", "version": "v1"})
    window.controller.state = state
    window.controller.project_changed.emit(state)
    extract.load_assets()
    qtbot.waitUntil(lambda: extract.installed == {"hubert-base"}, timeout=5000)
    extract.form.pitch.setCurrentIndex(extract.form.pitch.findData("rmvpe"))
    extract.start_btn.click()
    qtbot.waitUntil(lambda: extract.missing_dialog is not None, timeout=5000)
    downloaded = Trace(extract.missing_dialog.download())
    qtbot.waitUntil(lambda: downloaded.job.finished, timeout=5000)
    assert downloaded.states == ["requested", "running", "ok"]
    assert assets.model.jobs["rmvpe"] is downloaded.job
    _one_handle(window, downloaded.job)
