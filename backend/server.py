"""``python -m backend serve``: the JSON Lines server the desktop talks to.

stdout carries protocol lines only: at start the real stdout is duplicated for
the protocol and file descriptor 1 is pointed at stderr, so a library that
prints cannot corrupt the stream.

No request can stop the server: every line gets an answer (an ``error`` when
it cannot be read), the reader survives any exception, and every reply can be
written. Only the desktop going away (stdin closed, or stdout a broken pipe)
or ``shutdown`` ends it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any

from backend import __version__, devices
from backend.commands import COMMANDS, load_all
from backend.jobs.manager import JobManager
from backend.kernel import JobError
from backend.protocol import (
    E_BAD_ARGS,
    E_INTERNAL,
    E_PARSE,
    E_UNKNOWN_COMMAND,
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    Error,
    Event,
    Hello,
    Message,
    Request,
    Result,
    Unparsed,
    encode,
    oversized_line,
    parse_request,
)

log = logging.getLogger("backend.server")


class Server:
    def __init__(self, out: IO[bytes]):
        self._out = out
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cmd")
        self.jobs = JobManager(self.emit)
        self.state: dict[str, Any] = {}  # shared objects of command modules (audio player...)
        self._commands_loaded = threading.Event()
        # built-in handlers take (args, request id); job.started carries the id
        self._builtin = {
            "ping": lambda a, _rid: self._cmd_ping(a),
            "shutdown": lambda a, _rid: self._cmd_shutdown(a),
            "job.start": lambda a, rid: self.jobs.start(a, request_id=rid),
            "job.cancel": lambda a, _rid: self.jobs.cancel(a),
            "job.pause": lambda a, _rid: self.jobs.set_paused(a, True),
            "job.resume": lambda a, _rid: self.jobs.set_paused(a, False),
            "job.control": lambda a, _rid: self.jobs.control(a),
            "jobs.list": lambda a, _rid: {"jobs": self.jobs.list()},
        }

    @property
    def stopping(self) -> bool:
        """Set by ``shutdown`` or when the desktop went away (stdin closed, broken pipe)."""
        return self._stop.is_set()

    # output -------------------------------------------------------------
    def send(self, msg: Message) -> None:
        """Write one line; never raises. Only a closed pipe (the desktop went away) stops us."""
        data = self._encoded(msg)
        if data is None:
            return
        failure = None
        with self._write_lock:
            try:
                self._out.write(data)
                self._out.flush()
            except (OSError, ValueError):  # a broken pipe, or the stream is closed
                self._stop.set()
            except Exception:
                failure = traceback.format_exc()
        if failure is not None:  # logged outside the lock: the log handler sends too
            log.error("could not write a %s message\n%s", type(msg).__name__, failure)

    def _encoded(self, msg: Message) -> bytes | None:
        """The line's bytes; a reply JSON cannot hold becomes an error with the same id."""
        try:
            return encode(msg).encode("utf-8")
        except Exception as exc:  # a handler returned a value JSON cannot represent
            what = f"{type(exc).__name__}: {str(exc)[:200]}"
            log.error("could not encode a %s message (%s)", type(msg).__name__, what)
            if not isinstance(msg, (Result, Error)):
                return None
            return encode(Error(msg.id, E_INTERNAL, f"the reply could not be written as JSON "
                                                    f"({what}); this is a bug in the backend")
                          ).encode("utf-8")

    def emit(self, event: str, data: dict) -> None:
        self.send(Event(event=event, data=data))

    # commands -----------------------------------------------------------
    def _cmd_ping(self, args: dict) -> dict:
        return {"pong": True, "echo": args.get("echo")}

    def _cmd_shutdown(self, args: dict) -> dict:
        self._stop.set()
        return {"stopping": True, "cancelled_jobs": self.jobs.cancel_all()}

    def handle(self, req: Request) -> None:
        builtin = self._builtin.get(req.cmd)
        if builtin is not None:
            self._answer(req, lambda a: builtin(a, req.id))
            return
        self._pool.submit(self._answer_registered, req)

    def _answer_registered(self, req: Request) -> None:
        """Commands from modules: wait (briefly) for them to load after hello."""
        self._commands_loaded.wait(30.0)
        handler = COMMANDS.get(req.cmd)
        if handler is None:
            known = sorted([*self._builtin, *COMMANDS])
            self.send(Error(req.id, E_UNKNOWN_COMMAND, f"unknown command '{req.cmd}'",
                            {"known": known}))
            return
        self._answer(req, lambda a: handler(a, self))

    def _answer(self, req: Request, fn: Any) -> None:
        try:
            result = fn(req.args)
        except JobError as exc:
            self.send(Error(req.id, exc.code, exc.message, exc.details))
        except (TypeError, ValueError, KeyError) as exc:
            log.debug("bad arguments for %s", req.cmd, exc_info=True)
            self.send(Error(req.id, E_BAD_ARGS, f"bad arguments for '{req.cmd}': {exc}"))
        except Exception as exc:  # the server survives any handler bug
            log.error("command %s failed\n%s", req.cmd, traceback.format_exc())
            self.send(Error(req.id, E_INTERNAL, f"'{req.cmd}' failed: {exc}"))
        else:
            self.send(Result(req.id, result if isinstance(result, dict) else {"value": result}))

    def dispatch_line(self, line: bytes) -> None:
        """Answer one line; whatever it holds, the reader goes on with the next one."""
        if not line.strip():
            return
        msg: Request | Unparsed | None = None
        try:
            msg = parse_request(line)
            if isinstance(msg, Request):
                self.handle(msg)
            else:
                self.refuse(msg)
        except Exception as exc:  # a bug: answer the line and keep reading
            log.error("could not answer a line\n%s", traceback.format_exc())
            msg_id = msg.id if isinstance(msg, Request) else None
            self.send(Error(msg_id, E_INTERNAL, f"the backend could not answer the line: {exc}"))

    def refuse(self, bad: Unparsed) -> None:
        """The error reply for a line that is not a valid request (its id when readable)."""
        what = "could not read the line" if bad.code == E_PARSE else "not a valid request"
        self.send(Error(bad.id, bad.code, f"{what}: {bad.reason}", {"line": bad.line[:200]}))

    # main loop ----------------------------------------------------------
    def serve(self, inp: IO[bytes]) -> int:
        self.send(Hello(protocol=PROTOCOL_VERSION, backend=__version__,
                        torch=devices.torch_version(), devices=devices.list_devices(),
                        pid=os.getpid()))
        threading.Thread(target=self._warm_up, name="warm-up", daemon=True).start()
        reader = threading.Thread(target=self._read, args=(inp,), name="stdin", daemon=True)
        reader.start()
        self._stop.wait()
        # finish the line in hand first: a broken pipe can stop us in the middle of job.start
        reader.join(timeout=1.0)
        self.jobs.cancel_all()
        self.jobs.wait_all(timeout=5.0)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.emit("backend.stopped", {})
        return 0

    def _read(self, inp: IO[bytes]) -> None:
        try:
            while not self._stop.is_set():
                line = inp.readline(MAX_LINE_BYTES + 1)
                if not line:
                    return  # stdin closed: the desktop went away
                if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
                    _skip_to_line_end(inp)
                    self.refuse(oversized_line(line))
                else:
                    self.dispatch_line(line)
        except Exception:  # stdin itself failed: nobody can talk to us any more
            log.error("reading stdin failed\n%s", traceback.format_exc())
        finally:
            self._stop.set()

    def _warm_up(self) -> None:
        try:
            problems = load_all()
        finally:
            self._commands_loaded.set()
        for p in problems:
            log.error("command module failed to load: %s", p)
        ready: dict[str, Any] = {"commands": sorted([*self._builtin, *COMMANDS])}
        try:
            import torch

            ready["torch"] = torch.__version__
            ready["cuda"] = bool(torch.cuda.is_available())
            ready["cuda_version"] = torch.version.cuda  # what torch was built with, or None
        except Exception as exc:
            ready["torch_error"] = str(exc)
        if problems:
            ready["problems"] = problems
        self.emit("backend.ready", ready)


def _skip_to_line_end(inp: IO[bytes]) -> None:
    """Drop the rest of a line that is too long, without holding it in memory."""
    while True:
        chunk = inp.readline(1 << 20)
        if not chunk or chunk.endswith(b"\n"):
            return


class _EventLogHandler(logging.Handler):
    """Forwards warnings and errors to the desktop as ``log`` events."""

    def __init__(self, server: Server):
        super().__init__(level=logging.WARNING)
        self._server = server

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self._server.emit("log", {"level": record.levelname.lower(),
                                      "logger": record.name, "message": record.getMessage()})


def protocol_stdout() -> IO[bytes]:
    """Keep fd 1 for the protocol; anything else printed goes to stderr."""
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return open(proto_fd, "wb")


def main(log_file: str | None = None) -> int:
    logging.basicConfig(level=logging.INFO, filename=log_file,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    out = protocol_stdout()
    server = Server(out)
    logging.getLogger().addHandler(_EventLogHandler(server))
    with open(sys.stdin.fileno(), "rb", closefd=False) as inp:  # decoded line by line
        return server.serve(inp)
