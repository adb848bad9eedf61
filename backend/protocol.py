"""Timbre Studio backend protocol: JSON Lines over stdin/stdout.

Standard library only: the desktop imports this module too. Every line is one
JSON object with a ``type``. Requests flow to the backend; ``hello``,
``result``, ``error`` and ``event`` flow back. See ``docs/protocol.md``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = 1

# Error codes (the ``code`` of an ``error`` message or of a failed job).
E_PARSE = "parse_error"
E_INVALID = "invalid_request"
E_UNKNOWN_COMMAND = "unknown_command"
E_BAD_ARGS = "bad_arguments"
E_NOT_FOUND = "not_found"
E_BUSY = "busy"
E_IO = "io_error"  # a folder or disk that cannot be written (read-only, full)
E_INTERNAL = "internal_error"
E_CANCELLED = "cancelled"
E_UNAVAILABLE = "unavailable"

# Job states reported by ``job.finished`` and ``jobs.list``.
JOB_RUNNING = "running"
JOB_OK = "ok"
JOB_FAILED = "failed"
JOB_CANCELLED = "cancelled"

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """A command sent to the backend. ``id`` is echoed in the reply."""

    id: str
    cmd: str
    args: JsonDict = field(default_factory=dict)


@dataclass(frozen=True)
class Hello:
    protocol: int
    backend: str
    torch: str | None
    devices: list[JsonDict]
    pid: int = 0


@dataclass(frozen=True)
class Result:
    id: str
    result: JsonDict


@dataclass(frozen=True)
class Error:
    id: str | None
    code: str
    message: str
    details: JsonDict = field(default_factory=dict)


@dataclass(frozen=True)
class Event:
    event: str
    data: JsonDict = field(default_factory=dict)


@dataclass(frozen=True)
class Unparsed:
    """A line that is not a valid message; the receiver logs it."""

    line: str
    reason: str


Message = Request | Hello | Result | Error | Event | Unparsed


class ProtocolError(ValueError):
    """A line that parses as JSON but is not a valid message."""

    def __init__(self, code: str, message: str, msg_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.msg_id = msg_id


def _id_of(obj: JsonDict) -> str | None:
    raw = obj.get("id")
    if raw is None:
        return None
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        return str(raw)
    raise ProtocolError(E_INVALID, "'id' must be a string or an integer")


def _dict_field(obj: JsonDict, name: str) -> JsonDict:
    value = obj.get(name, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(E_INVALID, f"'{name}' must be an object", _id_of(obj))
    return value


def _str_field(obj: JsonDict, name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise ProtocolError(E_INVALID, f"'{name}' must be a non-empty string", _id_of(obj))
    return value


def _parse_request(obj: JsonDict) -> Request:
    msg_id = _id_of(obj)
    if msg_id is None:
        raise ProtocolError(E_INVALID, "a request needs an 'id'")
    return Request(id=msg_id, cmd=_str_field(obj, "cmd"), args=_dict_field(obj, "args"))


def _parse_hello(obj: JsonDict) -> Hello:
    protocol = obj.get("protocol")
    if not isinstance(protocol, int):
        raise ProtocolError(E_INVALID, "'protocol' must be an integer")
    devices = obj.get("devices", [])
    if not isinstance(devices, list):
        raise ProtocolError(E_INVALID, "'devices' must be a list")
    torch = obj.get("torch")
    pid = obj.get("pid", 0)
    return Hello(
        protocol=protocol,
        backend=str(obj.get("backend", "")),
        torch=torch if isinstance(torch, str) else None,
        devices=[d for d in devices if isinstance(d, dict)],
        pid=pid if isinstance(pid, int) else 0,
    )


def _parse_result(obj: JsonDict) -> Result:
    msg_id = _id_of(obj)
    if msg_id is None:
        raise ProtocolError(E_INVALID, "a result needs an 'id'")
    return Result(id=msg_id, result=_dict_field(obj, "result"))


def _parse_error(obj: JsonDict) -> Error:
    err = _dict_field(obj, "error")
    details = err.get("details")
    return Error(
        id=_id_of(obj),
        code=str(err.get("code", E_INTERNAL)),
        message=str(err.get("message", "")),
        details=details if isinstance(details, dict) else {},
    )


def _parse_event(obj: JsonDict) -> Event:
    return Event(event=_str_field(obj, "event"), data=_dict_field(obj, "data"))


_PARSERS: dict[str, Callable[[JsonDict], Message]] = {
    "request": _parse_request,
    "hello": _parse_hello,
    "result": _parse_result,
    "error": _parse_error,
    "event": _parse_event,
}


def parse_message(obj: JsonDict) -> Message:
    """Turn a decoded JSON object into a typed message (raises ProtocolError)."""
    kind = obj.get("type", "request" if "cmd" in obj else None)
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise ProtocolError(E_INVALID, f"unknown message type {kind!r}", None)
    return parser(obj)


def parse_line(line: str | bytes) -> Message:
    """Parse one protocol line. Never raises: bad lines become ``Unparsed``."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    text = line.strip()
    try:
        obj = json.loads(text)
    except ValueError as exc:
        return Unparsed(line=text, reason=f"not JSON: {exc}")
    if not isinstance(obj, dict):
        return Unparsed(line=text, reason="not a JSON object")
    try:
        return parse_message(obj)
    except ProtocolError as exc:
        return Unparsed(line=text, reason=exc.message)


def to_dict(msg: Message) -> JsonDict:
    """The JSON object for a typed message."""
    if isinstance(msg, Request):
        return {"type": "request", "id": msg.id, "cmd": msg.cmd, "args": msg.args}
    if isinstance(msg, Hello):
        return {
            "type": "hello",
            "protocol": msg.protocol,
            "backend": msg.backend,
            "torch": msg.torch,
            "devices": msg.devices,
            "pid": msg.pid,
        }
    if isinstance(msg, Result):
        return {"type": "result", "id": msg.id, "result": msg.result}
    if isinstance(msg, Error):
        err: JsonDict = {"code": msg.code, "message": msg.message}
        if msg.details:
            err["details"] = msg.details
        return {"type": "error", "id": msg.id, "error": err}
    if isinstance(msg, Event):
        return {"type": "event", "event": msg.event, "data": msg.data}
    return {"type": "unparsed", "line": msg.line, "reason": msg.reason}


def encode(msg: Message) -> str:
    """One protocol line, newline included. Non-ASCII text is kept as is."""
    return json.dumps(to_dict(msg), ensure_ascii=False, separators=(",", ":")) + "\n"


def request(msg_id: str, cmd: str, **args: Any) -> Request:
    """Convenience constructor used by the desktop client and tests."""
    return Request(id=msg_id, cmd=cmd, args=dict(args))
