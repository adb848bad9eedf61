"""The Models & assets page: Qt-free logic, and the page on replayed backend sessions.

assets_manage.jsonl is recorded from the real backend (record_asset_sessions.py);
assets_download.jsonl is hand-written (a download needs a server) and says so.
"""

from __future__ import annotations

import json

import pytest

from desktop.components.assets import (
    AssetsModel,
    error_text,
    format_size,
    group_of,
)
from desktop.components.job_handle import JobHandle
from desktop.ui.assets_page import (
    COL_NEEDED,
    COL_SIZE,
    COL_STATUS,
    ERROR_COLOUR,
    WARNING_COLOUR,
    QtAssetsPage,
)
from desktop.ui.jobs_panel import COL_STAGE as JOBS_COL_STAGE
from desktop.ui.jobs_panel import COL_STATUS as JOBS_COL_STATUS
from desktop.ui.main_window import MainWindow
from tests.desktop.conftest import SESSIONS, fake_command

pytestmark = pytest.mark.timeout(60)


def _recorded_list(index: int = 0) -> dict:
    """The index-th assets.list result of the recorded session."""
    lines = (SESSIONS / "assets_manage.jsonl").read_text(encoding="utf-8").splitlines()
    results = [m["result"] for m in map(json.loads, lines)
               if m.get("type") == "result" and "assets" in m.get("result", {})]
    return results[index]


def _received(sig, cmd: str) -> list[dict]:
    prefix = "fake backend received: "
    reqs = [json.loads(s[len(prefix):]) for s in sig.stderr if s.startswith(prefix)]
    return [r for r in reqs if r["cmd"] == cmd]


# Qt-free ----------------------------------------------------------------------------------
def test_format_size() -> None:
    assert format_size(None) == "?"
    assert format_size(-1) == "?" and format_size("12") == "?" and format_size(True) == "?"
    assert format_size(0) == "0 B" and format_size(999) == "999 B"
    assert format_size(1500) == "1.5 kB"
    assert format_size(40_000_000) == "40.0 MB"
    assert format_size(181_184_272) == "181 MB"
    assert format_size(2_500_000_000) == "2.5 GB"


def test_rows_from_the_recorded_list() -> None:
    model = AssetsModel()
    result = _recorded_list(0)
    model.load(result)
    assert model.data_dir == result["data_dir"] and len(model.names()) == len(result["assets"])
    groups = model.grouped()
    assert [t for t, _rows in groups] == ["Content encoders", "Pitch", "Pretrained bases v1",
                                          "Pretrained bases v2", "Transcription (Whisper)"]
    by_group = {t: [r.name for r in rows] for t, rows in groups}
    assert by_group["Pitch"] == ["rmvpe"]
    assert by_group["Content encoders"] == ["hubert-base", "contentvec-hf",
                                            "contentvec-hf-config"]
    assert all(n.startswith("rvc-v1-") for n in by_group["Pretrained bases v1"])
    assert len(by_group["Pretrained bases v2"]) == 12
    # one row per Whisper model, however many files its bundle has
    assert by_group["Transcription (Whisper)"] == [
        f"whisper-{m}" for m in ("tiny", "base", "small", "medium", "large-v3",
                                 "large-v3-turbo")]
    rmvpe = model.row("rmvpe")
    assert rmvpe.status_text == "Not installed; partial download, resumes at 40.0 MB"
    assert rmvpe.size_text == "181 MB" and not rmvpe.installed
    assert "pitch extraction (rmvpe)" in rmvpe.needed_by
    assert (rmvpe.can_download, rmvpe.can_import, rmvpe.can_remove) == (True, True, True)
    no_pitch = model.row("rvc-v2-G40k")
    assert no_pitch.size_text == "?" and not no_pitch.can_remove  # nothing to remove
    assert "structure" in model.row("contentvec-hf-config").tooltip


def test_an_installed_row_and_group_of_unknown_kinds() -> None:
    model = AssetsModel()
    model.load(_recorded_list(1))  # after the recorded import of rmvpe
    row = model.row("rmvpe")
    assert row.installed and row.status_text == (
        "Installed (imported), verified by structure only (checksum differs)")
    assert row.warning == "verified by structure only (checksum differs)"
    assert "checksum is not the published one" in row.tooltip
    assert row.size_text == format_size(model.raw("rmvpe")["installed_size"])
    assert (row.can_download, row.can_remove) == (False, True)
    assert model.installed() == {"rmvpe"}
    assert group_of({"kind": "vocoder", "name": "x"}) == "other"
    assert group_of({"kind": "transcription_model", "name": "whisper-small"}) == "transcription"
    assert group_of({"kind": "rvc_base_generator", "family": "RVC v2 pretrained generator"}) \
        == "base-v2"


def test_a_rows_job_drives_it() -> None:
    model = AssetsModel()
    model.load(_recorded_list(0))
    job = JobHandle("assets", {"action": "download", "name": "rmvpe"}, request_id="d1")
    assert model.track(job) == "rmvpe" and model.name_of(job) == "rmvpe"
    assert model.row("rmvpe").busy and model.row("rmvpe").fraction is None
    assert not model.row("rmvpe").can_import
    assert model.row("rmvpe").status_text == "Downloading…"
    job.apply("job.started", {"job_id": "job-7", "kind": "assets"})
    job.apply("job.progress", {"job_id": "job-7", "stage": "downloading rmvpe",
                               "done": 90_000_000, "total": 180_000_000, "name": "rmvpe"})
    row = model.row("rmvpe")
    assert row.fraction == 0.5 and row.status_text == "Downloading: 90.0 MB of 180 MB"
    job.apply("job.finished", {"job_id": "job-7", "kind": "assets", "status": "failed",
                               "error": {"code": "checksum_mismatch", "message": "rmvpe failed"}})
    row = model.row("rmvpe")
    assert not row.busy and row.error == "Checksum mismatch: the file is not the expected one: " \
                                         "rmvpe failed"
    again = JobHandle("assets", {"action": "import", "name": "rmvpe"}, request_id="d2")
    assert model.track(again) == "rmvpe" and model.name_of(job) is None
    assert model.row("rmvpe").error is None  # a new attempt clears the old error
    assert model.row("rmvpe").status_text == "Importing…"
    again.refuse("bad_arguments", "cannot import /x.pt: no such file")
    assert model.row("rmvpe").error == "Failed: cannot import /x.pt: no such file"
    assert model.track(JobHandle("extract", {"name": "rmvpe"})) is None  # not an assets job
    cancelled = JobHandle("assets", {"action": "download", "name": "hubert-base"}, job_id="j9")
    model.track(cancelled)
    cancelled.apply("job.finished", {"job_id": "j9", "status": "cancelled"})
    assert model.row("hubert-base").error.startswith("Cancelled; a partial download is kept")


def test_sizes_are_real_where_known_and_question_marks_where_not() -> None:
    model = AssetsModel()
    model.load(_recorded_list(0))
    assert model.raw("rvc-v2-G40k")["size"] is None  # the catalogue does not know it
    job = JobHandle("assets", {"action": "download", "name": "rvc-v2-G40k"}, job_id="job-3")
    assert model.track(job) == "rvc-v2-G40k"
    assert model.row("rvc-v2-G40k").size_text == "?"
    job.apply("job.progress", {"job_id": "job-3", "done": 5_000_000, "total": 0,
                               "name": "rvc-v2-G40k"})
    row = model.row("rvc-v2-G40k")
    assert row.status_text == "Downloading: 5.0 MB of ?" and row.size_text == "?"
    job.apply("job.progress", {"job_id": "job-3", "done": 6_000_000, "total": 72_000_000})
    row = model.row("rvc-v2-G40k")  # the server said how big it is
    assert row.size_text == "72.0 MB" and row.status_text == "Downloading: 6.0 MB of 72.0 MB"


def test_a_refused_import_of_a_missing_asset_is_not_a_red_wrong_file() -> None:
    model = AssetsModel()
    model.load(_recorded_list(0))
    job = JobHandle("assets", {"action": "import", "name": "hubert-base"}, request_id="d1")
    model.track(job)
    job.refuse("wrong_file", "take.wav is not the HuBERT base (hubert-base)")
    row = model.row("hubert-base")
    assert row.error is None and not row.installed
    assert row.status_cell == ("Not installed; the file given to import was not it: take.wav "
                               "is not the HuBERT base (hubert-base)")
    failed = JobHandle("assets", {"action": "download", "name": "rmvpe"}, request_id="d2")
    model.track(failed)
    failed.refuse("download_failed", "no network")
    assert model.row("rmvpe").status_cell == "Download failed: no network"  # that is red


def test_error_texts() -> None:
    assert error_text("download_failed", "no network").startswith("Download failed: ")
    assert error_text("wrong_file", "x.wav is not rmvpe.pt") == \
        "Wrong file: x.wav is not rmvpe.pt"
    assert error_text("checksum_mismatch", "").startswith("Checksum mismatch")
    assert error_text("unsafe_file", "x.pt holds ...") == \
        "Refused: the file holds code, not just a model: x.pt holds ..."
    assert error_text("internal", "boom") == "Failed: boom"


# replayed sessions ---------------------------------------------------------------------------
def test_main_window_has_the_pages(qtbot, make_client, qsettings) -> None:
    client, _sig = make_client(fake_command("hello_ping.jsonl"))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    titles = [window.sidebar.item(i).text() for i in range(window.sidebar.count())]
    assert "Models & assets" in titles and titles.index("Extract") == 3
    assert isinstance(window.page("assets"), QtAssetsPage)
    assert window.page("assets") is window.assets_page


def test_recorded_import_wrong_file_and_remove(qtbot, make_client, tmp_path) -> None:
    client, sig = make_client(fake_command("assets_manage.jsonl", tmp_path))
    page = QtAssetsPage(client)
    qtbot.addWidget(page)
    client.start()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.loaded, timeout=5000)
    assert page.group_titles() == ["Content encoders", "Pitch", "Pretrained bases v1",
                                   "Pretrained bases v2", "Transcription (Whisper)"]
    assert "resumes at 40.0 MB" in page.cell_text("rmvpe", COL_STATUS)
    assert page.cell_text("rvc-v1-G40k", COL_SIZE) == "?"
    assert "training" in page.cell_text("hubert-base", COL_NEEDED)
    assert str(tmp_path) in page.folder_label.text()

    picked = str(tmp_path / "my rmvpe ü.pt")
    page.pick_file = lambda name: picked if name == "rmvpe" else ""
    page.button("rmvpe", "import").click()
    assert page.progress_bar("rmvpe").isVisibleTo(page)
    assert not page.button("rmvpe", "download").isEnabled()
    qtbot.waitUntil(lambda: page.model.raw("rmvpe")["installed"], timeout=5000)
    assert _received(sig, "job.start")[0]["args"] == {
        "kind": "assets", "args": {"action": "import", "path": picked, "name": "rmvpe"}}
    assert page.cell_text("rmvpe", COL_STATUS) == (
        "Installed (imported), verified by structure only (checksum differs)")
    status = page.table.item(page._row_index["rmvpe"], COL_STATUS)
    assert status.foreground().color() == WARNING_COLOUR
    assert "loaded with restrictions that keep any code in it from running" in status.toolTip()
    assert page.message.text() == (
        "rmvpe imported; verified by structure only (checksum differs).")
    assert not page.progress_bar("rmvpe").isVisibleTo(page)
    assert not page.button("rmvpe", "download").isEnabled()

    page.pick_file = lambda name: str(tmp_path / "take 1.wav")
    page.button("hubert-base", "import").click()
    qtbot.waitUntil(lambda: page.error_box is not None, timeout=5000)
    assert page.error_box.text().startswith("Wrong file: take 1.wav is not the HuBERT base")
    qtbot.waitUntil(lambda: len(_received(sig, "assets.list")) == 3, timeout=5000)
    # the refused file stays mentioned in the row after the refresh; but hubert-base was never
    # installed, so its row says so, not a red "Wrong file" about the asset
    qtbot.waitUntil(lambda: "was not it" in page.cell_text("hubert-base", COL_STATUS),
                    timeout=5000)
    status = page.cell_text("hubert-base", COL_STATUS)
    assert status.startswith("Not installed; the file given to import was not it: take 1.wav "
                             "is not the HuBERT base") and "Wrong file" not in status
    item = page.table.item(page._row_index["hubert-base"], COL_STATUS)
    assert item.foreground().color().name() != ERROR_COLOUR.name()
    assert page.button("hubert-base", "import").isEnabled()

    page.confirm_remove = lambda name: name == "rmvpe"
    page.button("rmvpe", "remove").click()
    qtbot.waitUntil(lambda: not page.model.raw("rmvpe")["installed"], timeout=5000)
    assert _received(sig, "assets.remove")[0]["args"] == {"name": "rmvpe"}
    assert page.cell_text("rmvpe", COL_STATUS) == "Not installed"
    assert page.message.text() == "Removed rmvpe (2 file(s))."


def test_download_progress_failure_and_checksum(qtbot, make_client, qsettings, tmp_path) -> None:
    client, sig = make_client(fake_command("assets_download.jsonl", tmp_path))
    window = MainWindow(client, qsettings)
    qtbot.addWidget(window)
    page = window.assets_page
    client.start()
    page.refresh()
    qtbot.waitUntil(lambda: page.model.loaded, timeout=5000)

    page.button("hubert-base", "download").click()
    qtbot.waitUntil(lambda: page.error_box is not None, timeout=5000)
    assert page.error_box.text().startswith("Download failed: could not download hubert-base")
    qtbot.waitUntil(lambda: len(_received(sig, "assets.list")) == 2, timeout=5000)
    qtbot.waitUntil(lambda: page.cell_text("hubert-base", COL_STATUS).startswith(
        "Download failed"), timeout=5000)
    page.error_box = None

    page.button("rmvpe", "download").click()
    qtbot.waitUntil(lambda: page.progress_bar("rmvpe").value() > 500, timeout=5000)
    bar = page.progress_bar("rmvpe")
    assert bar.isVisibleTo(page) and bar.value() == int(108_000_000 / 181_184_272 * 1000)
    assert page.cell_text("rmvpe", COL_STATUS) == "Downloading: 108 MB of 181 MB"
    assert window.jobs_panel.cell_text("job-2", JOBS_COL_STAGE) == "downloading rmvpe"
    assert window.jobs_panel.progress_bar("job-2").value() == bar.value()
    assert _received(sig, "job.start")[1]["args"] == {
        "kind": "assets", "args": {"action": "download", "name": "rmvpe"}}
    client.request("ping")  # the session waits for this before it finishes the download
    qtbot.waitUntil(lambda: page.model.raw("rmvpe")["installed"], timeout=5000)
    assert page.cell_text("rmvpe", COL_STATUS) == "Installed (downloaded), verified by sha256"
    assert window.jobs_panel.cell_text("job-2", JOBS_COL_STATUS) == "ok"
    assert page.button("rmvpe", "remove").isEnabled()
    assert page.error_box is None

    page.button("contentvec-hf", "download").click()
    qtbot.waitUntil(lambda: page.error_box is not None, timeout=5000)
    assert "Checksum mismatch" in page.error_box.text()
    assert "the download was deleted" in page.error_box.text()
    qtbot.waitUntil(lambda: len(_received(sig, "assets.list")) == 4, timeout=5000)


def test_a_refused_start_is_shown(qtbot, make_client, tmp_path) -> None:
    client, _sig = make_client(fake_command("assets_refused.jsonl", tmp_path))
    page = QtAssetsPage(client)
    qtbot.addWidget(page)
    page.model.load(_recorded_list(0))
    page._rebuild()
    client.start()
    page.import_file("rmvpe", str(tmp_path / "gone ü.pt"))
    assert page.progress_bar("rmvpe").isVisibleTo(page)
    qtbot.waitUntil(lambda: page.error_box is not None, timeout=5000)
    assert page.error_box.text() == f"Failed: cannot import {tmp_path / 'gone ü.pt'}: no such file"
    assert page.cell_text("rmvpe", COL_STATUS).startswith("Failed: cannot import")
    assert page.button("rmvpe", "import").isEnabled()
    assert not page.progress_bar("rmvpe").isVisibleTo(page)
