"""The protocol module: every line becomes a typed message; bad lines never raise."""

from __future__ import annotations

import json

import pytest

from backend import protocol as p


def test_request_round_trip_keeps_non_ascii() -> None:
    req = p.request("7", "project.open", path="/tmp/my voice – Ωmega 声")
    line = p.encode(req)
    assert line.endswith("\n") and line.count("\n") == 1
    assert "声" in line  # not escaped: readable logs
    assert p.parse_line(line) == req


@pytest.mark.parametrize(
    "msg",
    [
        p.Hello(protocol=1, backend="0.1.0", torch="2.13.0", devices=[{"id": "cpu"}], pid=3),
        p.Result(id="1", result={"pong": True}),
        p.Error(id="2", code=p.E_BAD_ARGS, message="bad", details={"arg": "x"}),
        p.Error(id=None, code=p.E_PARSE, message="garbage"),
        p.Event(event="job.progress", data={"job_id": "job-1", "done": 1, "total": 2}),
    ],
)
def test_every_message_type_round_trips(msg: p.Message) -> None:
    assert p.parse_line(p.encode(msg)) == msg


def test_integer_ids_become_strings() -> None:
    msg = p.parse_line('{"id": 5, "cmd": "ping"}')
    assert isinstance(msg, p.Request) and msg.id == "5" and msg.args == {}


@pytest.mark.parametrize(
    ("line", "reason", "code", "msg_id"),
    [
        ("not json at all", "not JSON", p.E_PARSE, None),
        ('{"id": "7", "cmd": "ping",}', "not JSON", p.E_PARSE, "7"),
        ('{"id": 12, "cmd": "ping"', "not JSON", p.E_PARSE, "12"),
        ('{"args": {"id": "inner"}, "id": "outer", "cmd": "x"', "not JSON", p.E_PARSE, "outer"),
        ('{"id": "7', "not JSON", p.E_PARSE, None),
        ("[1, 2]", "not a JSON object but an array", p.E_INVALID, None),
        ('"a string"', "not a JSON object but a string", p.E_INVALID, None),
        ('{"type": "bogus", "id": "3"}', "unknown message type", p.E_INVALID, "3"),
        ('{"cmd": "ping"}', "needs an 'id'", p.E_INVALID, None),
        ('{"id": 1, "cmd": ""}', "'cmd' must be a non-empty string", p.E_INVALID, "1"),
        ('{"id": "a", "cmd": 5}', "'cmd' must be a non-empty string (got a number)",
         p.E_INVALID, "a"),
        ('{"id": "b"}', "'cmd' must be a non-empty string (missing)", p.E_INVALID, "b"),
        ('{"id": 1, "cmd": "x", "args": [1]}', "'args' must be an object, not an array",
         p.E_INVALID, "1"),
        ('{"id": true, "cmd": "x"}', "'id' must be a string or an integer, not a boolean",
         p.E_INVALID, None),
        ('{"id": 1.5, "cmd": "x"}', "'id' must be a string or an integer, not a number",
         p.E_INVALID, None),
        ('{"type": "event", "data": {}}', "'event' must be", p.E_INVALID, None),
        ('{"type": "hello", "protocol": "one"}', "'protocol' must be an integer",
         p.E_INVALID, None),
        (b"\xff\xfe{", "not UTF-8: byte 0xff at offset 0", p.E_PARSE, None),
        (b'{"id": "u", "cmd": "ping", "args": {"echo": "\xc3"}}', "not UTF-8", p.E_PARSE, "u"),
    ],
)
def test_bad_lines_become_unparsed_with_a_reason_code_and_id(
        line: str | bytes, reason: str, code: str, msg_id: str | None) -> None:
    msg = p.parse_line(line)
    assert isinstance(msg, p.Unparsed)
    assert reason in msg.reason
    assert (msg.code, msg.id) == (code, msg_id)


def test_the_backend_reads_only_requests_and_keeps_their_id() -> None:
    assert p.parse_request('{"id": 4, "cmd": "ping"}') == p.Request("4", "ping")
    for kind in ("result", "hello", "event", "error", "bogus"):
        msg = p.parse_request(json.dumps({"type": kind, "id": "r9", "result": {}}))
        assert isinstance(msg, p.Unparsed) and (msg.code, msg.id) == (p.E_INVALID, "r9")
        assert f"the backend only accepts requests, this line's 'type' is '{kind}'" in msg.reason
    bad = p.parse_request('{"id": "r1", "cmd": "ping", "args": 3}')
    assert isinstance(bad, p.Unparsed) and (bad.code, bad.id) == (p.E_INVALID, "r1")


@pytest.mark.parametrize("depth", [p.MAX_DEPTH, p.MAX_DEPTH + 1, 900, 100_000])
def test_nesting_is_limited_without_recursion(depth: int) -> None:
    # the request object itself and "args" are two levels
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    line = f'{{"id": "deep", "cmd": "ping", "args": {{"echo": {inner}}}}}'
    msg = p.parse_request(line)
    if depth <= p.MAX_DEPTH:
        assert isinstance(msg, p.Request)
        return
    assert isinstance(msg, p.Unparsed) and (msg.code, msg.id) == (p.E_PARSE, "deep")
    assert msg.reason == f"nested more than {p.MAX_DEPTH} levels deep"


def test_a_too_long_line_is_a_parse_error_with_its_id() -> None:
    head = b'{"id": "long", "cmd": "ping", "args": {"echo": "' + b"x" * 100_000
    msg = p.oversized_line(head)
    assert (msg.code, msg.id) == (p.E_PARSE, "long")
    assert msg.reason == "longer than 8 MiB" and p.MAX_LINE_BYTES == 8 * 1024 * 1024


@pytest.mark.parametrize("text", ["\ud800", "a\udfffb", "file-\udcff.wav", "ok – 声"])
def test_encoded_lines_are_always_utf8_and_round_trip(text: str) -> None:
    for msg in (p.Result(id=text, result={"echo": text}),
                p.Error(id="1", code=p.E_NOT_FOUND, message=f"no file {text!r}"),
                p.Event(event="log", data={"message": text})):
        line = p.encode(msg)
        line.encode("utf-8")  # never raises
        assert p.parse_line(line) == msg
    assert "声" in p.encode(p.Result(id="1", result={"echo": "ok – 声"}))  # kept readable


def test_encoded_lines_are_single_json_objects() -> None:
    ev = p.Event(event="log", data={"message": "line one\nline two"})
    line = p.encode(ev)
    assert line.count("\n") == 1
    assert json.loads(line)["data"]["message"] == "line one\nline two"


def test_protocol_module_is_standard_library_only() -> None:
    import ast
    from pathlib import Path

    import backend.protocol as mod

    tree = ast.parse(Path(mod.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    assert names <= {"__future__", "json", "re", "dataclasses", "typing", "collections"}
