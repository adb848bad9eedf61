"""JobHandle and JobBook: one way to follow a job, without Qt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.protocol import Error
from desktop.components.job_handle import JobHandle, fmt_eta
from desktop.components.request_book import JobBook

SESSIONS = Path(__file__).parent / "sessions"


class Seen:
    """What a listener heard: (state, event) pairs."""

    def __init__(self, handle: JobHandle) -> None:
        self.events: list[tuple[str, str]] = []
        handle.subscribe(lambda h, event, _data: self.events.append((h.state, event)))


def _started(job_id: str, request_id: str | None, kind: str = "prepare") -> dict:
    return {"job_id": job_id, "kind": kind, "args": {"project": "/p/ü"},
            "request_id": request_id}


def test_events_before_the_reply_are_the_handles_from_the_first_one() -> None:
    book = JobBook()
    handle = book.requested("d1", "prepare", {"project": "/p/ü"})
    seen = Seen(handle)
    assert handle.state == "requested" and handle.job_id is None and handle.active
    # the backend sends job.started (naming the request) and progress before the reply
    assert book.apply("job.started", _started("job-1", "d1")) is handle
    assert book.apply("job.progress", {"job_id": "job-1", "stage": "slicing", "done": 3,
                                       "total": 10, "eta": 75}) is handle
    assert (handle.state, handle.job_id, handle.stage) == ("running", "job-1", "slicing")
    assert handle.fraction == pytest.approx(0.3) and handle.eta_text() == "1 min 15 s"
    assert book.replied("d1", {"job_id": "job-1", "kind": "prepare"}) is handle
    assert seen.events == [("running", "job.started"), ("running", "job.progress")]
    book.apply("job.progress", {"job_id": "job-1", "stage": "checking", "done": 10,
                                "total": 10, "eta": None})
    book.apply("job.finished", {"job_id": "job-1", "kind": "prepare", "status": "ok",
                                "result": {"slices": 12}, "seconds": 5.1})
    assert (handle.state, handle.result, handle.seconds) == ("ok", {"slices": 12}, 5.1)
    assert handle.finished and not handle.active and handle.fraction == 1.0
    assert handle.eta_text() == "" and handle.error_message == "" and handle.stage == "done"
    assert [e for _s, e in seen.events][-2:] == ["job.progress", "job.finished"]
    assert handle.revision == len(seen.events) == 4
    assert book.handles() == [handle] and book.by_job_id("job-1") is handle


def test_a_reply_without_job_started_binds_the_job_id() -> None:
    """A backend that did not name the request: the reply gives the id; events follow."""
    book = JobBook()
    handle = book.requested("d4", "sleep", {})
    book.replied("d4", {"job_id": "job-2", "kind": "sleep"})
    assert (handle.state, handle.job_id) == ("running", "job-2")
    book.apply("job.progress", {"job_id": "job-2", "done": 1, "total": 2})
    assert handle.done == 1 and handle.total == 2


def test_events_of_unknown_jobs_and_jobs_started_by_others() -> None:
    book = JobBook()
    heard: list[tuple[JobHandle, str]] = []
    book.subscribe(lambda h, event, _data: heard.append((h, event)))
    assert book.apply("job.progress", {"job_id": "job-9", "done": 1}) is None  # never started
    assert book.apply("audio.position", {"t": 1.0}) is None  # not a job's event
    assert book.apply("job.progress", {"stage": "x"}) is None  # no job id
    assert book.handles() == []
    mine = book.requested("d1", "extract", {"project": "/p"})
    other = book.apply("job.started", _started("job-1", None, "assets"))
    stranger = book.apply("job.started", _started("job-2", "d77", "index"))  # not our request
    assert other is not mine and stranger is not mine and mine.state == "requested"
    assert (other.kind, other.state, other.request_id, other.args) == \
        ("assets", "running", None, {"project": "/p/ü"})
    book.apply("job.progress", {"job_id": "job-1", "done": 2, "total": 4})
    assert other.fraction == 0.5 and mine.done == 0
    assert book.handles() == [mine, other, stranger]
    assert [(h.kind, e) for h, e in heard] == [
        ("extract", "requested"), ("assets", "job.started"), ("index", "job.started"),
        ("assets", "job.progress")]


def test_failure_and_refused_start() -> None:
    book = JobBook()
    failed = book.requested("d1", "extract", {})
    book.apply("job.started", _started("job-1", "d1", "extract"))
    details = {"name": "rmvpe", "size": 181184272}
    book.apply("job.finished", {"job_id": "job-1", "kind": "extract", "status": "failed",
                                "error": {"code": "asset_missing", "message": "rmvpe is not "
                                          "installed", "details": details}})
    assert (failed.state, failed.refused, failed.error_code) == ("failed", False, "asset_missing")
    assert failed.error_message == "rmvpe is not installed" and failed.error["details"] == details
    assert failed.stage == "failed"
    assert not book.apply("job.progress", {"job_id": "job-1", "done": 5}).done  # late: ignored

    refused = book.requested("d2", "assets", {"name": "rmvpe"})
    seen = Seen(refused)
    book.refused("d2", Error("d2", "bad_arguments", "cannot import /x ü.pt: no such file"))
    assert (refused.state, refused.refused, refused.job_id) == ("failed", True, None)
    assert refused.error_message == "cannot import /x ü.pt: no such file"
    assert seen.events == [("failed", "refused")]
    assert book.running() == []

    bare = book.requested("d3", "sleep", {})
    book.apply("job.started", _started("job-2", "d3", "sleep"))
    book.apply("job.finished", {"job_id": "job-2", "status": "weird"})
    assert bare.state == "failed" and bare.error_message == "unknown error"


def test_cancel_requested_then_cancelled() -> None:
    book = JobBook()
    handle = book.requested("d1", "extract", {})
    seen = Seen(handle)
    handle.request_cancel()  # before the job id is known: the client sends it later
    handle.request_cancel()  # once
    assert handle.cancel_requested and handle.active
    book.apply("job.started", _started("job-1", "d1", "extract"))
    book.apply("job.finished", {"job_id": "job-1", "kind": "extract", "status": "cancelled"})
    assert handle.state == "cancelled" and handle.error_message == "cancelled"
    assert seen.events == [("requested", "cancel_requested"), ("running", "job.started"),
                           ("cancelled", "job.finished")]
    handle.request_cancel()  # finished: nothing to cancel
    assert len(seen.events) == 3


def test_pause_log_lines_and_training_events() -> None:
    book = JobBook()
    handle = book.requested("d1", "train", {"run": "main"})
    book.apply("job.started", _started("job-1", "d1", "train"))
    book.apply("job.progress", {"job_id": "job-1", "stage": "training", "done": 40,
                                "total": 200, "eta": 30})
    book.apply("job.paused", {"job_id": "job-1", "paused": True})
    assert handle.state == "paused" and handle.active and handle.eta_text() == ""
    book.apply("job.paused", {"job_id": "job-1", "paused": False})
    assert handle.state == "running" and handle.eta_text() == "30 s"
    seen = Seen(handle)
    book.apply("log", {"job_id": "job-1", "level": "warning", "message": "2 keys did not fit"})
    book.apply("log", {"level": "info", "message": "someone else's"})  # no job id
    book.apply("job.metrics", {"job_id": "job-1", "step": 41, "loss_g": 40.0})
    book.apply("train.checkpoint", {"job_id": "job-1", "path": "/r/c.pt", "step": 41})
    assert handle.messages == ["2 keys did not fit"]
    assert [e for _s, e in seen.events] == ["log", "job.metrics", "train.checkpoint"]
    assert handle.done == 40  # metrics are the page's business; the handle passes them on


def test_ids_restart_with_a_new_backend() -> None:
    book = JobBook()
    old = book.requested("d1", "sleep", {})
    book.apply("job.started", _started("job-1", "d1", "sleep"))
    book.apply("job.finished", {"job_id": "job-1", "status": "failed",
                                "error": {"code": "backend_crashed", "message": "crashed"}})
    new = book.requested("d2", "import", {})
    book.apply("job.started", _started("job-1", "d2", "import"))  # the new process's job-1
    book.apply("job.progress", {"job_id": "job-1", "done": 1, "total": 3})
    assert book.by_job_id("job-1") is new and new.done == 1
    assert (old.state, old.kind, old.done) == ("failed", "sleep", 0)


def test_finished_handles_are_bounded_and_cleared() -> None:
    book = JobBook(keep_finished=2)
    for i in range(4):
        book.requested(f"d{i}", "sleep", {})
        book.apply("job.started", _started(f"job-{i}", f"d{i}", "sleep"))
        book.apply("job.finished", {"job_id": f"job-{i}", "status": "ok"})
    running = book.requested("d9", "sleep", {})
    assert [h.job_id for h in book.handles()] == ["job-2", "job-3", None]
    assert book.by_job_id("job-0") is None
    assert [h.job_id for h in book.clear_finished()] == ["job-2", "job-3"]
    assert book.handles() == [running]


def test_a_recorded_sleep_job() -> None:
    """The events the real backend sent for a sleep job (sessions/sleep_job.jsonl)."""
    lines = (SESSIONS / "sleep_job.jsonl").read_text(encoding="utf-8").splitlines()
    msgs = [json.loads(x) for x in lines if x.strip()]
    request = next(m["as"] for m in msgs if m.get("fake") == "await")
    book = JobBook()
    handle = book.requested(request, "sleep", {"seconds": 0.3, "steps": 3})
    states = [(handle.state, handle.done, handle.total, handle.fraction)]
    for m in msgs:
        if m.get("type") == "event":
            book.apply(m["event"], m["data"])
        elif m.get("type") == "result":
            book.replied(m["id"], m["result"])
        else:
            continue
        states.append((handle.state, handle.done, handle.total, handle.fraction))
    assert states[0] == ("requested", 0, 0, None)
    assert states[1] == ("running", 0, 0, None)  # job.started: total unknown yet
    assert ("running", 1, 3, pytest.approx(1 / 3)) in states
    assert states[-1] == ("ok", 3, 3, 1.0)
    assert handle.result == {"steps": 3} and handle.job_id == "job-1"
    assert book.handles() == [handle]


def test_eta_words() -> None:
    assert [fmt_eta(s) for s in (None, -1, 0, 59.4, 75, 3600 + 7 * 60)] == \
        ["", "", "0 s", "59 s", "1 min 15 s", "1 h 07 min"]


def test_a_listener_that_raises_does_not_silence_the_others() -> None:
    handle = JobHandle("sleep", job_id="job-1")
    heard: list[str] = []
    handle.subscribe(lambda *_: 1 / 0)
    handle.subscribe(lambda _h, event, _data: heard.append(event))
    with pytest.raises(ZeroDivisionError):
        handle.apply("job.progress", {"job_id": "job-1", "done": 1, "total": 2})
    assert heard == ["job.progress"] and handle.done == 1


def test_progress_detail_follows_its_stage() -> None:
    """A batch keeps one stage (its ETA covers every file) and names the file in detail."""
    job = JobHandle("convert", job_id="job-1")
    job.apply("job.progress", {"job_id": "job-1", "stage": "converting", "done": 1,
                               "total": 4, "detail": "a.wav"})
    assert (job.stage, job.detail) == ("converting", "a.wav")
    job.apply("job.progress", {"job_id": "job-1", "stage": "converting", "done": 2, "total": 4})
    assert job.detail == "a.wav"  # a line without detail keeps the stage's
    job.apply("job.progress", {"job_id": "job-1", "stage": "writing", "done": 0, "total": 1})
    assert (job.stage, job.detail) == ("writing", "")
