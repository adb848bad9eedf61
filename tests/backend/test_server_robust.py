"""No single request stops the real backend: each bad line gets one error, with its id."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backend.backend_proc import BackendProcess

MAX_LINE_BYTES = 8 * 1024 * 1024  # the limit docs/protocol.md states


@pytest.fixture
def backend() -> Iterator[BackendProcess]:
    proc = BackendProcess()
    assert proc.next()["type"] == "hello"
    yield proc
    proc.close()


def _reply_to(backend: BackendProcess, line: str | bytes, rid: str | None) -> dict[str, Any]:
    backend.send_raw(line) if isinstance(line, str) else _send_bytes(backend, line)
    return backend.reply(rid, timeout=15)  # type: ignore[arg-type]


def _send_bytes(backend: BackendProcess, data: bytes) -> None:
    assert backend.proc.stdin is not None
    backend.proc.stdin.write(data)
    backend.proc.stdin.flush()


def _still_serving(backend: BackendProcess) -> None:
    pong = backend.reply(backend.send("ping", echo="after"), timeout=15)
    assert pong["result"] == {"pong": True, "echo": "after"}
    assert backend.proc.poll() is None


def _replies_with_id(backend: BackendProcess, rid: str) -> int:
    return sum(1 for raw in backend.raw
               if (m := json.loads(raw))["type"] in ("result", "error") and m.get("id") == rid)


def test_lone_surrogate_is_answered_and_a_running_job_survives(backend: BackendProcess) -> None:
    job = backend.reply(backend.send("job.start", kind="sleep",
                                     args={"seconds": 20, "steps": 200}))["result"]["job_id"]
    echoed = _reply_to(backend, '{"id": "s1", "cmd": "ping", "args": {"echo": "\\ud800"}}\n',
                       "s1")
    assert echoed["result"]["echo"] == "\ud800"  # the same text back, as a \u escape
    assert any(b'"echo":"\\ud800"' in raw for raw in backend.raw)  # ASCII on the wire
    refused = _reply_to(backend, '{"id": "s2", "cmd": "job.start", "args": {"kind": '
                                 '"\\udcff"}}\n', "s2")
    assert refused["error"]["code"] == "unknown_command"
    assert "'\\udcff'" in refused["error"]["message"]
    _still_serving(backend)
    jobs = backend.reply(backend.send("jobs.list"))["result"]["jobs"]
    assert [j["status"] for j in jobs if j["job_id"] == job] == ["running"]
    backend.reply(backend.send("job.cancel", job_id=job))


def test_deep_nesting_is_refused_with_its_id_and_stdin_still_stops_the_server(
        backend: BackendProcess) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    err = _reply_to(backend, f'{{"id": "d1", "cmd": "ping", "args": {{"echo": {deep}}}}}\n',
                    "d1")["error"]
    assert err == {"code": "parse_error",
                   "message": "could not read the line: nested more than 64 levels deep",
                   "details": err["details"]}
    assert err["details"]["line"].startswith('{"id": "d1", "cmd": "ping"')
    # deep enough to refuse, shallow enough for json to read: same answer
    mid = "[" * 100 + "]" * 100
    err = _reply_to(backend, f'{{"id": "d2", "cmd": "ping", "args": {{"echo": {mid}}}}}\n',
                    "d2")["error"]
    assert err["code"] == "parse_error" and "nested more than 64" in err["message"]
    _still_serving(backend)
    assert backend.proc.stdin is not None
    backend.proc.stdin.close()
    assert backend.proc.wait(timeout=10) == 0


@pytest.mark.parametrize(
    ("line", "rid", "message"),
    [
        ('{"id": "c1", "cmd": 5}', "c1",
         "not a valid request: 'cmd' must be a non-empty string (got a number)"),
        ('{"id": "c2"}', "c2", "not a valid request: 'cmd' must be a non-empty string (missing)"),
        ('{"id": 42, "cmd": "ping", "args": [1, 2]}', "42",
         "not a valid request: 'args' must be an object, not an array"),
        ('{"id": "c3", "cmd": "ping", "type": "result"}', "c3",
         "not a valid request: the backend only accepts requests, this line's 'type' is "
         "'result'"),
    ],
)
def test_a_bad_cmd_or_args_gets_its_own_id_back(backend: BackendProcess, line: str, rid: str,
                                                message: str) -> None:
    err = _reply_to(backend, line + "\n", rid)["error"]
    assert err["code"] == "invalid_request"
    assert err["message"] == message
    assert err["details"] == {"line": line}
    _still_serving(backend)
    assert _replies_with_id(backend, rid) == 1


@pytest.mark.parametrize(
    ("line", "code", "message"),
    [
        ('{"id": 1.5, "cmd": "ping"}', "invalid_request",
         "not a valid request: 'id' must be a string or an integer, not a number"),
        ('{"id": [1], "cmd": "ping"}', "invalid_request",
         "not a valid request: 'id' must be a string or an integer, not an array"),
        ('{"cmd": "ping"}', "invalid_request", "not a valid request: a request needs an 'id'"),
        ("[1, 2]", "invalid_request", "not a valid request: not a JSON object but an array"),
        ("null", "invalid_request", "not a valid request: not a JSON object but null"),
        ("{oops", "parse_error", "could not read the line: not JSON: Expecting property name "
                                 "enclosed in double quotes: line 1 column 2 (char 1)"),
    ],
)
def test_lines_without_a_readable_id_get_an_error_with_null_id(
        backend: BackendProcess, line: str, code: str, message: str) -> None:
    err = _reply_to(backend, line + "\n", None)["error"]
    assert (err["code"], err["message"]) == (code, message)
    _still_serving(backend)


def test_invalid_utf8_is_refused_with_its_id(backend: BackendProcess) -> None:
    line = b'{"id": "u1", "cmd": "ping", "args": {"echo": "\xff\xfe"}}\n'
    err = _reply_to(backend, line, "u1")["error"]
    assert err["code"] == "parse_error"
    assert err["message"] == (f"could not read the line: not UTF-8: byte 0xff at offset "
                              f"{line.index(0xff)} (lines must be UTF-8 text)")
    err = _reply_to(backend, b"\xc3\x28garbage\n", None)["error"]
    assert err["code"] == "parse_error" and "not UTF-8: byte 0xc3 at offset 0" in err["message"]
    _still_serving(backend)


def test_a_huge_line_is_refused_with_its_id_and_the_next_line_is_read(
        backend: BackendProcess) -> None:
    echo = "x" * (MAX_LINE_BYTES + 1000)
    line = json.dumps({"id": "big", "cmd": "ping", "args": {"echo": echo}}) + "\n"
    err = _reply_to(backend, line + '{"id": "next", "cmd": "ping"}\n', "big")["error"]
    assert err["code"] == "parse_error"
    assert err["message"] == "could not read the line: longer than 8 MiB"
    assert len(err["details"]["line"]) == 200
    assert backend.reply("next")["result"]["pong"] is True
    # just under the limit is read as usual
    fits = "y" * (MAX_LINE_BYTES - 200)
    ok = _reply_to(backend, json.dumps({"id": "fits", "cmd": "ping",
                                        "args": {"echo": fits}}) + "\n", "fits")
    assert ok["result"]["echo"] == fits
    _still_serving(backend)


def test_a_broken_stdout_pipe_still_stops_the_server(repo_root: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "backend", "serve"], cwd=repo_root,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stdin is not None
    assert json.loads(proc.stdout.readline())["type"] == "hello"
    proc.stdout.close()  # the desktop went away; stdin stays open
    try:
        proc.stdin.write(b'{"id": "1", "cmd": "job.start", "args": {"kind": "sleep", '
                         b'"args": {"seconds": 30, "steps": 300}}}\n')
        proc.stdin.flush()
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# in-process: faults that no request can cause ------------------------------------

def _server() -> tuple[Any, io.BytesIO]:
    from backend.server import Server

    out = io.BytesIO()
    return Server(out), out


def _written(out: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_reply_json_cannot_hold_becomes_an_error_with_its_id(
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, out = _server()
    monkeypatch.setitem(server._builtin, "test.path", lambda a, _rid: {"path": Path("/x")})
    server.dispatch_line(b'{"id": "e1", "cmd": "test.path"}\n')
    server.emit("test.event", {"value": object()})  # dropped (and logged), never raised
    server.dispatch_line(b'{"id": "e2", "cmd": "ping"}\n')
    first, second = _written(out)
    assert first["id"] == "e1" and first["error"]["code"] == "internal_error"
    assert first["error"]["message"] == (
        "the reply could not be written as JSON (TypeError: Object of type PosixPath is not "
        "JSON serializable); this is a bug in the backend")
    assert second == {"type": "result", "id": "e2", "result": {"pong": True, "echo": None}}
    assert not server.stopping  # an encoding problem is not a closed pipe


def test_the_reader_survives_an_exception_while_dispatching(
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, out = _server()

    def broken(req: Any) -> None:
        raise RuntimeError("dispatch bug")

    monkeypatch.setattr(server, "handle", broken)
    server.dispatch_line(b'{"id": "x1", "cmd": "ping"}\n')
    monkeypatch.undo()
    server.dispatch_line(b'{"id": "x2", "cmd": "ping"}\n')
    first, second = _written(out)
    assert first["id"] == "x1" and first["error"] == {
        "code": "internal_error", "message": "the backend could not answer the line: dispatch bug"}
    assert second["id"] == "x2" and second["result"]["pong"] is True
    assert not server.stopping


def test_serve_help_prints_help_without_building_every_verb(repo_root: Path) -> None:
    code = ("import sys\nfrom backend.__main__ import main\n"
            "try:\n    main(['serve', '--help'])\nexcept SystemExit as exc:\n"
            "    print('exit', exc.code, 'backend.jobs.prepare' in sys.modules)\n")
    started = time.monotonic()
    res = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True,
                         text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert res.stdout.startswith("usage: python -m backend serve [-h] [--log-file LOG_FILE]")
    assert "--log-file" in res.stdout and '"type"' not in res.stdout  # help, not a hello
    assert res.stdout.rstrip().endswith("exit 0 False")
    assert time.monotonic() - started < 20
    bad = subprocess.run([sys.executable, "-m", "backend", "serve", "--no-such-option"],
                         cwd=repo_root, capture_output=True, text=True, timeout=30,
                         stdin=subprocess.DEVNULL)
    assert bad.returncode == 2 and "unrecognized arguments: --no-such-option" in bad.stderr


def test_a_failing_write_that_is_not_a_closed_pipe_does_not_stop_the_server() -> None:
    from backend.server import Server

    class Flaky(io.BytesIO):
        fail = True

        def write(self, data: Any) -> int:
            if Flaky.fail:
                Flaky.fail = False
                raise RuntimeError("odd stream")
            return super().write(data)

    out = Flaky()
    server = Server(out)
    server.dispatch_line(b'{"id": "w1", "cmd": "ping"}\n')  # lost, logged, no exception
    server.dispatch_line(b'{"id": "w2", "cmd": "ping"}\n')
    assert [m["id"] for m in _written(out) if m["type"] == "result"] == ["w2"]
    assert not server.stopping
    out.close()
    server.dispatch_line(b'{"id": "w3", "cmd": "ping"}\n')  # a closed stream: we are done
    assert server.stopping
