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
    ("line", "reason"),
    [
        ("not json at all", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"type": "bogus"}', "unknown message type"),
        ('{"cmd": "ping"}', "needs an 'id'"),
        ('{"id": 1, "cmd": ""}', "'cmd' must be a non-empty string"),
        ('{"id": 1, "cmd": "x", "args": [1]}', "'args' must be an object"),
        ('{"id": true, "cmd": "x"}', "'id' must be a string"),
        ('{"type": "event", "data": {}}', "'event' must be"),
        ('{"type": "hello", "protocol": "one"}', "'protocol' must be an integer"),
        (b"\xff\xfe{", "not JSON"),
    ],
)
def test_bad_lines_become_unparsed_with_a_reason(line: str | bytes, reason: str) -> None:
    msg = p.parse_line(line)
    assert isinstance(msg, p.Unparsed)
    assert reason in msg.reason


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
    assert names <= {"__future__", "json", "dataclasses", "typing", "collections"}
