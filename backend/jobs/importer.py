"""Import recordings into a voice project (originals are only read, never copied)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backend.dataset import project as proj
from backend.dataset.sources import import_sources
from backend.jobs.base import BadArgs, JobContext, JobError
from backend.names import shown_name


@dataclass(frozen=True)
class ProjectTarget:
    """The project a job works on, and how to create it if it does not exist yet."""

    root: Path
    create: dict[str, Any] | None  # {name, sample_rate, model_kind} or None


@dataclass(frozen=True)
class ImportParams:
    target: ProjectTarget
    inputs: tuple[Path, ...]


def parse_target(args: dict) -> ProjectTarget:
    """Check ``project`` (and optional ``create``) without touching the disk."""
    raw = args.get("project")
    if not isinstance(raw, str) or not raw.strip():
        raise BadArgs("'project' must be the path of a project folder")
    root = proj.abs_path(raw)
    create = args.get("create")
    if create is not None and not isinstance(create, dict):
        raise BadArgs("'create' must be an object {name, sample_rate, model_kind}")
    if proj.is_project(root):
        wanted, actual = (create or {}).get("sample_rate"), _sample_rate(root)
        if wanted is not None and actual is not None and wanted != actual:
            raise BadArgs(f"the project at {root} is {actual} Hz, not {wanted} Hz; its "
                          "sample rate cannot change (make a new project for another rate)")
        return ProjectTarget(root, None)
    if create is None:
        raise BadArgs(f"no project at {root}: create it first (project.create)")
    full = {"name": create.get("name") or root.name,
            "sample_rate": create.get("sample_rate") or proj.DEFAULT_SAMPLE_RATE,
            "model_kind": create.get("model_kind") or proj.DEFAULT_MODEL_KIND}
    try:
        proj.check_new_project(root, full["sample_rate"], full["model_kind"])
    except proj.ProjectError as exc:
        raise BadArgs(exc.message) from exc
    return ProjectTarget(root, full)


def _sample_rate(root: Path) -> Any:
    try:
        return proj.open_project(root).sample_rate
    except proj.ProjectError:
        return None


def parse_inputs(args: dict, *, required: bool) -> tuple[Path, ...]:
    raw = args.get("inputs")
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        raise BadArgs("'inputs' must be a list of file or folder paths")
    if required and not raw:
        raise BadArgs("'inputs' is empty: give at least one file or folder to import")
    paths = tuple(proj.abs_path(p) for p in raw)
    for p in paths:
        if not p.exists():
            raise BadArgs(f"input {shown_name(p)} does not exist")
    return paths


def open_target(target: ProjectTarget) -> proj.Project:
    """Open the project, creating it first when asked to (JobError if that fails)."""
    try:
        if target.create is not None and not proj.is_project(target.root):
            return proj.create_project(target.root, **target.create)
        return proj.open_project(target.root)
    except proj.ProjectError as exc:
        raise JobError(exc.message) from exc
    except OSError as exc:
        raise JobError(f"cannot create the project at {target.root}: "
                       f"{exc.strerror or exc}") from exc


def run_import(project: proj.Project, inputs: tuple[Path, ...], ctx: JobContext) -> dict:
    ctx.progress("import", 0, 1, force=True)
    try:
        result = import_sources(project, inputs, check=ctx.check,
                                progress=lambda d, t: ctx.progress("import", d, t))
    except proj.ProjectError as exc:
        raise JobError(exc.message) from exc
    for err in result.errors:
        ctx.log(err["message"], "warning", path=err["path"])
    return result.to_dict()


def prepare(args: dict) -> ImportParams:
    return ImportParams(parse_target(args), parse_inputs(args, required=True))


def exclusive_key(params: ImportParams) -> str:
    return str(params.target.root)


def run(params: ImportParams, ctx: JobContext) -> dict:
    project = open_target(params.target)
    return run_import(project, params.inputs, ctx)


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="audio files or folders (searched recursively)")
    parser.add_argument("--project", required=True, metavar="DIR",
                        help="project folder (created if it does not exist)")
    parser.add_argument("--name", help="project name when creating it (default: folder name)")
    parser.add_argument("--sample-rate", type=int, choices=proj.SAMPLE_RATES,
                        help=f"project sample rate when creating it "
                             f"(default {proj.DEFAULT_SAMPLE_RATE})")
    parser.add_argument("--model-kind", choices=proj.MODEL_KINDS,
                        help=f"model kind when creating it (default {proj.DEFAULT_MODEL_KIND})")


def project_args_from_cli(ns: argparse.Namespace) -> dict:
    return {"project": ns.project, "inputs": list(ns.inputs),
            "create": {"name": ns.name, "sample_rate": ns.sample_rate,
                       "model_kind": ns.model_kind}}


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    add_project_arguments(parser)


def args_from_cli(ns: argparse.Namespace) -> dict:
    return project_args_from_cli(ns)
