"""Argument helpers shared by the job modules."""

from __future__ import annotations

from backend.dataset.project import Project, ProjectError, open_project
from backend.jobs.base import BadArgs


def project_arg(args: dict) -> Project:
    """The project named by ``args["project"]``, or BadArgs saying what is wrong."""
    if not args.get("project"):
        raise BadArgs("'project' is required: the project folder")
    try:
        return open_project(args["project"])
    except ProjectError as exc:
        raise BadArgs(str(exc)) from exc
