"""RequestBook: the client's request bookkeeping, without Qt (JobBook: test_job_handle.py)."""

from __future__ import annotations

from backend.protocol import E_UNKNOWN_COMMAND, Error, Result
from desktop.components.request_book import InFlight, RequestBook


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_ids_are_unique_across_prefixes_and_args_are_copied() -> None:
    book = RequestBook()
    args = {"path": "a b ü.wav"}
    req = book.add("audio.analyze", args, None, None)
    args["path"] = "changed"
    assert req.id == "d1" and req.args == {"path": "a b ü.wav"}
    assert book.new_id("s") == "s2"
    assert book.add("x", None, None, None).id == "d3"
    assert book.is_pending("d1") and book.is_pending("d3") and not book.is_pending("s2")


def test_queue_pop_and_prune() -> None:
    book = RequestBook()
    a = book.add("a", {}, None, None)
    b = book.add("b", {}, None, None)
    book.queue += [a, b]
    assert book.pop(a.id).cmd == "a"
    assert book.pop(a.id) is None  # exactly one answer
    book.prune_queue()
    assert book.queue == [b]
    assert book.take_queue() == [b] and book.queue == []


def test_sent_flag_and_snapshot() -> None:
    book = RequestBook()
    a = book.add("a", {}, None, None)
    b = book.add("b", {}, None, None)
    book.mark_sent(b.id)
    book.mark_sent("unknown")  # ignored
    assert [(rid, p.sent) for rid, p in book.snapshot()] == [(a.id, False), (b.id, True)]


def test_unknown_command_before_ready_is_retried_until_the_wait_runs_out() -> None:
    clock = Clock()
    book = RequestBook(clock=clock, ready_wait_s=15.0)
    req = book.add("project.open", {"path": "p"}, None, None)
    unknown = Error(id=req.id, code=E_UNKNOWN_COMMAND, message="no such command")
    assert book.should_retry(unknown)
    assert book.waiting(req.id) is req
    clock.now += 10.0
    assert book.should_retry(unknown)  # still within 15 s of the first try
    clock.now += 6.0
    assert not book.should_retry(unknown)  # gave up: the caller gets the error
    assert book.waiting(req.id) is None


def test_no_retry_after_ready_for_other_errors_results_or_unknown_ids() -> None:
    book = RequestBook()
    req = book.add("a", {}, None, None)
    assert not book.should_retry(Result(id=req.id, result={}))
    assert not book.should_retry(Error(id=req.id, code="bad_arguments", message="m"))
    assert not book.should_retry(Error(id="d99", code=E_UNKNOWN_COMMAND, message="m"))
    book.backend_ready = True
    assert not book.should_retry(Error(id=req.id, code=E_UNKNOWN_COMMAND, message="m"))


def test_answer_or_launch_forgets_the_retry() -> None:
    book = RequestBook()
    req = book.add("a", {}, None, None)
    assert book.should_retry(Error(id=req.id, code=E_UNKNOWN_COMMAND, message="m"))
    book.pop(req.id)
    assert book.waiting(req.id) is None
    req2 = book.add("b", {}, None, None)
    assert book.should_retry(Error(id=req2.id, code=E_UNKNOWN_COMMAND, message="m"))
    book.backend_ready = True
    book.on_launch()
    assert not book.backend_ready and book.waiting(req2.id) is None


def test_in_flight_asks_a_query_once_until_it_is_answered() -> None:
    asked: list[tuple] = []
    done: list[dict] = []
    failed: list[Error] = []
    queries = InFlight()

    def send(ok, err) -> None:
        asked.append((ok, err))

    assert queries.ask("train.runs", send, done.append, failed.append)
    assert not queries.ask("train.runs", send, done.append, failed.append)  # on its way
    assert queries.ask("train.suggest", send, done.append, failed.append)  # another query
    assert len(asked) == 2 and "train.runs" in queries
    asked[0][0]({"runs": []})
    assert done == [{"runs": []}] and "train.runs" not in queries
    assert queries.ask("train.runs", send, done.append, failed.append)  # answered: ask again
    asked[1][1](Error("d2", "internal", "boom"))
    assert [e.message for e in failed] == ["boom"] and "train.suggest" not in queries
