"""Timbre Studio backend protocol: JSON Lines over stdin/stdout.

Standard library only: the desktop imports this module too. Every line is one
JSON object with a ``type``. Requests flow to the backend; ``hello``,
``result``, ``error`` and ``event`` flow back. See ``docs/protocol.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = 2  # 2: job.started carries the job.start request's id

# Limits of what the backend reads: longer or deeper lines get a ``parse_error``.
MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64  # nested objects and arrays, the line's own object included
_ID_SCAN_CHARS = 64 * 1024  # where the id of an unreadable line is looked for

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
E_NOT_A_VOICE_MODEL = "not_a_voice_model"  # readable, but not a voice model: says what it is
E_UNSAFE_FILE = "unsafe_file"  # a model file that names code to run; never loaded

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
    """A line that is not a valid message; the receiver logs it or answers it.

    ``code`` is ``parse_error`` when the line could not be read as JSON and
    ``invalid_request`` when it is JSON but not a valid message; ``id`` is the
    line's id when one could be read, so that the error can carry it.
    """

    line: str
    reason: str
    code: str = E_PARSE
    id: str | None = None


Message = Request | Hello | Result | Error | Event | Unparsed


class ProtocolError(ValueError):
    """A line that parses as JSON but is not a valid message."""

    def __init__(self, code: str, message: str, msg_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.msg_id = msg_id


def _valid_id(raw: Any) -> str | None:
    if isinstance(raw, (str, int)) and not isinstance(raw, bool):
        return str(raw)
    return None


def _id_of(obj: JsonDict) -> str | None:
    raw = obj.get("id")
    if raw is None:
        return None
    msg_id = _valid_id(raw)
    if msg_id is None:
        raise ProtocolError(E_INVALID, "'id' must be a string or an integer, "
                                       f"not {_json_kind(raw)}")
    return msg_id


def _json_kind(value: Any) -> str:
    """How a decoded JSON value is named in messages ("an array", "a number"...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _dict_field(obj: JsonDict, name: str) -> JsonDict:
    value = obj.get(name, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ProtocolError(E_INVALID, f"'{name}' must be an object, not {_json_kind(value)}",
                            _valid_id(obj.get("id")))
    return value


def _str_field(obj: JsonDict, name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        got = "missing" if name not in obj else f"got {_json_kind(value)}"
        raise ProtocolError(E_INVALID, f"'{name}' must be a non-empty string ({got})",
                            _valid_id(obj.get("id")))
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
    kind = obj.get("type", "request")
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise ProtocolError(E_INVALID, f"unknown message type {kind!r}", _valid_id(obj.get("id")))
    return parser(obj)


def parse_line(line: str | bytes) -> Message:
    """Parse one protocol line. Never raises: bad lines become ``Unparsed``.

    Bytes must be UTF-8. A line that is not UTF-8, not JSON or nested deeper
    than ``MAX_DEPTH`` is a ``parse_error``; JSON that is not a valid message
    is an ``invalid_request``. Either carries the line's id when it can be read.
    """
    decoded = _decode(line)
    if isinstance(decoded, Unparsed):
        return decoded
    text, obj = decoded
    try:
        return parse_message(obj)
    except ProtocolError as exc:
        return Unparsed(text, exc.message, exc.code, exc.msg_id)


def parse_request(line: str | bytes) -> Request | Unparsed:
    """What the backend reads: a request, or ``Unparsed`` (with the id when readable)."""
    decoded = _decode(line)
    if isinstance(decoded, Unparsed):
        return decoded
    text, obj = decoded
    if _SURROGATE_ESCAPE.search(text) and _holds_lone_surrogate(obj):
        return Unparsed(text, "a string holds a lone UTF-16 surrogate (such as \\ud800), "
                              "which is not text; send UTF-8 text", E_INVALID,
                        _valid_id(obj.get("id")))
    kind = obj.get("type", "request")
    if kind != "request":
        return Unparsed(text, f"the backend only accepts requests, this line's 'type' is "
                              f"{kind!r}", E_INVALID, _valid_id(obj.get("id")))
    try:
        return _parse_request(obj)
    except ProtocolError as exc:
        return Unparsed(text, exc.message, exc.code, exc.msg_id)


def _decode(line: str | bytes) -> tuple[str, JsonDict] | Unparsed:
    """The line's text and JSON object, or why it is not one."""
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            return _unreadable(line.decode("utf-8", errors="replace").strip(),
                               f"not UTF-8: byte 0x{line[exc.start]:02x} at offset {exc.start} "
                               "(lines must be UTF-8 text)")
    else:
        text = line.strip()
    try:
        obj = json.loads(text)
    except RecursionError:
        return _unreadable(text, f"nested more than {MAX_DEPTH} levels deep")
    except ValueError as exc:
        return _unreadable(text, f"not JSON: {exc}")
    if _too_deep(text, obj):
        msg_id = _valid_id(obj.get("id")) if isinstance(obj, dict) else None
        return Unparsed(text, f"nested more than {MAX_DEPTH} levels deep", E_PARSE, msg_id)
    if not isinstance(obj, dict):
        return Unparsed(text, f"not a JSON object but {_json_kind(obj)}", E_INVALID)
    return text, obj


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _holds_lone_surrogate(obj: Any) -> bool:
    """Whether a decoded JSON value holds a surrogate that no pair completed (json.loads
    joins the pairs, so what is left cannot be written as UTF-8)."""
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def oversized_line(head: bytes) -> Unparsed:
    """The ``parse_error`` for a line longer than ``MAX_LINE_BYTES`` (``head``: its start)."""
    text = head[:_ID_SCAN_CHARS].decode("utf-8", errors="replace").lstrip()
    return _unreadable(text, f"longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")


def _unreadable(text: str, reason: str) -> Unparsed:
    return Unparsed(text, reason, E_PARSE, _salvage_id(text))


def _too_deep(text: str, obj: Any) -> bool:
    """Whether ``obj`` nests more than ``MAX_DEPTH`` containers (checked without recursion)."""
    if not isinstance(obj, (dict, list)) or text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


# a JSON string (or an unterminated one, to the end of the text), or a bracket
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.S)
_ID_VALUE = re.compile(r'\s*:\s*(?=["\-0-9])')


def _salvage_id(text: str) -> str | None:
    """The top-level ``"id"`` of a line that could not be read as a whole, if it has one.

    Looks at the first ``_ID_SCAN_CHARS`` characters only, skipping strings
    and anything nested, so that a broken, truncated or too deep request
    still gets an error carrying its id.
    """
    head = text[:_ID_SCAN_CHARS]
    if not head.startswith("{"):
        return None
    depth = 0
    for match in _TOKEN.finditer(head):
        token = match.group()
        if token in ("{", "["):
            depth += 1
        elif token in ("}", "]"):
            depth -= 1
        elif depth == 1 and token == '"id"':
            value = _ID_VALUE.match(head, match.end())
            if value is not None:
                try:
                    raw, _ = _DECODER.raw_decode(head, value.end())
                except ValueError:
                    return None
                return _valid_id(raw)
    return None


_DECODER = json.JSONDecoder()


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
    """One protocol line, newline included, always encodable as UTF-8.

    Non-ASCII text is kept as is. Text that UTF-8 cannot hold (a lone
    surrogate such as ``"\\ud800"``, or a Linux file name that is not UTF-8,
    which Python holds as surrogate escapes) makes the whole line ASCII with
    ``\\u`` escapes instead, so the reader gets exactly the same text back.
    Raises TypeError, ValueError or RecursionError when ``msg`` holds
    something JSON cannot represent.
    """
    obj = to_dict(msg)
    line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
    return line + "\n"


def request(msg_id: str, cmd: str, **args: Any) -> Request:
    """Convenience constructor used by the desktop client and tests."""
    return Request(id=msg_id, cmd=cmd, args=dict(args))
