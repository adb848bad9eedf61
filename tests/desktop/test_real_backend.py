"""BackendClient driving the real ``python -m backend serve``."""

from __future__ import annotations

from desktop.components.jobs import JobsModel
from desktop.ui.jobs_panel import COL_STAGE, COL_STATUS, QtJobsPanel


def _wait_ready(qtbot, client) -> None:
    client.start()
    qtbot.waitUntil(lambda: client.state == "ready", timeout=10000)
    print(f"\nreal backend: start() -> hello in {client.startup_seconds:.3f} s")


def test_hello_ping_and_clean_stop(qtbot, make_client) -> None:
    client, sig = make_client()
    _wait_ready(qtbot, client)
    assert client.hello.protocol == 1 and client.hello.devices[0]["kind"] == "cpu"
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
    model = JobsModel()
    panel = QtJobsPanel(model, client.cancel_job)
    qtbot.addWidget(panel)
    client.sig_job_event.connect(lambda ev: model.apply(ev.event, ev.data))
    _wait_ready(qtbot, client)
    finished, values = [], []
    started = []
    client.start_job("sleep", {"seconds": 0.6, "steps": 4}, started.append,
                     on_finished=finished.append)
    qtbot.waitUntil(lambda: bool(started), timeout=5000)
    job_id = started[0]
    qtbot.waitUntil(lambda: panel.progress_bar(job_id) is not None, timeout=5000)
    bar = panel.progress_bar(job_id)
    bar.valueChanged.connect(values.append)
    qtbot.waitUntil(lambda: bool(finished), timeout=10000)
    assert finished[0]["status"] == "ok" and finished[0]["result"] == {"steps": 4}
    assert values and values[-1] == 1000 and len(set(values)) >= 2  # moved in steps
    assert panel.cell_text(job_id, COL_STATUS) == "ok"
    assert not panel.cancel_button(job_id).isEnabled()
    # a long job cancelled from its row's button
    done2, started2 = [], []
    client.start_job("sleep", {"seconds": 30, "steps": 60}, started2.append,
                     on_finished=done2.append)
    qtbot.waitUntil(lambda: bool(started2) and panel.cancel_button(started2[0]) is not None,
                    timeout=5000)
    panel.cancel_button(started2[0]).click()
    assert panel.cell_text(started2[0], COL_STAGE) == "cancelling"
    qtbot.waitUntil(lambda: bool(done2), timeout=3000)
    assert done2[0]["status"] == "cancelled"
    assert panel.cell_text(started2[0], COL_STATUS) == "cancelled"
    assert panel.table.rowCount() == 2 and sig.crashes == []
