"""Job kinds. Each maps to a module following ``backend.kernel``."""

from __future__ import annotations

import importlib
from types import ModuleType

JOB_MODULES: dict[str, str] = {
    "prepare": "backend.jobs.prepare",
    "import": "backend.jobs.importer",
    "sleep": "backend.jobs.sleep",
    "assets": "backend.jobs.assets",
    "extract": "backend.jobs.extract",
    "train": "backend.jobs.train",
    "index": "backend.jobs.index",
    "export": "backend.jobs.export",
    "live": "backend.jobs.live",
    "convert": "backend.jobs.convert",
    "labels": "backend.jobs.labels",
    "transcribe": "backend.jobs.transcribe",
    "speak": "backend.jobs.speak",
}


def job_module(kind: str) -> ModuleType:
    """Import the module for a job kind (KeyError if the kind is unknown)."""
    return importlib.import_module(JOB_MODULES[kind])
