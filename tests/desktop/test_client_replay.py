"""BackendClient against recorded sessions replayed by fake_backend.py (a real process)."""

from __future__ import annotations

import sys
import time

from backend.protocol import PROTOCOL_VERSION, Error, Hello
from desktop.components.backend_logic import RestartPolicy
from tests.desktop.conftest import fake_command


def test_hello_and_a_request_queued_before_hello(qtbot, make_client) -> None:
    client, sig = make_client(fake_command("hello_ping.jsonl"))
    results, errors = [], []
    client.request("ping", {"echo": "héllo"}, results.append, errors.append)  # before start
    client.start()
    assert client.state == "starting"
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    assert results == [{"pong": True, "echo": "héllo"}] and errors == []
    assert sig.states == ["starting", "ready"]
    assert isinstance(client.hello, Hello) and client.hello.devices[0]["kind"] == "cpu"
    assert sig.hellos == [client.hello]
    assert any('"cmd":"ping"' in line for line in sig.stderr)  # the fake saw the request
    client.stop()
    assert client.state == "stopped" and sig.states[-1] == "stopped"
    assert sig.crashes == []


def test_garbage_lines_become_log_lines_not_crashes(qtbot, make_client) -> None:
    client, sig = make_client(fake_command("garbage.jsonl"))
    client.start()
    results = []
    client.request("ping", {}, results.append)
    qtbot.waitUntil(lambda: bool(results), timeout=5000)
    warnings = [m for level, m in sig.logs if level == "warning"]
    assert any("Loading weights... 50%" in m for m in warnings)
    assert any("[1, 2, 3]" in m for m in warnings)
    assert any("mystery" in m for m in warnings)
    assert ("warning", "split line ✓ 声") in sig.logs  # a log event split across two writes
    assert client.state == "ready" and sig.crashes == []


def test_recorded_sleep_job_reports_progress_and_finishes(qtbot, make_client) -> None:
    client, sig = make_client(fake_command("sleep_job.jsonl"))
    client.start()
    job = client.start_job("sleep", {"seconds": 0.3, "steps": 3})
    seen = []
    job.subscribe(lambda h, event, _data: seen.append((event, h.state, h.done)))
    assert job.request_id.startswith("d") and job.state == "requested"
    assert client.jobs.handles() == [job]
    qtbot.waitUntil(lambda: job.finished, timeout=5000)
    assert (job.job_id, job.state, job.result) == ("job-1", "ok", {"steps": 3})
    assert seen == [("job.started", "running", 0), ("job.progress", "running", 1),
                    ("job.progress", "running", 2), ("job.progress", "running", 3),
                    ("job.finished", "ok", 3)]
    names = [e.event for e in sig.job_events]
    assert names == ["job.started", "job.progress", "job.progress", "job.progress",
                     "job.finished"]
    assert [e.data["done"] for e in sig.job_events if e.event == "job.progress"] == [1, 2, 3]


def test_crash_mid_job_fails_pending_and_restarts(qtbot, make_client) -> None:
    client, sig = make_client(fake_command("crash_mid_job.jsonl"))
    client.start()
    list_errors = []
    job = client.start_job("sleep", {"seconds": 2, "steps": 10})
    client.request("jobs.list", {}, on_error=list_errors.append)  # never answered: pending
    qtbot.waitUntil(lambda: bool(sig.crashes), timeout=5000)
    message, will_restart = sig.crashes[0]
    assert will_restart
    assert "exited unexpectedly with code 1" in message
    assert "MemoryError: simulated crash in the sleep job" in message  # last stderr lines
    assert job.job_id == "job-1" and not job.refused and job.done == 2
    assert job.state == "failed" and job.error_code == "backend_crashed"
    assert [e.code for e in list_errors] == ["backend_crashed"]
    assert isinstance(list_errors[0], Error)
    # restart attempted: the replacement process says hello again
    qtbot.waitUntil(lambda: client.state == "ready" and len(sig.hellos) == 2, timeout=5000)
    assert sig.states == ["starting", "ready", "crashed", "restarting", "ready"]
    again = client.start_job("sleep", {})
    qtbot.waitUntil(lambda: again.job_id is not None, timeout=5000)  # the new backend answers
    # the replay's job-1 is a new job: its own handle (the first one stays failed)
    assert client.jobs.by_job_id("job-1") is again and again is not job
    assert job.state == "failed" and job.error_code == "backend_crashed"


def test_crash_loop_gives_up_then_restart_action(qtbot, make_client) -> None:
    policy = RestartPolicy(max_restarts=3, window_s=60, backoff_s=(0.02,))
    client, sig = make_client(fake_command("crash_at_start.jsonl"), policy=policy)
    client.start()
    qtbot.waitUntil(lambda: len(sig.crashes) == 4, timeout=10000)
    assert [again for _m, again in sig.crashes] == [True, True, True, False]
    assert "code 3" in sig.crashes[-1][0] and "libcuda.so.1" in sig.crashes[-1][0]
    assert "not restarted" in sig.crashes[-1][0]
    assert client.state == "crashed"
    errors = []
    client.request("ping", {}, on_error=errors.append)
    assert errors == []  # never synchronously, always from the event loop
    qtbot.waitUntil(lambda: bool(errors), timeout=2000)
    assert errors[0].code == "backend_crashed" and "Restart" in errors[0].message
    client.restart()
    qtbot.waitUntil(lambda: len(sig.crashes) == 5, timeout=5000)
    assert sig.crashes[-1][1] is True  # the count was reset by the user's restart


def test_a_missing_program_is_reported(qtbot, make_client) -> None:
    policy = RestartPolicy(max_restarts=0)
    client, sig = make_client(["/nonexistent/dir/python3", "-m", "backend", "serve"],
                              policy=policy)
    errors = []
    client.request("ping", {}, on_error=errors.append)
    client.start()
    qtbot.waitUntil(lambda: bool(sig.crashes), timeout=5000)
    assert "could not start the backend" in sig.crashes[0][0]
    assert client.state == "crashed" and [e.code for e in errors] == ["backend_crashed"]


def test_stop_kills_a_backend_that_ignores_shutdown(qtbot, make_client) -> None:
    code = ("import sys, time\n"
            "print('{\"type\":\"hello\",\"protocol\":1,\"devices\":[]}', flush=True)\n"
            "time.sleep(30)\n")
    client, sig = make_client([sys.executable, "-c", code], stop_timeout_ms=300)
    client.start()
    qtbot.waitUntil(lambda: client.state == "ready", timeout=5000)
    pending = []
    client.request("ping", {}, on_error=pending.append)
    t0 = time.monotonic()
    client.stop()
    assert time.monotonic() - t0 < 3
    assert client.state == "stopped" and sig.crashes == []
    assert any("killing" in m for _l, m in sig.logs)
    assert [e.code for e in pending] == ["backend_stopped"]


def test_unknown_command_before_backend_ready_is_retried(qtbot, make_client) -> None:
    client, sig = make_client(fake_command("commands_load_late.jsonl"))
    client.start()
    errors = []
    client.request("project.open", {"path": "/nowhere"}, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert [(e.code, e.message) for e in errors] == [("not_found", "no project folder at /nowhere")]
    assert "project.open" in client.commands
    assert sum('"cmd":"project.open"' in line for line in sig.stderr) == 2  # sent twice


def test_a_backend_of_another_protocol_version_is_reported(qtbot, make_client) -> None:
    code = ("import sys\n"
            "print('{\"type\":\"hello\",\"protocol\":1,\"devices\":[]}', flush=True)\n"
            "sys.stdin.read()\n")
    client, sig = make_client([sys.executable, "-c", code])
    client.start()
    qtbot.waitUntil(lambda: client.state == "ready", timeout=5000)
    errors = [m for level, m in sig.logs if level == "error"]
    assert errors == [f"The backend speaks protocol version 1, but this app expects version "
                      f"{PROTOCOL_VERSION}: jobs may not be followed correctly. Install the app "
                      "and the backend from the same release."]
