"""One prepared project (espeak-ng speech, the real prepare job) shared by the labels tests;
each test works on a copy of it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.labels.helpers import prepared_project, voices


@pytest.fixture(scope="session")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("labels")
    root = base / "我的 声音 project"  # spaces and Chinese characters
    prepared_project(root, voices(base / "voices"))
    return root


@pytest.fixture
def root(prepared: Path, tmp_path: Path) -> Path:
    """A fresh copy of the prepared project (its clip paths are relative to the project;
    the recordings stay where they are)."""
    dst = tmp_path / "副本 copy"
    shutil.copytree(prepared, dst)
    return dst
