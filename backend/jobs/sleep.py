"""A diagnostic job: counts for a while, writing a file atomically at the end.

Used by tests and by ``python -m backend sleep`` to exercise progress,
cancellation and failure paths without any audio work. With ``project`` it holds
that project's lock while it runs, as a writing job does.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass
from pathlib import Path

from backend.kernel import BadArgs, JobContext, JobError

PAUSABLE = True


@dataclass(frozen=True)
class SleepParams:
    seconds: float
    steps: int
    out: Path | None
    fail: bool
    project: Path | None = None


def prepare(args: dict) -> SleepParams:
    seconds = args.get("seconds", 1.0)
    if not isinstance(seconds, (int, float)) or not 0 <= seconds <= 3600:
        raise BadArgs("'seconds' must be a number between 0 and 3600")
    steps = args.get("steps", 10)
    if not isinstance(steps, int) or steps < 1:
        raise BadArgs("'steps' must be a positive integer")
    out = args.get("out")
    project = args.get("project")
    if project is not None and (not isinstance(project, str) or not project.strip()):
        raise BadArgs("'project' must be the path of a folder")
    return SleepParams(float(seconds), steps, Path(out) if out else None, bool(args.get("fail")),
                       Path(project).expanduser() if project else None)


def project_folder(params: SleepParams) -> Path | None:
    return params.project


def run(params: SleepParams, ctx: JobContext) -> dict:
    tmp = None
    if params.out is not None:
        tmp = params.out.with_name(params.out.name + ".part")
        tmp.write_text("")
    try:
        for i in range(params.steps):
            ctx.wait_if_paused()
            ctx.check()
            time.sleep(params.seconds / params.steps)
            if tmp is not None:
                with tmp.open("a") as fh:
                    fh.write(f"{i}\n")
            ctx.progress("sleeping", i + 1, params.steps)
        if params.fail:
            raise JobError("asked to fail", details={"step": params.steps})
        if tmp is not None and params.out is not None:
            os.replace(tmp, params.out)
            tmp = None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return {"steps": params.steps}


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--out")
    parser.add_argument("--fail", action="store_true")
    parser.add_argument("--project", help="hold this project's lock while running")


def args_from_cli(ns: argparse.Namespace) -> dict:
    return {"seconds": ns.seconds, "steps": ns.steps, "out": ns.out, "fail": ns.fail,
            "project": ns.project}
