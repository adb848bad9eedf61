"""``python -m backend serve``: the JSON Lines server the desktop talks to.

stdout carries protocol lines only: at start the real stdout is duplicated for
the protocol and file descriptor 1 is pointed at stderr, so a library that
prints cannot corrupt the stream.
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
from backend.jobs.base import JobError
from backend.jobs.manager import JobManager
from backend.protocol import (
    E_BAD_ARGS,
    E_INTERNAL,
    E_UNKNOWN_COMMAND,
    PROTOCOL_VERSION,
    Error,
    Event,
    Hello,
    Message,
    Request,
    Result,
    Unparsed,
    encode,
    parse_line,
)

log = logging.getLogger("backend.server")


class Server:
    def __init__(self, out: IO[str]):
        self._out = out
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cmd")
        self.jobs = JobManager(self.emit)
        self.state: dict[str, Any] = {}  # shared objects of command modules (audio player...)
        self._commands_loaded = threading.Event()
        self._builtin = {
            "ping": self._cmd_ping,
            "shutdown": self._cmd_shutdown,
            "job.start": lambda a: self.jobs.start(a),
            "job.cancel": lambda a: self.jobs.cancel(a),
            "job.pause": lambda a: self.jobs.set_paused(a, True),
            "job.resume": lambda a: self.jobs.set_paused(a, False),
            "jobs.list": lambda a: {"jobs": self.jobs.list()},
        }

    # output -------------------------------------------------------------
    def send(self, msg: Message) -> None:
        line = encode(msg)
        with self._write_lock:
            try:
                self._out.write(line)
                self._out.flush()
            except (BrokenPipeError, ValueError, OSError):
                self._stop.set()

    def emit(self, event: str, data: dict) -> None:
        self.send(Event(event=event, data=data))

    # commands -----------------------------------------------------------
    def _cmd_ping(self, args: dict) -> dict:
        return {"pong": True, "echo": args.get("echo")}

    def _cmd_shutdown(self, args: dict) -> dict:
        self._stop.set()
        return {"stopping": True, "cancelled_jobs": self.jobs.cancel_all()}

    def handle(self, req: Request) -> None:
        if req.cmd in self._builtin:
            self._answer(req, self._builtin[req.cmd])
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

    def dispatch_line(self, line: str) -> None:
        if not line.strip():
            return
        msg = parse_line(line)
        if isinstance(msg, Request):
            self.handle(msg)
        elif isinstance(msg, Unparsed):
            self.send(Error(None, "parse_error", f"could not read the line: {msg.reason}",
                            {"line": msg.line[:200]}))
        else:
            self.send(Error(None, "invalid_request",
                            f"the backend only accepts requests, got '{type(msg).__name__}'"))

    # main loop ----------------------------------------------------------
    def serve(self, inp: IO[str]) -> int:
        self.send(Hello(protocol=PROTOCOL_VERSION, backend=__version__,
                        torch=devices.torch_version(), devices=devices.list_devices(),
                        pid=os.getpid()))
        threading.Thread(target=self._warm_up, name="warm-up", daemon=True).start()
        reader = threading.Thread(target=self._read, args=(inp,), name="stdin", daemon=True)
        reader.start()
        self._stop.wait()
        self.jobs.cancel_all()
        self.jobs.wait_all(timeout=5.0)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.emit("backend.stopped", {})
        return 0

    def _read(self, inp: IO[str]) -> None:
        for line in inp:
            self.dispatch_line(line)
            if self._stop.is_set():
                return
        self._stop.set()  # stdin closed: the desktop went away

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


class _EventLogHandler(logging.Handler):
    """Forwards warnings and errors to the desktop as ``log`` events."""

    def __init__(self, server: Server):
        super().__init__(level=logging.WARNING)
        self._server = server

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self._server.emit("log", {"level": record.levelname.lower(),
                                      "logger": record.name, "message": record.getMessage()})


def protocol_stdout() -> IO[str]:
    """Keep fd 1 for the protocol; anything else printed goes to stderr."""
    sys.stdout.flush()
    proto_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return open(proto_fd, "w", encoding="utf-8", newline="\n", buffering=1)


def main(log_file: str | None = None) -> int:
    logging.basicConfig(level=logging.INFO, filename=log_file,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    out = protocol_stdout()
    server = Server(out)
    logging.getLogger().addHandler(_EventLogHandler(server))
    with open(sys.stdin.fileno(), encoding="utf-8", errors="replace", closefd=False) as inp:
        return server.serve(inp)
