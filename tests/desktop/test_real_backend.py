"""BackendClient driving the real ``python -m backend serve``."""

from __future__ import annotations

from backend.protocol import PROTOCOL_VERSION
from desktop.ui.jobs_panel import COL_STAGE, COL_STATUS, QtJobsPanel


def _wait_ready(qtbot, client) -> None:
    client.start()
    qtbot.waitUntil(lambda: client.state == "ready", timeout=10000)
    print(f"\nreal backend: start() -> hello in {client.startup_seconds:.3f} s")


def test_hello_ping_and_clean_stop(qtbot, make_client) -> None:
    client, sig = make_client()
    _wait_ready(qtbot, client)
    assert client.hello.protocol == PROTOCOL_VERSION and client.hello.devices[0]["kind"] == "cpu"
    results = []
    client.request("ping", {"echo": "Ωmega 声"}, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results == [{"pong": True, "echo": "Ωmega 声"}]
    proc = client._proc
    client.stop()
    assert client.state == "stopped" and sig.crashes == []
    assert proc.exitCode() == 0  # it shut down by itself, it was not killed
    assert not any("killing" in m for _l, m in sig.logs)


def test_sleep_job_progress_in_jobs_panel_then_cancel(qtbot, make_client) -> None:
    client, sig = make_client()
    panel = QtJobsPanel(client.jobs, client.cancel_job)
    qtbot.addWidget(panel)
    _wait_ready(qtbot, client)
    values = []
    job = client.start_job("sleep", {"seconds": 0.6, "steps": 4})
    assert panel.row_of(job) == 0 and panel.cell_text(job, COL_STATUS) == "requested"
    qtbot.waitUntil(lambda: job.job_id is not None, timeout=5000)
    panel.progress_bar(job).valueChanged.connect(values.append)
    qtbot.waitUntil(lambda: job.finished, timeout=10000)
    assert job.state == "ok" and job.result == {"steps": 4}
    assert values and values[-1] == 1000 and len(set(values)) >= 2  # moved in steps
    assert panel.cell_text(job.job_id, COL_STATUS) == "ok"
    assert not panel.cancel_button(job).isEnabled()
    # a long job cancelled from its row's button
    long = client.start_job("sleep", {"seconds": 30, "steps": 60})
    qtbot.waitUntil(lambda: long.state == "running", timeout=5000)
    panel.cancel_button(long).click()
    assert panel.cell_text(long, COL_STAGE) == "cancelling"
    assert not panel.cancel_button(long).isEnabled()
    qtbot.waitUntil(lambda: long.finished, timeout=3000)
    assert long.state == "cancelled" and panel.cell_text(long, COL_STATUS) == "cancelled"
    assert panel.table.rowCount() == 2 and sig.crashes == []


def test_a_cancel_before_the_job_id_is_known_is_sent_once_it_is(qtbot, make_client) -> None:
    client, sig = make_client()
    job = client.start_job("sleep", {"seconds": 30, "steps": 60})  # queued until hello
    assert client.cancel_job(job) is None and job.cancel_requested
    _wait_ready(qtbot, client)
    qtbot.waitUntil(lambda: job.finished, timeout=5000)
    assert job.state == "cancelled" and job.job_id == "job-1" and sig.crashes == []
