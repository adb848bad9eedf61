"""Command line: ``python -m backend serve`` or a headless job verb.

Every job the desktop can start is a verb here and runs the same job code.
Progress goes to stderr; ``--json`` prints one summary line on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback

# Idle OpenMP threads sleep instead of spinning: with 2 cores shared by the GUI, the
# audio engine and a worker pool, spinning threads stall training several times over.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# sounddevice loads its ASIO-enabled PortAudio on Windows only when this is set before its
# first import (live conversion lists ASIO drivers; see docs/live.md)
if sys.platform == "win32":
    os.environ.setdefault("SD_ENABLE_ASIO", "1")

from backend.jobs import JOB_MODULES, job_module
from backend.jobs.locking import hold_project
from backend.kernel import JobCancelled, JobContext, JobError
from backend.protocol import E_INTERNAL

# verbs hidden from --help (diagnostics and GUI-only helpers)
_HIDDEN = {"sleep", "import"}
_EXIT_FAILED, _EXIT_BAD_ARGS, _EXIT_CANCELLED = 1, 2, 130


_SERVE_HELP = "JSON Lines server for the desktop app"
_SERVE_DESCRIPTION = ("Speak the JSON Lines protocol (docs/protocol.md) on stdin and stdout: "
                      "the desktop app starts this. It stops when stdin closes.")


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-file", help="write logs here instead of stderr")


def _serve_parser() -> argparse.ArgumentParser:
    """``serve`` alone: parsed without importing every job module, so hello comes fast."""
    parser = argparse.ArgumentParser(prog="python -m backend serve",
                                     description=_SERVE_DESCRIPTION)
    _add_serve_arguments(parser)
    return parser


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backend",
                                     description="Timbre Studio backend")
    sub = parser.add_subparsers(dest="verb", required=True)
    _add_serve_arguments(sub.add_parser("serve", help=_SERVE_HELP,
                                        description=_SERVE_DESCRIPTION))
    for kind in JOB_MODULES:
        try:
            module = job_module(kind)
        except ModuleNotFoundError:
            continue
        doc = (module.__doc__ or "").strip().splitlines()
        p = sub.add_parser(kind, help=None if kind in _HIDDEN else (doc[0] if doc else kind),
                           description=module.__doc__)
        module.add_cli_arguments(p)
        p.add_argument("--json", action="store_true", help="print one JSON summary line")
    return parser


class _CliReporter:
    """Prints job events to stderr as a person would want to read them."""

    def __init__(self, as_json: bool):
        self.as_json = as_json
        self._last_stage = None

    def __call__(self, event: str, data: dict) -> None:
        if event == "job.progress":
            stage, done, total = data["stage"], data["done"], data["total"]
            if data.get("detail"):
                stage = f"{stage} {data['detail']}"
            pct = f"{100 * done / total:5.1f}%" if total else ""
            eta = f" eta {data['eta']:.0f}s" if data.get("eta") is not None else ""
            end = "\n" if done >= total or stage != self._last_stage else "\r"
            self._last_stage = stage
            sys.stderr.write(f"{stage}: {done}/{total} {pct}{eta}{' ' * 8}{end}")
        elif event == "log":
            sys.stderr.write(f"[{data.get('level', 'info')}] {data.get('message')}\n")
        elif event == "live.state":
            why = f": {data['reason']}" if data.get("reason") else ""
            sys.stderr.write(f"live {data.get('state')}{why}\n")
        elif event == "live.stats" and not self.as_json:
            lat = data["latency_ms"]
            sys.stderr.write(f"latency {lat['total']:.0f} ms, compute {data['compute_ms']:.0f}"
                             f" ms/block (rtf {data['rtf']:.2f}), xruns {data['xruns']}, "
                             f"dropped {data['dropped_blocks']}, in {data['input_db']:.0f} dB"
                             f"{' ' * 8}\r")
        elif event == "job.paused":
            sys.stderr.write("paused: type c and Enter to continue\n" if data.get("paused")
                             else "continuing\n")
        sys.stderr.flush()


def run_job_cli(kind: str, ns: argparse.Namespace) -> int:
    module = job_module(kind)
    reporter = _CliReporter(ns.json)
    try:
        params = module.prepare(module.args_from_cli(ns))
    except Exception as exc:
        code = _failed(ns.json, exc)
        return _EXIT_BAD_ARGS if code == "bad_arguments" else _EXIT_FAILED
    ctx = JobContext("cli", kind, reporter)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda *_: ctx.cancel())
        signal.signal(signal.SIGTERM, lambda *_: ctx.cancel())
    if getattr(module, "PAUSABLE", False):
        _listen_for_pause(ctx)
    held = None
    try:
        held = hold_project(module, params, kind=kind, job_id="cli", via="the command line")
        result = module.run(params, ctx)
    except JobCancelled:
        _finish(ns.json, {"status": "cancelled"})
        sys.stderr.write("cancelled\n")
        return _EXIT_CANCELLED
    except Exception as exc:
        _failed(ns.json, exc)
        return _EXIT_FAILED
    finally:
        if held is not None:
            held.release()
    if ctx.cancelled:  # stopped gracefully (training writes a checkpoint first)
        _finish(ns.json, {"status": "cancelled", "result": result})
        sys.stderr.write("stopped\n")
        return _EXIT_CANCELLED
    _finish(ns.json, {"status": "ok", "result": result})
    return 0


def _failed(as_json: bool, exc: Exception) -> str:
    """Report a failure (a JobError's code and message; anything else is a bug, reported
    as ``internal_error`` with its traceback); returns the code."""
    if isinstance(exc, JobError):
        error = {"code": exc.code, "message": exc.message, "details": exc.details}
    else:
        traceback.print_exc(file=sys.stderr)
        error = {"code": E_INTERNAL, "message": f"{type(exc).__name__}: {exc}", "details": {}}
    _finish(as_json, {"status": "failed", "error": error})
    sys.stderr.write(f"error: {error['message']}\n")
    return error["code"]


def _listen_for_pause(ctx: JobContext) -> None:
    """Pause, continue and stop a running job from the terminal (or SIGUSR1/SIGUSR2)."""
    if hasattr(signal, "SIGUSR1") and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGUSR1, lambda *_: ctx.pause())
        signal.signal(signal.SIGUSR2, lambda *_: ctx.resume())
    if sys.stdin is None or not sys.stdin.isatty():
        return
    sys.stderr.write("type p and Enter to pause, c to continue, s to stop "
                     "(a checkpoint is written first)\n")

    def read() -> None:
        actions = {"p": ctx.pause, "c": ctx.resume, "s": ctx.cancel}
        for line in sys.stdin:
            action = actions.get(line.strip().lower()[:1])
            if action is not None:
                action()

    threading.Thread(target=read, name="cli-keys", daemon=True).start()


def _finish(as_json: bool, summary: dict) -> None:
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    elif summary.get("status") == "ok":
        text = json.dumps(summary.get("result"), ensure_ascii=False, indent=2)
        sys.stderr.write(f"done: {text}\n")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["serve"]:  # fast path: hello before argparse builds every verb
        ns = _serve_parser().parse_args(argv[1:])  # --help prints and exits here
        from backend import server

        return server.main(ns.log_file)
    ns = _build_parser().parse_args(argv)
    return run_job_cli(ns.verb, ns)


if __name__ == "__main__":
    sys.exit(main())
