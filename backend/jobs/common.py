"""Argument helpers shared by the job modules."""

from __future__ import annotations

from pathlib import Path

from backend.dataset.project import Project, ProjectError, open_project
from backend.jobs.base import BadArgs
from backend.names import safe_name


def project_arg(args: dict) -> Project:
    """The project named by ``args["project"]``, or BadArgs saying what is wrong."""
    if not args.get("project"):
        raise BadArgs("'project' is required: the project folder")
    try:
        return open_project(args["project"])
    except ProjectError as exc:
        raise BadArgs(str(exc)) from exc


def run_folder(project: Project, run: object) -> Path:
    """The folder of training run ``run`` (``main`` when empty): ``train/<safe_name(run)>``,
    so a run name never points outside the project."""
    return project.root / "train" / safe_name(run or "main", fallback="main")
