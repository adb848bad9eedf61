"""The real ``python -m backend serve`` process, driven over its pipes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.protocol import PROTOCOL_VERSION
from tests.backend.backend_proc import BackendProcess


@pytest.fixture
def backend() -> Iterator[BackendProcess]:
    proc = BackendProcess()
    yield proc
    proc.close()


def test_hello_comes_first_with_versions_and_devices(backend: BackendProcess) -> None:
    hello = backend.next(timeout=10)
    assert hello["type"] == "hello"
    assert hello["protocol"] == PROTOCOL_VERSION
    assert hello["backend"] and hello["torch"]
    cpu = hello["devices"][0]
    assert cpu["kind"] == "cpu" and cpu["name"] and cpu["memory_bytes"] > 0
    # the heavy imports follow the hello, announced by backend.ready
    ready = backend.event("backend.ready")
    assert "job.start" in ready["data"]["commands"]
    assert ready["data"]["torch"].startswith(hello["torch"].split("+")[0])
    import torch  # the About box shows the CUDA build torch reports

    assert ready["data"]["cuda_version"] == torch.version.cuda


def test_every_request_gets_exactly_one_reply(backend: BackendProcess) -> None:
    backend.next()
    ids = [backend.send("ping", echo=i) for i in range(20)]
    backend.send_raw("this is not json\n")
    ids.append(backend.send("no.such.command"))
    ids.append(backend.send("job.start", kind="sleep", args={"seconds": -1}))
    ids.append(backend.send("job.start", kind="nonexistent"))
    last = backend.send("ping", echo="last")
    for rid in [*ids, last]:  # commands from modules answer once those are loaded
        backend.reply(rid)
    time.sleep(0.3)  # room for a second reply, if there were one
    counts: dict[str, int] = {}
    for raw in backend.raw:
        m = json.loads(raw)
        if m["type"] in ("result", "error") and m.get("id") is not None:
            counts[m["id"]] = counts.get(m["id"], 0) + 1
    assert all(counts.get(i) == 1 for i in [*ids, last]), counts
    errors = {json.loads(r)["id"]: json.loads(r) for r in backend.raw
              if json.loads(r)["type"] == "error"}
    assert errors[ids[20]]["error"]["code"] == "unknown_command"
    assert errors[ids[21]]["error"]["code"] == "bad_arguments"
    assert "'seconds'" in errors[ids[21]]["error"]["message"]
    assert errors[ids[22]]["error"]["code"] == "unknown_command"
    assert errors[None]["error"]["code"] == "parse_error"


def test_job_progress_and_finished(backend: BackendProcess) -> None:
    backend.next()
    rid = backend.send("job.start", kind="sleep", args={"seconds": 0.5, "steps": 5})
    job_id = backend.reply(rid)["result"]["job_id"]
    backend.event("job.started", job_id=job_id)
    progress = backend.event("job.progress", job_id=job_id)
    assert progress["data"]["stage"] == "sleeping" and progress["data"]["total"] == 5
    done = backend.event("job.finished", job_id=job_id)
    assert done["data"]["status"] == "ok" and done["data"]["result"] == {"steps": 5}
    listed = backend.reply(backend.send("jobs.list"))["result"]["jobs"]
    assert [j["status"] for j in listed if j["job_id"] == job_id] == ["ok"]


def test_job_started_names_its_request_and_comes_first(backend: BackendProcess) -> None:
    """job.started carries the job.start request's id and comes before the reply and before
    every other event of the job, so a client can follow the job from its first event."""
    backend.next()
    rid = backend.send("job.start", kind="sleep", args={"seconds": 0.2, "steps": 2})
    other = backend.send("job.start", kind="sleep", args={"seconds": 0.1, "steps": 1})
    job_id = backend.reply(rid)["result"]["job_id"]
    backend.event("job.finished", job_id=job_id)
    backend.event("job.finished", job_id=backend.reply(other)["result"]["job_id"])
    lines = [json.loads(raw) for raw in backend.raw]
    started = [m["data"] for m in lines if m.get("event") == "job.started"]
    assert [(d["request_id"], d["kind"]) for d in started] == [(rid, "sleep"), (other, "sleep")]
    mine = [i for i, m in enumerate(lines)
            if m.get("id") == rid or (m.get("data") or {}).get("job_id") == job_id]
    assert lines[mine[0]]["event"] == "job.started"  # first: before the reply and progress
    assert lines[mine[1]] == {"type": "result", "id": rid,
                              "result": {"job_id": job_id, "kind": "sleep"}}


def test_failing_job_reports_and_server_survives(backend: BackendProcess) -> None:
    backend.next()
    rid = backend.send("job.start", kind="sleep", args={"seconds": 0, "steps": 1, "fail": True})
    job_id = backend.reply(rid)["result"]["job_id"]
    done = backend.event("job.finished", job_id=job_id)
    assert done["data"]["status"] == "failed"
    assert done["data"]["error"]["message"] == "asked to fail"
    assert backend.reply(backend.send("ping"))["result"]["pong"] is True


def test_cancel_stops_within_a_second_and_leaves_no_partial_file(
        backend: BackendProcess, tmp_path: Path) -> None:
    backend.next()
    out = tmp_path / "résultat final.txt"
    rid = backend.send("job.start", kind="sleep",
                       args={"seconds": 30, "steps": 300, "out": str(out)})
    job_id = backend.reply(rid)["result"]["job_id"]
    backend.event("job.progress", job_id=job_id)
    sent = time.monotonic()
    backend.reply(backend.send("job.cancel", job_id=job_id))
    done = backend.event("job.finished", job_id=job_id)
    assert done["data"]["status"] == "cancelled"
    assert done["_t"] - sent < 1.0
    assert list(tmp_path.iterdir()) == []


def test_stdout_carries_only_protocol_even_when_code_prints(backend: BackendProcess) -> None:
    backend.next()
    backend.reply(backend.send("ping"))
    for raw in backend.raw:
        assert json.loads(raw)["type"] in ("hello", "result", "error", "event")


def test_shutdown_exits_cleanly(backend: BackendProcess) -> None:
    backend.next()
    backend.reply(backend.send("shutdown"))
    assert backend.proc.wait(timeout=10) == 0


def test_closing_stdin_stops_the_backend(backend: BackendProcess) -> None:
    backend.next()
    assert backend.proc.stdin is not None
    backend.proc.stdin.close()
    assert backend.proc.wait(timeout=10) == 0


def test_cli_verb_runs_the_same_job_code(python_exe: str, repo_root: Path,
                                         tmp_path: Path) -> None:
    import subprocess

    out = tmp_path / "out file.txt"
    res = subprocess.run([python_exe, "-m", "backend", "sleep", "--seconds", "0.1", "--steps",
                          "2", "--out", str(out), "--json"], cwd=repo_root,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {"status": "ok", "result": {"steps": 2}}
    assert out.read_text() == "0\n1\n"
    bad = subprocess.run([python_exe, "-m", "backend", "sleep", "--steps", "0", "--json"],
                         cwd=repo_root, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["error"]["code"] == "bad_arguments"


def test_pause_and_resume_a_pausable_job(backend: BackendProcess) -> None:
    backend.next()
    rid = backend.send("job.start", kind="sleep", args={"seconds": 1.0, "steps": 10})
    job_id = backend.reply(rid)["result"]["job_id"]
    backend.event("job.progress", job_id=job_id)
    assert backend.reply(backend.send("job.pause", job_id=job_id))["result"]["paused"] is True
    backend.event("job.paused", job_id=job_id, paused=True)
    time.sleep(1.0)  # the step in flight when pause arrived may still finish
    listed = backend.reply(backend.send("jobs.list"))["result"]["jobs"]
    done_while_paused = listed[0]["progress"]["done"]
    time.sleep(1.0)
    listed = backend.reply(backend.send("jobs.list"))["result"]["jobs"]
    assert listed[0]["progress"]["done"] == done_while_paused and listed[0]["status"] == "running"
    assert backend.reply(backend.send("job.resume", job_id=job_id))["result"]["paused"] is False
    assert backend.event("job.finished", job_id=job_id)["data"]["status"] == "ok"
    missing = backend.reply(backend.send("job.pause", job_id="job-99"))
    assert missing["error"]["code"] == "not_found"
